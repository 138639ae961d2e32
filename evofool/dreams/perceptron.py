"""The perceptron's dream: the 'shallow dream' feedback loop of a one-layer classifier.

Start from noise; at every step add the weights of the class that fires and subtract a smaller share of
the weights of the classes that do not; keep pixels in [0, 1]; feed the result back until nothing
changes. What remains is the class's weight template, the only thing a perceptron can 'see'.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..classifiers import Classifier


@dataclass
class PerceptronDream:
    image: torch.Tensor  # C x H x W in [0, 1]
    fired: list[int]  # the class that fired at each step
    steps: int
    settled: bool


def linear_layer(classifier: Classifier) -> nn.Linear:
    layers = [m for m in classifier.module.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    if len(layers) != 1 or not isinstance(layers[0], nn.Linear):
        raise ValueError(f"{classifier.name} is not a single-layer perceptron")
    return layers[0]


def perceptron_dream(classifier: Classifier, steps: int = 500, rate: float = 0.1, others: float = 0.25,
                     seed: int = 0, tolerance: float = 0.5 / 255) -> PerceptronDream:
    """Run the feedback loop for at most ``steps`` steps; ``others`` is the share subtracted per
    non-firing class, relative to the firing class's weights. It has settled when no pixel moves by half
    an 8-bit level in a step."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    weights = linear_layer(classifier).weight.detach()
    shape = classifier.input_size
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(shape, generator=generator).to(weights.device)
    fired, settled = [], False
    for step in range(1, steps + 1):
        winner = int(classifier.probs(image[None])[0].argmax())
        fired.append(winner)
        rest = torch.cat([weights[:winner], weights[winner + 1 :]]).mean(0)
        update = weights[winner] - others * rest
        new_image = (image + rate * update.view(shape)).clamp(0, 1)
        change = (new_image - image).abs().max().item()
        image = new_image
        if change < tolerance:
            settled = True
            break
    return PerceptronDream(image.cpu(), fired, step, settled)
