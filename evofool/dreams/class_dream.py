"""Class visualization by gradient ascent (Simonyan et al. 2013): the 'dream' beside evolution.

It scores through the same :class:`Classifier` the GA uses, and returns the same result type, so
evolution and gradient ascent are compared on equal terms: confidence is always that of the clean 8-bit
image as saved, and every forward and backward pass is counted.
"""

from __future__ import annotations

import time
from typing import Callable

import torch

from ..classifiers import Classifier
from ..images import quantize
from ..results import EvolutionResult, milestones_from_logbook
from .parameterizations import fourier, sigmoid_pixels
from .transforms import jitter, scale_and_rotate, total_variation

OBJECTIVES = ("logit", "logprob")
PARAMETERIZATIONS = ("sigmoid", "fourier")


def dream(
    classifier: Classifier,
    target: int | str,
    steps: int = 100,
    seed: int = 0,
    start: str | torch.Tensor = "noise",
    objective: str = "logit",
    parameterization: str = "sigmoid",
    lr: float = 0.1,
    l2: float = 0.0,
    tv: float = 0.0,
    jitter_pixels: int = 0,
    max_scale: float = 0.0,
    max_degrees: float = 0.0,
    target_confidence: float | None = 0.9999,
    on_step: Callable[[dict], None] | None = None,
) -> EvolutionResult:
    """Ascend the target class's logit (or log-probability) from ``start`` with Adam.

    ``start`` is "noise" (uniform pixels), "gray", or a C x H x W image in [0, 1] (sigmoid
    parameterization only). Regularizers, all off by default: ``l2`` decay of the image around gray,
    total variation ``tv``, random ``jitter_pixels``, zoom ``max_scale`` and rotation ``max_degrees``.
    Each step costs one forward and one backward pass on the transformed image, and one forward pass
    on the clean 8-bit image that measures the confidence. Stops at ``target_confidence`` (None: never).
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; choose one of {', '.join(OBJECTIVES)}")
    if target_confidence is not None and not 0 < target_confidence < 1:
        raise ValueError(f"target confidence must be in (0, 1), got {target_confidence}")
    target_index = classifier.class_index(target)
    device = classifier.device
    generator = torch.Generator(device="cpu").manual_seed(seed)
    params, image_fn = _parameterize(classifier, start, parameterization, generator, device)
    transforms = [t for t in (jitter(jitter_pixels) if jitter_pixels else None,
                              scale_and_rotate(max_scale, max_degrees) if max_scale or max_degrees else None) if t]
    optimizer = torch.optim.Adam(params, lr=lr)

    logbook, forwards, backwards = [], 0, 0
    best_image, best_confidence = None, -1.0
    started = time.perf_counter()
    for step in range(steps + 1):
        with torch.no_grad():
            clean = quantize(image_fn())
        confidence = classifier.probs(clean)[0, target_index].item()
        forwards += 1
        if confidence > best_confidence:
            best_image, best_confidence = clean[0].detach().cpu(), confidence
        row = dict(gen=step, best=best_confidence, confidence=confidence, evals=forwards, backward=backwards,
                   seconds=time.perf_counter() - started)
        logbook.append(row)
        if on_step is not None:
            on_step(row)
        if step == steps or (target_confidence is not None and best_confidence >= target_confidence):
            break
        image = image_fn()
        for transform in transforms:
            image = transform(image, generator)
        logits = classifier.logits(image)[0]
        score = logits[target_index] if objective == "logit" else logits.log_softmax(-1)[target_index]
        loss = -score
        if l2:
            loss = loss + l2 * (image_fn() - 0.5).pow(2).sum()
        if tv:
            loss = loss + tv * total_variation(image_fn())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        forwards, backwards = forwards + 1, backwards + 1

    probs = classifier.probs(best_image[None], precise=True)[0]
    config = dict(steps=steps, seed=seed, start=start if isinstance(start, str) else "image", objective=objective,
                  parameterization=parameterization, lr=lr, l2=l2, tv=tv, jitter_pixels=jitter_pixels,
                  max_scale=max_scale, max_degrees=max_degrees, target_confidence=target_confidence)
    return EvolutionResult(
        model=classifier.name, target=classifier.labels[target_index], target_index=target_index,
        method="gradient", image=best_image, genome=None, confidence=float(probs[target_index]),
        top5=classifier.topk(probs), generations=logbook[-1]["gen"], evaluations=forwards,
        seconds=time.perf_counter() - started, seed=seed, config=config, logbook=logbook,
        milestones=milestones_from_logbook(logbook), backward_passes=backwards,
    )


def _parameterize(classifier, start, parameterization, generator, device):
    channels, height, width = classifier.input_size
    if parameterization == "fourier":
        if not isinstance(start, str) or start not in ("noise", "gray"):
            raise ValueError("the Fourier parameterization starts from noise or gray, not from an image")
        scale = 0.01 if start == "noise" else 0.0
        return fourier(channels, height, width, generator, device, scale=scale)
    if parameterization != "sigmoid":
        raise ValueError(f"unknown parameterization {parameterization!r}; choose one of {', '.join(PARAMETERIZATIONS)}")
    if isinstance(start, torch.Tensor):
        image = classifier.prepare_size(start[None])[0]
    elif start == "noise":
        image = torch.rand(channels, height, width, generator=generator)
    elif start == "gray":
        image = torch.full((channels, height, width), 0.5)
    else:
        raise ValueError(f"start must be 'noise', 'gray' or an image tensor, got {start!r}")
    return sigmoid_pixels(image.to(device))
