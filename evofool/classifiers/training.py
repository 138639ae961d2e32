"""Supervised training of the small shipped networks: the shipped LeNet's script and ``evofool retrain`` share it."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn


def train(module: nn.Module, images: torch.Tensor, labels: torch.Tensor, epochs: int, normalize: Callable,
          lr: float = 2e-3, batch_size: int = 128, seed: int = 0, flips: bool = True,
          on_epoch: Callable[[int, float], None] | None = None) -> nn.Module:
    """Adam with a one-cycle schedule on (``images`` in [0, 1], ``labels``), random horizontal flips when
    ``flips`` (clothes are left-right symmetric); ``on_epoch(epoch, last loss)`` after each epoch."""
    generator = torch.Generator().manual_seed(seed)
    steps = max(1, len(images) // batch_size)
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=epochs * steps)
    for epoch in range(epochs):
        module.train()
        order = torch.randperm(len(images), generator=generator)
        for i in range(steps):
            batch = order[i * batch_size : (i + 1) * batch_size]
            x = normalize(images[batch])
            if flips:
                flip = torch.rand(len(batch), generator=generator) < 0.5
                x = torch.where(flip[:, None, None, None], x.flip(-1), x)
            loss = F.cross_entropy(module(x), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        if on_epoch is not None:
            on_epoch(epoch + 1, loss.item())
    return module.eval()


def predict(module: nn.Module, images: torch.Tensor, normalize: Callable, batch_size: int = 2000) -> torch.Tensor:
    """The predicted class of every image (in [0, 1])."""
    module.eval()
    with torch.inference_mode():
        return torch.cat([module(normalize(images[i : i + batch_size])).argmax(1)
                          for i in range(0, len(images), batch_size)])


def accuracy(module: nn.Module, images: torch.Tensor, labels: torch.Tensor, normalize: Callable) -> float:
    """The fraction of ``images`` the module classifies as ``labels``."""
    return (predict(module, images, normalize) == labels).float().mean().item()
