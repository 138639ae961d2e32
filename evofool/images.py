"""8-bit images: what is saved is what was scored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError


def quantize(images: torch.Tensor) -> torch.Tensor:
    """Round images in [0, 1] to the 256 levels a PNG stores, staying in float."""
    return images.clamp(0, 1).mul_(255).round_().div_(255)


def to_pil(image: torch.Tensor) -> Image.Image:
    """One C x H x W image in [0, 1] (C = 1 or 3) as an 8-bit PIL image, rounded as ``quantize`` rounds."""
    array = image.detach().clamp(0, 1).mul(255).round().to(torch.uint8).cpu()
    return Image.fromarray(array[0].numpy() if array.shape[0] == 1 else array.permute(1, 2, 0).numpy())


def save_png(image: torch.Tensor, path: str | Path) -> None:
    to_pil(image).save(path)


def save_gif(frames: list[torch.Tensor], path: str | Path, milliseconds: int = 120) -> None:
    """An animated GIF of C x H x W frames in [0, 1], looping."""
    pictures = [to_pil(frame) for frame in frames]
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=milliseconds, loop=0)


def load_image(path: str | Path, channels: int | None = None) -> torch.Tensor:
    """Read an image file as a float C x H x W tensor in [0, 1]; ``channels`` 1 or 3 converts the mode."""
    try:
        with Image.open(path) as picture:
            mode = {1: "L", 3: "RGB"}.get(channels) or ("L" if picture.mode in ("L", "I", "1") else "RGB")
            array = np.asarray(picture.convert(mode), dtype=np.uint8)
    except (FileNotFoundError, IsADirectoryError):
        raise FileNotFoundError(f"image {path} does not exist") from None
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(f"cannot read image {path}: {error}") from None
    tensor = torch.from_numpy(array.copy()).float().div(255)
    return tensor[None] if tensor.ndim == 2 else tensor.permute(2, 0, 1)
