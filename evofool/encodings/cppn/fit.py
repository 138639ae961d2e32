"""Fit a coordinate network to a picture by gradient descent and keep it as a CPPN genome.

The "draw the Mona Lisa pixel by pixel" experiment: a multilayer perceptron of ReLU units regresses each
pixel's colour from its (x, y) position (here with d and a bias, the CPPN inputs). The trained network is
written as a genome that the CPPN renderer draws, so it re-renders at any size and can seed evolution.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .genome import INPUTS
from .io import FORMAT, output_names
from .render import coordinate_grid


@dataclass
class FitResult:
    genome: dict
    image: torch.Tensor  # C x H x W, the network's rendering at the training size
    psnr: float
    seconds: float
    frames: list[torch.Tensor] = field(default_factory=list)


def save_fit(result: FitResult, out, summary: dict) -> None:
    """fitted.png, genome.json, learning.gif and fit.json (``summary`` plus PSNR and seconds) in ``out``."""
    import json
    from pathlib import Path

    from ...images import save_gif, save_png

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_png(result.image, out / "fitted.png")
    (out / "genome.json").write_text(json.dumps(result.genome, indent=1) + "\n")
    if result.frames:
        save_gif(result.frames, out / "learning.gif")
    (out / "fit.json").write_text(json.dumps(dict(summary, psnr=result.psnr, seconds=result.seconds), indent=2) + "\n")


def coordinate_mlp(layers: int, width: int, channels: int) -> nn.Sequential:
    """Inputs (x, y, d) -> ``layers`` x Linear+ReLU of ``width`` units -> Linear to ``channels`` (biases on)."""
    modules, size = [], len(INPUTS) - 1
    for _ in range(layers):
        modules += [nn.Linear(size, width), nn.ReLU()]
        size = width
    modules.append(nn.Linear(size, channels))
    return nn.Sequential(*modules)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB of two images in [0, 1]."""
    mse = F.mse_loss(a, b).item()
    return float("inf") if mse == 0 else 10 * math.log10(1.0 / mse)


def fit_picture(picture: torch.Tensor, layers: int = 4, width: int = 16, epochs: int = 1000, lr: float = 3e-3,
                frames: int = 24, seed: int = 0, device=None) -> FitResult:
    """Train a coordinate network on ``picture`` (C x H x W in [0, 1]); returns its genome and rendering.

    ``frames`` renderings taken during training make the learning animation.
    """
    if layers < 1 or width < 1 or epochs < 1:
        raise ValueError("layers, width and epochs must be at least 1")
    torch.manual_seed(seed)
    channels, height, width_px = picture.shape
    device = device or picture.device
    grid = coordinate_grid(height, width_px, device)[:3].T  # pixels x (x, y, d)
    target = picture.to(device).reshape(channels, -1).T
    model = coordinate_mlp(layers, width, channels).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    snapshots, every = [], max(1, epochs // max(frames, 1))
    start = time.perf_counter()
    for epoch in range(epochs):
        loss = F.mse_loss(torch.sigmoid(model(grid)), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if frames and (epoch % every == 0 or epoch == epochs - 1):
            with torch.no_grad():
                snapshots.append(torch.sigmoid(model(grid)).T.reshape(channels, height, width_px).cpu())
    with torch.no_grad():
        image = torch.sigmoid(model(grid)).T.reshape(channels, height, width_px).cpu()
    return FitResult(mlp_to_genome(model, channels), image, psnr(image, picture.cpu()),
                     time.perf_counter() - start, snapshots)


def mlp_to_genome(model: nn.Sequential, channels: int) -> dict:
    """The genome dict of a coordinate MLP: one relu node per unit, biases as weights from the bias input."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    sources = list(INPUTS[:3])
    nodes, connections = [], []
    for depth, linear in enumerate(linears):
        last = depth == len(linears) - 1
        names = output_names(channels) if last else [f"l{depth}u{k}" for k in range(linear.out_features)]
        if not last:
            nodes += [{"id": name, "activation": "relu"} for name in names]
        weight, bias = linear.weight.detach().cpu().tolist(), linear.bias.detach().cpu().tolist()
        for k, name in enumerate(names):
            connections += [{"from": src, "to": name, "weight": w} for src, w in zip(sources, weight[k])]
            connections.append({"from": "bias", "to": name, "weight": bias[k]})
        sources = names
    return {"format": FORMAT, "color_mode": "rgb", "inputs": list(INPUTS),
            "outputs": output_names(channels), "nodes": nodes, "connections": connections}
