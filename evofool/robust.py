"""Robust fooling: the fitness of an image is its mean confidence over transformations of it.

A fooling image that dies when shifted by two pixels says little about what the network sees. The paper's
code scored each image as the mean softmax over 10 crops (four corners and the centre of a slightly larger
copy, and their mirror images); expectation over transformation (Athalye et al. 2018) draws random shifts,
zooms and rotations anew for every evaluation instead. Both score N images x T transforms in one batched
call to the classifier.

A spec names the transforms: ``"crops"`` (the paper's fixed ten), or any of ``shift``, ``scale`` and
``rotate`` joined by commas, each with an optional amount: ``"shift=0.08,scale=0.1,rotate=5"`` (shift as a
fraction of the image's side, scale as the largest relative zoom, rotation in degrees).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# transform -> its amount when the spec gives none
RANDOM_TRANSFORMS = {"shift": 0.08, "scale": 0.1, "rotate": 5.0}
TRANSFORMS = ("crops", *RANDOM_TRANSFORMS)
CROP_ENLARGEMENT = 256 / 224  # the paper's crops: 224 px windows of a 256 px image


def parse_robust(spec: str) -> dict[str, float]:
    """The spec as {transform: amount}; a one-line error names unknown transforms and lists the known ones."""
    parts = [part.strip() for part in spec.split(",") if part.strip()]
    if not parts:
        raise ValueError(f"--robust needs transforms: {', '.join(TRANSFORMS)}")
    parsed = {}
    for part in parts:
        name, _, amount = part.partition("=")
        name = name.strip()
        if name not in TRANSFORMS:
            raise ValueError(f"unknown robust transform {name!r}; choose from {', '.join(TRANSFORMS)}")
        if name == "crops":
            if amount:
                raise ValueError("the crops transform takes no amount (it is the paper's fixed ten crops)")
            parsed[name] = 0.0
            continue
        try:
            value = float(amount) if amount else RANDOM_TRANSFORMS[name]
        except ValueError:
            raise ValueError(f"robust transform {name}: amount {amount!r} is not a number") from None
        if not (0 <= value < (180 if name == "rotate" else 1)) or math.isnan(value):
            raise ValueError(f"robust transform {name}: amount {value} is out of range")
        parsed[name] = value
    if "crops" in parsed and len(parsed) > 1:
        raise ValueError("crops is a fixed set of ten views; use it alone, or shift/scale/rotate")
    return parsed


def ten_crops(images: torch.Tensor) -> torch.Tensor:
    """N x C x H x W -> N*10 views: the four corners and the centre of the image enlarged by 256/224, and
    each of them mirrored left to right (views of one image are consecutive)."""
    n, c, h, w = images.shape
    big_h, big_w = round(h * CROP_ENLARGEMENT), round(w * CROP_ENLARGEMENT)
    big = F.interpolate(images, size=(big_h, big_w), mode="bilinear", align_corners=False, antialias=False)
    dy, dx = big_h - h, big_w - w
    corners = [(0, 0), (0, dx), (dy, 0), (dy, dx), (dy // 2, dx // 2)]
    crops = torch.stack([big[:, :, y : y + h, x : x + w] for y, x in corners], 1)  # N x 5 x C x H x W
    return torch.cat([crops, crops.flip(-1)], 1).reshape(n * 10, c, h, w)


def random_views(images: torch.Tensor, samples: int, transforms: dict[str, float],
                 generator: torch.Generator) -> torch.Tensor:
    """N x C x H x W -> N*samples random affine views (shift, zoom, rotation as ``transforms`` allows), by one
    batched resample with reflected borders (views of one image are consecutive)."""
    n = images.shape[0]
    u = torch.rand(n * samples, 4, generator=generator, device=generator.device).to(images.device) * 2 - 1
    zoom = 1 + transforms.get("scale", 0.0) * u[:, 0]
    angle = torch.deg2rad(transforms.get("rotate", 0.0) * u[:, 1])
    shift = 2 * transforms.get("shift", 0.0) * u[:, 2:]  # affine_grid's coordinates span 2 per side
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    views = images.repeat_interleave(samples, 0)
    grid = F.affine_grid(theta.to(images.dtype), list(views.shape), align_corners=False)
    return F.grid_sample(views, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def check_robust(spec: str, samples: int) -> dict[str, float]:
    """The parsed spec; one-line errors for unknown transforms or fewer than one sample."""
    if samples < 1:
        raise ValueError(f"robust samples must be at least 1, got {samples}")
    return parse_robust(spec)


class RobustFitness:
    """Mean target-class confidence of each image over its views: the ten crops, or ``samples`` random views
    drawn anew on every call from ``generator`` (the run's, so a resumed run draws the same views).
    ``precise`` scores in fp32 whatever the classifier's precision (for reported figures)."""

    def __init__(self, classifier, target_index: int, spec: str, samples: int, generator: torch.Generator,
                 precise: bool = False):
        self.classifier, self.target_index, self.generator = classifier, target_index, generator
        self.precise = precise
        self.transforms = check_robust(spec, samples)
        self.samples = 10 if "crops" in self.transforms else samples

    def views(self, images: torch.Tensor) -> torch.Tensor:
        images = self.classifier.prepare_size(images)
        if "crops" in self.transforms:
            return ten_crops(images)
        return random_views(images, self.samples, self.transforms, self.generator)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Images N x C x H x W in [0, 1] (as saved) -> N mean confidences, in one scoring call."""
        probs = self.classifier.probs(self.views(images), precise=self.precise)[:, self.target_index]
        return probs.view(-1, self.samples).mean(1)
