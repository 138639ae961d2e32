"""8-bit images: what is saved is what was scored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError


def quantize(images: torch.Tensor) -> torch.Tensor:
    """Round images in [0, 1] to the 256 levels a PNG stores, staying in float (a new tensor)."""
    return quantize_(images.clone(memory_format=torch.contiguous_format))


def quantize_(images: torch.Tensor) -> torch.Tensor:
    """``quantize`` in place, each step over the whole batch at once. Rounding in cache-sized blocks, as this
    did before, was slower inside a search loop: every step of every block is a parallel region whose
    sleeping OpenMP threads must be woken (torch waits passively, see ``evofool/__init__``), which cost
    3.4 ms a generation against 1.2 whole (33 images at 224 px, EfficientNet-Lite0 on OpenVINO, 2 cores)."""
    return images.clamp_(0, 1).mul_(255).round_().div_(255)


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


MAX_PIXELS = 64_000_000  # larger images are refused before they are decoded (Pillow's bomb check is at 89 M)


def load_image(path: str | Path, channels: int | None = None) -> torch.Tensor:
    """Read an image file as a float C x H x W tensor in [0, 1]; ``channels`` 1 or 3 converts the mode.

    Every mode Pillow reads keeps its true value range: 16-bit and 32-bit gray are scaled by their own
    maximum (a 16-bit mid-grey is 0.5, not white), float images are taken as [0, 1]. Unreadable files and
    images over ``MAX_PIXELS`` are refused with one line, before decoding.
    """
    try:
        with Image.open(path) as picture:
            if picture.width * picture.height > MAX_PIXELS:
                raise ValueError(f"image {path} is {picture.width} x {picture.height} pixels; evofool reads at most "
                                 f"{MAX_PIXELS:,} (scale it down first)")
            tensor = _as_unit_tensor(picture)
    except (FileNotFoundError, IsADirectoryError):
        raise FileNotFoundError(f"image {path} does not exist") from None
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as error:
        raise ValueError(f"cannot read image {path}: {error}") from None
    if channels == 1 and tensor.shape[0] == 3:
        tensor = (tensor * torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)).sum(0, keepdim=True)  # as "L" does
    elif channels == 3 and tensor.shape[0] == 1:
        tensor = tensor.expand(3, -1, -1).clone()
    return tensor


def _as_unit_tensor(picture: Image.Image) -> torch.Tensor:
    """C x H x W in [0, 1] (C = 1 or 3) at the picture's own bit depth."""
    if picture.mode.startswith("I;16") or picture.mode == "I":
        array = np.asarray(picture, dtype=np.float64)
        top = 65535.0 if picture.mode.startswith("I;16") or array.max(initial=0) <= 65535 else 2.0**31 - 1
        return torch.from_numpy((array / top).clip(0, 1).astype(np.float32))[None]
    if picture.mode == "F":
        return torch.from_numpy(np.asarray(picture, dtype=np.float32).clip(0, 1).copy())[None]
    gray = picture.mode in ("L", "1", "LA", "P") and _is_gray(picture)
    array = np.asarray(picture.convert("L" if gray else "RGB"), dtype=np.uint8)
    tensor = torch.from_numpy(array.copy()).float().div(255)
    return tensor[None] if tensor.ndim == 2 else tensor.permute(2, 0, 1)


def _is_gray(picture: Image.Image) -> bool:
    """Whether a mode that may carry colour (a palette) holds gray only."""
    if picture.mode != "P":
        return True
    palette = np.asarray(picture.convert("RGB"), dtype=np.uint8)
    return bool((palette[..., 0] == palette[..., 1]).all() and (palette[..., 1] == palette[..., 2]).all())
