"""Gradient-based counterparts of evolution: class dreams, DeepDream and the perceptron's dream."""

from .class_dream import dream

__all__ = ["dream"]
