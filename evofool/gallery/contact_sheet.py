"""A grid of a campaign's elites, each tile captioned with its class name and confidence."""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont


def contact_sheet(elites: list[dict], directory: Path, tile: int = 128, columns: int | None = None) -> Image.Image:
    """The sheet as a PIL image; ``elites`` are manifest entries whose ``image`` is relative to ``directory``."""
    columns = columns or max(1, min(10, math.ceil(math.sqrt(len(elites) or 1))))
    rows = max(1, math.ceil(len(elites) / columns))
    caption = 28
    sheet = Image.new("RGB", (columns * tile, rows * (tile + caption)), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for k, elite in enumerate(elites):
        x, y = (k % columns) * tile, (k // columns) * (tile + caption)
        with Image.open(directory / elite["image"]) as picture:
            sheet.paste(picture.convert("RGB").resize((tile, tile), Image.NEAREST), (x, y))
        draw.text((x + 3, y + tile + 2), _fit(elite["label"], draw, font, tile - 6), fill="black", font=font)
        draw.text((x + 3, y + tile + 14), f"{elite['confidence']:.2%}", fill="dimgray", font=font)
    return sheet


def _fit(text: str, draw, font, width: int) -> str:
    while text and draw.textlength(text, font=font) > width:
        text = text[:-2] + "…" if len(text) > 2 else ""
    return text
