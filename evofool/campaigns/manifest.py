"""Reading a campaign's manifest.json as untrusted input: every elite checked before it is used.

The gallery links to an elite's files and the transfer command opens them, so a manifest that points
outside its campaign folder (``../../etc/passwd``, an absolute path) or carries a URL (``javascript:...``)
is refused, with the file and the elite named.
"""

from __future__ import annotations

import math
from pathlib import Path, PurePosixPath

from .checkpoint import CorruptFileError, read_json


def inside(directory: Path, value, what: str) -> Path:
    """``directory / value`` for a relative path that stays inside ``directory``; ValueError otherwise."""
    if not isinstance(value, str) or not value or "\\" in value or ":" in value:
        raise ValueError(f"{what} {value!r} is not a relative path")
    relative = PurePosixPath(value)
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"{what} {value!r} leads outside the campaign folder")
    return directory / relative


def read_manifest(directory: str | Path) -> dict:
    """The manifest of the campaign in ``directory``, each elite checked: a label, an index, a confidence in
    [0, 1], an image (and genome) inside the folder that exists. CorruptFileError names what is wrong."""
    directory = Path(directory)
    path = directory / "manifest.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: run a campaign first")
    manifest = read_json(path)
    elites = manifest.get("elites") if isinstance(manifest, dict) else None
    if not isinstance(elites, list):
        raise CorruptFileError(f"{path}: no list of elites")
    for k, elite in enumerate(elites):
        try:
            if not isinstance(elite, dict) or not isinstance(elite.get("label"), str):
                raise ValueError("needs a string label")
            if isinstance(elite.get("index"), bool) or not isinstance(elite.get("index"), int):
                raise ValueError("needs an integer index")
            confidence = elite.get("confidence")
            if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not (
                    math.isfinite(confidence) and 0 <= confidence <= 1):
                raise ValueError(f"confidence {confidence!r} is not in [0, 1]")
            if not inside(directory, elite.get("image"), "image").is_file():
                raise ValueError(f"image {elite['image']!r} does not exist")
            if elite.get("genome") is not None:
                inside(directory, elite["genome"], "genome")
        except ValueError as error:
            raise CorruptFileError(f"{path}: elite {k}: {error}") from None
    return manifest
