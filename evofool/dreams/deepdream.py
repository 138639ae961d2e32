"""DeepDream (Mordvintsev et al., google/deepdream): amplify whatever a layer sees in a photo.

Gradient ascent on the L2 norm of a layer's activations (so the gradient at the layer is the activation
itself), with the original defaults: 4 octaves at scale 1.4, 10 steps per octave, jitter of up to 32
pixels, a step of 1.5 divided by the mean absolute gradient, detail carried from octave to octave and
pixels clipped to the valid range.
"""

from __future__ import annotations

import difflib

import torch
import torch.nn.functional as F

from ..classifiers import Classifier


class UnknownLayerError(LookupError):
    """A layer name the model does not have; the message lists the available ones."""


class _Stop(Exception):
    pass


def layer_names(classifier: Classifier) -> list[str]:
    """Names of the model's modules that can be dreamed on: every named submodule but identities (the
    BatchNorms and paddings folded away at loading)."""
    return [name for name, module in classifier.module.named_modules()
            if name and not isinstance(module, torch.nn.Identity)]


def find_layer(classifier: Classifier, layer: str) -> torch.nn.Module:
    """The submodule called ``layer``; an unknown name raises UnknownLayerError listing the names."""
    modules = dict(classifier.module.named_modules())
    if layer and layer in modules:
        return modules[layer]
    names = layer_names(classifier)
    close = difflib.get_close_matches(layer, names, n=5, cutoff=0.4)
    raise UnknownLayerError(
        f"{classifier.name} has no layer {layer!r}; closest: {', '.join(close) or 'none'}; "
        f"available: {', '.join(names[:40])}{' ...' if len(names) > 40 else ''} (see `evofool layers`)"
    )


def layer_activation(classifier: Classifier, layer: str, images: torch.Tensor) -> torch.Tensor:
    """The output of ``layer`` for images in [0, 1] at their own size; the forward pass stops there."""
    captured = {}

    def hook(module, inputs, output):
        captured["value"] = output
        raise _Stop

    handle = find_layer(classifier, layer).register_forward_hook(hook)
    try:
        classifier.forward(images)
    except _Stop:
        pass
    finally:
        handle.remove()
    return captured["value"]


def deepdream(classifier: Classifier, photo: torch.Tensor, layer: str, octaves: int = 4, octave_scale: float = 1.4,
              steps: int = 10, step_size: float = 1.5, jitter: int = 32, seed: int = 0) -> torch.Tensor:
    """Dream ``photo`` (C x H x W in [0, 1]) on ``layer``; returns the dreamed image, same size."""
    if steps < 1 or octaves < 1:
        raise ValueError("steps and octaves must be at least 1")
    generator = torch.Generator().manual_seed(seed)
    base = classifier.match_channels(photo.to(classifier.device, torch.float32)[None])
    find_layer(classifier, layer)  # fail before any work on a bad name
    pyramid = [base]
    for _ in range(octaves - 1):
        h, w = pyramid[-1].shape[-2:]
        pyramid.append(F.interpolate(pyramid[-1], size=(max(1, round(h / octave_scale)), max(1, round(w / octave_scale))),
                                     mode="bilinear", align_corners=False, antialias=True))
    detail = torch.zeros_like(pyramid[-1])
    for octave_base in reversed(pyramid):
        detail = F.interpolate(detail, size=octave_base.shape[-2:], mode="bilinear", align_corners=False)
        image = (octave_base + detail).clamp(0, 1)
        for _ in range(steps):
            image = _step(classifier, image, layer, step_size, jitter, generator)
        detail = image - octave_base
    return image[0].detach().cpu()


def _step(classifier, image, layer, step_size, jitter, generator):
    dy, dx = (torch.randint(-jitter, jitter + 1, (2,), generator=generator).tolist() if jitter else (0, 0))
    shifted = torch.roll(image, (dy, dx), dims=(-2, -1)).detach().requires_grad_(True)
    activation = layer_activation(classifier, layer, shifted)
    (activation.float().pow(2).sum() / 2).backward()  # the gradient at the layer is the activation
    gradient = shifted.grad
    shifted = shifted.detach() + step_size / gradient.abs().mean().clamp_min(1e-8) * gradient * (1 / 255)
    return torch.roll(shifted, (-dy, -dx), dims=(-2, -1)).clamp(0, 1)


def deepdream_zoom(classifier: Classifier, photo: torch.Tensor, frames: int, amount: float, on_frame=None,
                   **settings) -> list[torch.Tensor]:
    """The dreamed photo, then ``frames`` more: each the previous one zoomed in by ``amount`` and dreamed again."""
    zoom(photo, amount)  # refuse a bad amount before any work
    images = [deepdream(classifier, photo, **settings)]
    for _ in range(frames):
        images.append(deepdream(classifier, zoom(images[-1], amount), **settings))
        if on_frame is not None:
            on_frame(len(images) - 1)
    return images


def zoom(image: torch.Tensor, amount: float) -> torch.Tensor:
    """Crop ``amount`` (a fraction in (0, 1)) off the borders and scale back up: the next frame's start."""
    if not 0 < amount < 1:
        raise ValueError(f"zoom must be in (0, 1), got {amount}")
    _, h, w = image.shape
    dh, dw = max(1, round(h * amount / 2)), max(1, round(w * amount / 2))
    crop = image[:, dh : h - dh, dw : w - dw][None]
    return F.interpolate(crop, size=(h, w), mode="bilinear", align_corners=False)[0]
