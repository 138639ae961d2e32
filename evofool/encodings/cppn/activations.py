"""The CPPN node functions, by name and by id, each scaled to roughly [-1, 1].

The first four are the set of the original fooling code (sferes2): sine, sigmoid rescaled to [-1, 1],
Gaussian exp(-x^2), and linear clipped to [-3, 3] then divided by 3. tanh, abs (clipped to [0, 3] and
divided by 3, like linear) and cosine complete the usual Picbreeder set. relu serves the coordinate
networks that ``fit.py`` trains by gradient descent.
"""

from __future__ import annotations

import torch

ACTIVATIONS = {
    "sine": torch.sin,
    "sigmoid": lambda x: 2.0 * torch.sigmoid(x) - 1.0,
    "gaussian": lambda x: torch.exp(-x * x),
    "linear": lambda x: x.clamp(-3.0, 3.0) / 3.0,
    "tanh": torch.tanh,
    "abs": lambda x: x.abs().clamp(max=3.0) / 3.0,
    "cosine": torch.cos,
    "relu": torch.relu,  # unbounded: for networks fitted to a picture (fit.py); mutation never draws it
}
NAMES = list(ACTIVATIONS)
IDS = {name: index for index, name in enumerate(NAMES)}
MUTABLE = ["sine", "sigmoid", "gaussian", "linear", "tanh", "abs", "cosine"]


def apply_grouped_(pre: torch.Tensor, counts: list[int]) -> torch.Tensor:
    """Apply activations in place to the rows of ``pre`` (N x ...), which come grouped by activation id:
    the first ``counts[0]`` rows take function 0, the next ``counts[1]`` function 1, and so on. Rows grouped
    beforehand (the renderer orders each node's genomes by their function) make every group a contiguous
    slice, with no gathering and scattering of rows. Returns ``pre``."""
    start = 0
    for index, count in enumerate(counts):
        if count:
            rows = pre[start : start + count]
            rows.copy_(ACTIVATIONS[NAMES[index]](rows))
            start += count
    return pre
