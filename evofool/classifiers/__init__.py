"""Classifiers: the one seam through which every search scores images."""

from .backends import BACKENDS, PRECISIONS, BackendError
from .base import Classifier, UnknownClassError
from .external import ModelUnavailableError
from .registry import DEFAULT_MODEL, MODELS, ModelInfo, UnknownModelError, load_classifier

__all__ = [
    "BACKENDS", "BackendError", "PRECISIONS", "Classifier", "DEFAULT_MODEL", "MODELS", "ModelInfo", "ModelUnavailableError",
    "UnknownClassError", "UnknownModelError", "load_classifier",
]
