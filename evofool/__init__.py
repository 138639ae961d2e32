"""evofool: evolve images that a trained classifier labels with near certainty while people see noise.

After Nguyen, Yosinski & Clune, "Deep Neural Networks are Easily Fooled" (CVPR 2015).
"""

from ._malloc import tune_glibc_malloc

tune_glibc_malloc()

from .classifiers import (  # noqa: E402
    MODELS, Classifier, UnknownClassError, UnknownModelError, load_classifier,
)
from .evolve import evolve, make_toolbox  # noqa: E402
from .results import EvolutionResult, save_result  # noqa: E402

__version__ = "0.1.0"
__all__ = [
    "MODELS", "Classifier", "EvolutionResult", "UnknownClassError", "UnknownModelError",
    "evolve", "load_classifier", "make_toolbox", "save_result",
]
