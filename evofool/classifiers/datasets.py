"""Offline data sets behind the shipped models: Fashion-MNIST from Debian's package, digits from scikit-learn."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")


def fashion_mnist_available(root: Path | None = None) -> bool:
    return ((root or FASHION_MNIST_DIR) / "t10k-images-idx3-ubyte.gz").exists()


def load_fashion_mnist(split: str = "t10k", root: Path | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Images N x 1 x 28 x 28 in [0, 1] and labels N of a split ('train' or 't10k') from the idx files
    (default: where Debian's dataset-fashion-mnist puts them)."""
    root = root or FASHION_MNIST_DIR
    if not fashion_mnist_available(root):
        raise FileNotFoundError(f"Fashion-MNIST not found in {root}: apt-get install dataset-fashion-mnist")
    with gzip.open(root / f"{split}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(root / f"{split}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return torch.from_numpy(images.astype(np.float32) / 255), torch.from_numpy(labels.astype(np.int64))


def load_digits_split(test_fraction: float = 0.2):
    """scikit-learn's 8x8 digits as images N x 1 x 8 x 8 in [0, 1]; a fixed train/test split."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
    labels = torch.tensor(digits.target, dtype=torch.int64)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    cut = int(len(labels) * (1 - test_fraction))
    train, test = order[:cut], order[cut:]
    return (images[train], labels[train]), (images[test], labels[test])
