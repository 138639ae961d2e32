"""What a search returns, and how it is written to and read from a result directory."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from .images import save_png

MILESTONES = (0.5, 0.99, 0.999, 0.9999)


@dataclass
class EvolutionResult:
    """The best image a search found and how it got there.

    ``image`` is C x H x W in [0, 1], already on the 8-bit grid; ``genome_dict`` is the genome as a JSON-ready
    graph for encodings that have one (CPPN), written as best.json; ``confidence`` and ``top5`` are the
    classifier's verdict on exactly that image. ``milestones`` maps each threshold of ``MILESTONES`` to the
    generation, evaluations and seconds at which the best fitness first reached it (or None).
    ``evaluations`` counts forward passes; gradient methods also count ``backward_passes``. ``stopped_by``
    says what ended an evolutionary search: the target confidence, the evaluation budget or the generations.
    """

    model: str
    target: str
    target_index: int
    method: str
    image: torch.Tensor
    genome: torch.Tensor | None
    confidence: float
    top5: list[tuple[str, int, float]]
    generations: int
    evaluations: int
    seconds: float
    seed: int
    config: dict
    logbook: list[dict] = field(default_factory=list)
    milestones: dict = field(default_factory=dict)
    genome_dict: dict | None = None
    backward_passes: int = 0
    stopped_by: str | None = None  # "target", "budget" or "generations" (evolutionary searches)
    robust_confidence: float | None = None  # mean over transformed views, for robust searches

    def summary(self) -> dict:
        """Everything but the tensors, as JSON-ready data (the content of result.json)."""
        data = asdict(self)
        for key in ("image", "genome", "logbook", "genome_dict"):
            data.pop(key)
        data["top5"] = [{"label": label, "index": index, "confidence": p} for label, index, p in self.top5]
        data["milestones"] = {str(k): v for k, v in self.milestones.items()}
        return data


def milestones_from_logbook(logbook, thresholds=MILESTONES) -> dict:
    """First generation (with evaluations and seconds) where the best fitness reached each threshold."""
    found = {}
    for threshold in thresholds:
        row = next((r for r in logbook if r["best"] >= threshold), None)
        found[threshold] = None if row is None else {k: row[k] for k in ("gen", "evals", "seconds")}
    return found


RESULT_FILES = ("result.json", "best.png", "dream.png", "best.json", "logbook.csv")


def check_writable(out: str | Path, force: bool = False, marker: str = "result.json",
                   owned: tuple[str, ...] = RESULT_FILES) -> Path:
    """Check an output directory before any work, with a one-line error for each way it can fail.

    ``out`` must be a directory (or not exist yet) that this process can write in. A directory that holds
    ``marker`` holds an earlier result of evofool's: replaced only with ``force``. A directory without the
    marker that holds any of the ``owned`` names (the files the command writes) holds someone else's files
    of those names: refused even with ``force``, which only ever replaces evofool's own results.
    """
    if not str(out).strip():
        raise ValueError("--out is empty: name a directory for the results")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {out} is a file, not a directory")
    if out.is_dir():
        if (out / marker).exists():
            if not force:
                raise FileExistsError(f"{out} already holds a result; choose another --out or pass --force")
        else:
            clashes = [name for name in owned if (out / name).exists()]
            if clashes:
                raise FileExistsError(f"{out} holds files evofool did not write ({', '.join(clashes)}) and would "
                                      f"overwrite; choose another --out")
    _probe_writable(out)
    return out


def _probe_writable(out: Path) -> None:
    """Write and remove a probe file in ``out`` (creating it and removing it again if it did not exist), so a
    read-only place fails now rather than after the search; root ignores permission bits, a probe does not."""
    created = []
    try:
        for parent in reversed([out, *out.parents]):
            if not parent.exists():
                parent.mkdir()
                created.append(parent)
        probe = out / f".evofool-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise PermissionError(f"cannot write to --out {out}: {error.strerror or error}") from None
    finally:
        for directory in reversed(created):
            try:
                directory.rmdir()
            except OSError:
                pass


def save_result(result: EvolutionResult, out: str | Path, force: bool = False, image_name: str = "best.png") -> Path:
    """Write the image (``image_name``), result.json and logbook.csv into ``out``."""
    out = check_writable(out, force)
    out.mkdir(parents=True, exist_ok=True)
    save_png(result.image, out / image_name)
    if result.genome_dict is not None:
        (out / "best.json").write_text(json.dumps(result.genome_dict, indent=1) + "\n")
    if result.logbook:
        write_logbook(result.logbook, out / "logbook.csv")
    (out / "result.json").write_text(json.dumps(result.summary(), indent=2) + "\n")
    return out


def write_logbook(rows: list[dict], path: str | Path) -> None:
    """A logbook (list of dicts with the same keys) as CSV."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
