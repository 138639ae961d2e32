"""Gradient-based counterparts of evolution: class dreams, DeepDream and the perceptron's dream."""

from .class_dream import dream
from .deepdream import UnknownLayerError, deepdream, deepdream_zoom, layer_names, zoom
from .perceptron import perceptron_dream

__all__ = ["UnknownLayerError", "deepdream", "deepdream_zoom", "dream", "layer_names", "perceptron_dream", "zoom"]
