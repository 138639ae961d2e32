"""Galleries of campaign elites: a contact sheet and a static HTML page."""

from __future__ import annotations

from pathlib import Path

from ..campaigns.manifest import read_manifest
from .contact_sheet import contact_sheet
from .html import gallery_html


def write_gallery(directory: str | Path) -> tuple[Path, Path]:
    """contact_sheet.png and index.html for the manifest.json in ``directory``."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    sheet, page = directory / "contact_sheet.png", directory / "index.html"
    contact_sheet(manifest["elites"], directory).save(sheet)
    page.write_text(gallery_html(manifest), encoding="utf-8")
    return sheet, page


__all__ = ["contact_sheet", "gallery_html", "write_gallery"]
