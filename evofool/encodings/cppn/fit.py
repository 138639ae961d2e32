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


class Sine(nn.Module):
    """sin(omega * x): the SIREN unit (Sitzmann et al. 2020). omega is folded into the weights on export, so
    the genome's plain sine nodes draw the same picture."""

    def __init__(self, omega: float):
        super().__init__()
        self.omega = omega

    def forward(self, x):
        return torch.sin(self.omega * x)


class FourierFeatures(nn.Module):
    """Fixed random frequencies over (x, y): sin(B x) and cos(B x) for B ~ N(0, scale^2) (Tancik et al. 2020),
    so that ReLU layers after it can draw fine detail. Exported as sine and cosine nodes."""

    def __init__(self, features: int, scale: float):
        super().__init__()
        frequencies = torch.randn(features, len(INPUTS) - 1) * scale
        frequencies[:, 2] = 0.0  # over x and y only
        self.register_buffer("frequencies", frequencies)

    def forward(self, coordinates):
        phase = coordinates @ self.frequencies.T
        return torch.cat([torch.sin(phase), torch.cos(phase)], -1)


ACTIVATIONS = ("sine", "relu")


def coordinate_network(layers: int, width: int, channels: int, activation: str = "sine", fourier: int = 0,
                       fourier_scale: float = 10.0, omega: float = 30.0) -> nn.Sequential:
    """Inputs (x, y, d) -> [``fourier`` sine/cosine features] -> ``layers`` x Linear + activation of ``width``
    units -> Linear to ``channels``. Sine layers start as SIREN prescribes (first layer U(-1/n, 1/n), later
    ones U(-sqrt(6/n)/omega, sqrt(6/n)/omega)), ReLU layers with torch's default."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    modules, size = [], len(INPUTS) - 1
    if fourier:
        modules.append(FourierFeatures(fourier, fourier_scale))
        size = 2 * fourier
    for depth in range(layers):
        linear = nn.Linear(size, width)
        if activation == "sine":
            bound = 1 / size if depth == 0 and not fourier else math.sqrt(6 / size) / omega
            nn.init.uniform_(linear.weight, -bound, bound)
        modules += [linear, Sine(omega) if activation == "sine" else nn.ReLU()]
        size = width
    output = nn.Linear(size, channels)
    if activation == "sine":
        nn.init.uniform_(output.weight, -math.sqrt(6 / size) / omega, math.sqrt(6 / size) / omega)
    modules.append(output)
    return nn.Sequential(*modules)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB of two images in [0, 1]."""
    mse = F.mse_loss(a, b).item()
    return float("inf") if mse == 0 else 10 * math.log10(1.0 / mse)


def fit_picture(picture: torch.Tensor, layers: int = 3, width: int = 256, epochs: int = 1000,
                lr: float = 1e-3, activation: str = "sine", fourier: int = 0, fourier_scale: float = 10.0,
                omega: float = 30.0, frames: int = 24, seed: int = 0, device=None) -> FitResult:
    """Train a coordinate network on ``picture`` (C x H x W in [0, 1]); returns its genome and rendering.

    Full-batch Adam for ``epochs`` steps with a cosine-decaying learning rate ``lr`` (1e-3 by measurement
    on the astronaut at 128 px: 3e-4 reached 21.9 dB in 100 steps where 1e-3 reached 28.2; tiny networks
    want about 1e-2). ``frames`` renderings taken during training make the learning animation.
    """
    if layers < 1 or width < 1 or epochs < 1:
        raise ValueError("layers, width and epochs must be at least 1")
    if fourier < 0:
        raise ValueError(f"fourier features must be 0 or more, got {fourier}")
    torch.manual_seed(seed)
    channels, height, width_px = picture.shape
    device = device or picture.device
    grid = coordinate_grid(height, width_px, device)[:3].T  # pixels x (x, y, d)
    target = picture.to(device).reshape(channels, -1).T
    model = coordinate_network(layers, width, channels, activation, fourier, fourier_scale, omega).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
    snapshots, every = [], max(1, epochs // max(frames, 1))
    start = time.perf_counter()
    for epoch in range(epochs):
        loss = F.mse_loss(torch.sigmoid(model(grid)), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if frames and (epoch % every == 0 or epoch == epochs - 1):
            with torch.no_grad():
                snapshots.append(torch.sigmoid(model(grid)).T.reshape(channels, height, width_px).cpu())
    with torch.no_grad():
        image = torch.sigmoid(model(grid)).T.reshape(channels, height, width_px).cpu()
    return FitResult(network_to_genome(model, channels), image, psnr(image, picture.cpu()),
                     time.perf_counter() - start, snapshots)


def network_to_genome(model: nn.Sequential, channels: int) -> dict:
    """The genome dict of a coordinate network: one node per unit (sine, cosine or relu), biases as weights
    from the bias input, a SIREN's omega folded into the weights, Fourier features as fixed sine and cosine
    nodes over x and y."""
    sources, nodes, connections = list(INPUTS[:3]), [], []

    def layer(names, activations, weight, bias):
        nodes.extend({"id": name, "activation": act} for name, act in zip(names, activations) if act)
        for k, name in enumerate(names):
            connections.extend({"from": src, "to": name, "weight": w} for src, w in zip(sources, weight[k]) if w)
            if bias is not None:
                connections.append({"from": "bias", "to": name, "weight": bias[k]})

    modules = list(model)
    for depth, module in enumerate(modules):
        if isinstance(module, FourierFeatures):
            count = module.frequencies.shape[0]
            names = [f"f{k}" for k in range(2 * count)]
            weight = module.frequencies.repeat(2, 1).cpu().tolist()
            layer(names, ["sine"] * count + ["cosine"] * count, weight, None)
            sources = names
        elif isinstance(module, nn.Linear):
            following = modules[depth + 1] if depth + 1 < len(modules) else None
            scale = following.omega if isinstance(following, Sine) else 1.0
            weight = (module.weight.detach() * scale).cpu().tolist()
            bias = (module.bias.detach() * scale).cpu().tolist()
            if following is None:
                layer(output_names(channels), [None] * channels, weight, bias)
            else:
                names = [f"l{depth}u{k}" for k in range(module.out_features)]
                layer(names, ["sine" if isinstance(following, Sine) else "relu"] * len(names), weight, bias)
                sources = names
    return {"format": FORMAT, "color_mode": "rgb", "inputs": list(INPUTS),
            "outputs": output_names(channels), "nodes": nodes, "connections": connections}
