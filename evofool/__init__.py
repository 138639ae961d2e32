"""evofool: evolve images that a trained classifier labels with near certainty while people see noise.

After Nguyen, Yosinski & Clune, "Deep Neural Networks are Easily Fooled" (CVPR 2015).
"""

import os

from ._malloc import tune_glibc_malloc

tune_glibc_malloc()
# torch's OpenMP threads spin while they wait for work; with another process on the cores they spin against
# it and scoring collapses (EfficientNet-Lite0 kept a third of its speed here, and half with passive waiting,
# which costs nothing on an idle machine: scripts/bench_throughput.py). OpenMP reads this when torch loads,
# so it acts whenever evofool is imported before torch (always for the evofool command).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .classifiers import (  # noqa: E402
    MODELS, Classifier, UnknownClassError, UnknownModelError, load_classifier,
)
from .algorithms.map_elites import MapElitesResult, map_elites  # noqa: E402
from .dreams import deepdream, dream, perceptron_dream  # noqa: E402
from .evolve import evolve, make_toolbox  # noqa: E402
from .results import EvolutionResult, save_result  # noqa: E402

__version__ = "0.1.0"
__all__ = [
    "MODELS", "Classifier", "EvolutionResult", "MapElitesResult", "UnknownClassError", "UnknownModelError",
    "deepdream", "dream", "evolve", "load_classifier", "make_toolbox", "map_elites", "perceptron_dream",
    "save_result",
]
