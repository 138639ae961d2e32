"""Classifiers whose weights evofool does not ship: torchvision models and users' exported model files."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import torch

from .base import Classifier


class ModelUnavailableError(RuntimeError):
    """The model exists but its weights cannot be had here (no cache, no network)."""


def load_torchvision(arch: str, device=None) -> Classifier:
    """Any torchvision classification model with its DEFAULT weights, from torch's cache or downloaded.

    Without network access the weights file must already be in torch's hub cache; the error says where.
    """
    import torchvision.models as tvm

    if arch not in tvm.list_models(module=tvm):
        import difflib

        close = difflib.get_close_matches(arch, tvm.list_models(module=tvm), n=5, cutoff=0.5)
        raise ValueError(f"torchvision has no classification model {arch!r}; closest matches: "
                         f"{', '.join(close) or 'none'}")
    weights = tvm.get_model_weights(arch).DEFAULT
    cached = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights.url)
    try:
        module = tvm.get_model(arch, weights=weights)
    except Exception as error:  # urllib, SSL and socket errors all mean the same thing to a user
        raise ModelUnavailableError(
            f"could not load or download the weights of torchvision:{arch} ({type(error).__name__}: {error}); "
            f"download {weights.url} and place it at {cached}"
        ) from None
    preset = weights.transforms()
    size = preset.crop_size[0]
    return Classifier(module, weights.meta["categories"], (3, size, size), preset.mean, preset.std,
                      device=device, name=f"torchvision:{arch}", batch_size=32, channels_last=True)


def read_labels(path: str | Path) -> tuple[list[str], dict]:
    """Labels from a text file (one per line) or a JSON file, checked: a ValueError names the file and the
    problem.

    JSON is either a list of labels or an object ``{"labels": [...], "input_size": [C, H, W], "mean": [...],
    "std": [...]}``; the extra keys are returned as the second value.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"labels file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read labels file {path}: {error}") from None
    meta = {}
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"labels file {path} is not valid JSON: {error}") from None
        if isinstance(data, dict):
            if not isinstance(data.get("labels"), list):
                raise ValueError(f"labels file {path} has no list 'labels'")
            unknown = set(data) - {"labels", "input_size", "mean", "std"}
            if unknown:
                raise ValueError(f"labels file {path} has unknown keys {', '.join(sorted(unknown))}")
            meta = {k: v for k, v in data.items() if k != "labels"}
            data = data["labels"]
        if not isinstance(data, list):
            raise ValueError(f"labels file {path} is neither a list of labels nor an object with 'labels'")
        names = [str(label) for label in data]
    else:
        names = [line.strip() for line in text.splitlines() if line.strip()]
    if len(names) < 2:
        raise ValueError(f"labels file {path} names {len(names)} class(es); a classifier needs at least 2")
    size = meta.get("input_size")
    if size is not None and not (isinstance(size, list) and len(size) == 3 and size[0] in (1, 3)
                                 and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 4096
                                         for v in size)):
        raise ValueError(f"labels file {path}: input_size must be [C, H, W] with C 1 or 3 and sides 1..4096, "
                         f"not {size!r}")
    for key in ("mean", "std"):
        values = meta.get(key)
        if values is not None and not (isinstance(values, list) and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)
                and (key == "mean" or all(v > 0 for v in values))):
            raise ValueError(f"labels file {path}: {key} must be a list of finite numbers"
                             f"{' above 0' if key == 'std' else ''}")
    return names, meta


def load_model_file(path: str | Path, labels: str | Path, input_size=None, mean=None, std=None, device=None) -> Classifier:
    """A TorchScript (``torch.jit.save``) or ``torch.export`` (``.pt2``) file with a labels file.

    Neither format unpickles arbitrary objects. ``input_size``, ``mean`` and ``std`` may come from the labels JSON.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file {path} does not exist")
    names, meta = read_labels(labels)
    input_size = input_size or meta.get("input_size")
    if input_size is None:
        raise ValueError(f"the input size of {path} is unknown: pass input_size=(C, H, W) or put it in a labels JSON")
    if path.suffix == ".pt2":
        module = torch.export.load(str(path)).module()
    else:
        module = torch.jit.load(str(path), map_location="cpu")
    classifier = Classifier(module, names, tuple(input_size), mean or meta.get("mean"), std or meta.get("std"),
                            device=device, name=str(path))
    with torch.inference_mode():  # one probe image: the outputs must match the labels
        outputs = classifier.module(classifier.normalize(torch.full((1, *classifier.input_size), 0.5,
                                                                    device=classifier.device)))
    if outputs.ndim != 2 or outputs.shape[1] != len(names):
        raise ValueError(f"{path} gives {tuple(outputs.shape)} outputs for one image but {labels} names "
                         f"{len(names)} classes")
    return classifier
