"""Random transforms applied before each gradient step, so that the image must work under all of them.

Each takes a 1 x C x H x W batch and the generator, and returns a transformed batch (differentiably).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def jitter(pixels: int):
    def apply(image, generator):
        dy, dx = (torch.randint(-pixels, pixels + 1, (2,), generator=generator) if pixels else (0, 0))
        return torch.roll(image, shifts=(int(dy), int(dx)), dims=(-2, -1))
    return apply


def scale_and_rotate(max_scale: float, max_degrees: float):
    """Random zoom in [1 - max_scale, 1 + max_scale] and rotation in +- max_degrees, by one affine resample."""
    def apply(image, generator):
        u = torch.rand(2, generator=generator) * 2 - 1
        zoom = 1.0 + max_scale * u[0].item()
        angle = math.radians(max_degrees * u[1].item())
        cos, sin = math.cos(angle) / zoom, math.sin(angle) / zoom
        theta = torch.tensor([[[cos, -sin, 0.0], [sin, cos, 0.0]]], device=image.device, dtype=image.dtype)
        grid = F.affine_grid(theta, list(image.shape), align_corners=False)
        return F.grid_sample(image, grid, padding_mode="reflection", align_corners=False)
    return apply


def total_variation(image: torch.Tensor) -> torch.Tensor:
    return (image[..., 1:, :] - image[..., :-1, :]).abs().mean() + (image[..., :, 1:] - image[..., :, :-1]).abs().mean()
