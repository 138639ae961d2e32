"""evofool: evolve images that a trained classifier labels with near certainty while people see noise.

After Nguyen, Yosinski & Clune, "Deep Neural Networks are Easily Fooled" (CVPR 2015).
"""

from ._malloc import tune_glibc_malloc

tune_glibc_malloc()

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
