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


def apply_by_id(pre: torch.Tensor, ids: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """Write into row n of ``out`` the activation numbered ``ids[n]`` of row n of ``pre`` (N x ...), with one
    call per distinct id; ``out`` may be a strided view (the renderer's node values). Returns ``out``."""
    present = ids.unique().tolist()
    if len(present) == 1:
        return out.copy_(ACTIVATIONS[NAMES[present[0]]](pre))
    for index in present:
        rows = (ids == index).nonzero().squeeze(1)
        out.index_copy_(0, rows, ACTIVATIONS[NAMES[index]](pre.index_select(0, rows)))  # 5x faster than [rows]
    return out
