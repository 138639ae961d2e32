"""Galleries of campaign elites: a contact sheet and a static HTML page."""

from __future__ import annotations

from pathlib import Path

from ..campaigns.checkpoint import read_json
from .contact_sheet import contact_sheet
from .html import gallery_html


def write_gallery(directory: str | Path) -> tuple[Path, Path]:
    """contact_sheet.png and index.html for the manifest.json in ``directory``."""
    directory = Path(directory)
    manifest_file = directory / "manifest.json"
    if not manifest_file.exists():
        raise FileNotFoundError(f"{manifest_file} does not exist: run a campaign first")
    manifest = read_json(manifest_file)
    sheet, page = directory / "contact_sheet.png", directory / "index.html"
    contact_sheet(manifest["elites"], directory).save(sheet)
    page.write_text(gallery_html(manifest), encoding="utf-8")
    return sheet, page


__all__ = ["contact_sheet", "gallery_html", "write_gallery"]
