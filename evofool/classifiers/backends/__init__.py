"""Scoring backends behind the :class:`~evofool.classifiers.Classifier` seam: torch, ONNX Runtime or OpenVINO,
in fp32 or bf16.

The optimized runtimes only score (``Classifier.probs``); gradients (dreams, DeepDream, fit) always run in
torch on the same weights. The runtimes read the classifier exported to ONNX (``export.py``, cached on
disk). fp32 scores like torch (probabilities within ``PARITY["fp32"]``, checked on the first batch of every
run); bf16 is an opt-in speed mode whose scores the searches confirm in fp32 wherever a record is set.

``auto`` times every installed backend on the first batch, keeps the fastest that passes the parity check
and remembers the choice per model, precision, batch size and thread count in the cache, so later runs
start with it (and pick the same one: the same seed gives the same result). With no runtime installed it is
torch, silently.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import tempfile
import time
import warnings

import torch

from .export import ExportError, cache_dir, forget, model_key, onnx_file
from .runners import RUNNERS, TorchRunner

BACKENDS = ("auto", "torch", "onnxruntime", "openvino")
PRECISIONS = ("fp32", "bf16")
# the Python modules each optimized backend needs: the runtime, and the exporter that writes its ONNX
REQUIRES = {"onnxruntime": ("onnxruntime", "onnx", "onnxscript"), "openvino": ("openvino", "onnx", "onnxscript")}
# largest difference of any probability to torch's fp32 one that a backend may show on the first batch; in bf16
# also up to twice torch's own bf16 difference on that batch: rounding moves the probabilities of peaked
# images (CPPN elites) by up to 0.13 in torch and OpenVINO alike, while a broken export differs by ~1
PARITY = {"fp32": 1e-4, "bf16": 0.15}
EXTRA = "pip install 'evofool[fast]'"


class BackendError(ValueError):
    """A backend that cannot score here: not installed, not for this device or precision, or not agreeing
    with torch. The message is one line."""


def installed(backend: str) -> bool:
    """Whether ``backend`` can run here (torch always can)."""
    return backend == "torch" or all(importlib.util.find_spec(module) for module in REQUIRES[backend])


def check_backend(backend: str, precision: str, device: torch.device) -> None:
    """Refuse, in one line, a backend or precision that is unknown, not installed or not for ``device``."""
    if backend not in BACKENDS:
        raise BackendError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if precision not in PRECISIONS:
        raise BackendError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if backend in REQUIRES and not installed(backend):
        missing = [module for module in REQUIRES[backend] if not importlib.util.find_spec(module)]
        raise BackendError(f"--backend {backend} needs {', '.join(missing)}: {EXTRA}")
    if backend in REQUIRES and device.type != "cpu":
        raise BackendError(f"--backend {backend} scores on the CPU; use --device cpu, or --backend torch on {device}")
    if not _supports(backend, precision):
        raise BackendError("onnxruntime scores in fp32 only on a CPU; for bf16 use --backend openvino or torch")
    if precision == "bf16" and device.type == "cuda":
        raise BackendError("--precision bf16 is a CPU mode; on CUDA torch already scores in fp16 (use fp32)")


class Runtime:
    """What scores a classifier's sized batches (images in [0, 1] -> logits), settled on the first batch.

    A named backend is built at once, so that a missing package or an operator the exporter lacks ends the
    command before anything is written; ``auto`` builds its candidates on the first batch and falls back to
    torch, with a warning, for any that fails.
    """

    def __init__(self, classifier, backend: str = "auto", precision: str = "fp32"):
        check_backend(backend, precision, classifier.device)
        self.classifier, self.requested, self.precision = classifier, backend, precision
        self.threads = torch.get_num_threads()  # loky workers get their share of the cores through it
        self.runner = None
        self._export = None
        self._export_error = None  # an export that failed once fails for every runtime
        if backend == "torch" or (backend == "auto" and (classifier.device.type != "cpu" or not _optimized())):
            self.runner = TorchRunner(classifier, precision)
        elif backend != "auto":
            self._pending = self._build(backend)

    @property
    def name(self) -> str:
        """The backend that scores (``auto`` until the first batch has settled it)."""
        return self.runner.name if self.runner is not None else self.requested

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if self.runner is None:
            self.runner = self._settle(images)
        return self.runner(images)

    def precise(self, images: torch.Tensor) -> torch.Tensor:
        """fp32 logits: the backend's own fp32 runner beside its bf16 one, or torch's."""
        precise = getattr(self.runner, "precise", None)
        return precise(images) if precise is not None else self.classifier.torch_logits(images)

    def _build(self, backend: str):
        """The runner of ``backend`` on the cached export (ExportError names the operator it lacks)."""
        if self._export_error is not None:
            raise self._export_error
        try:
            path, cached = onnx_file(self.classifier)
        except ExportError as error:
            self._export_error = BackendError(str(error))
            raise self._export_error from None
        self._export = path if cached else None
        try:
            runner = RUNNERS[backend](path, self.precision, self.threads)
            if self.precision != "fp32":  # confirms record-setting scores, faster than torch's eager fp32
                runner.precise = RUNNERS[backend](path, "fp32", self.threads)
            return runner
        except Exception as error:
            raise BackendError(f"{backend} cannot compile {self.classifier.name}: "
                               f"{_first_line(error)}") from None
        finally:
            if not cached:
                with contextlib.suppress(OSError):
                    os.unlink(path)

    def _settle(self, images: torch.Tensor):
        """The runner for this and every later batch: the named one if it agrees with torch, or auto's pick."""
        key = self._choice_key(images.shape[0])
        remembered = remembered_choices().get(key) if self.requested == "auto" else None
        candidates = {"torch": TorchRunner(self.classifier, self.precision)}
        if remembered == "torch":
            return candidates["torch"]
        with torch.inference_mode():
            reference = self.classifier.torch_logits(images).float().softmax(-1)
        limit = PARITY[self.precision]
        if self.precision != "fp32":
            limit = max(limit, 2 * _difference(candidates["torch"], images, reference))
        if self.requested != "auto":
            runner = self._pending
            difference = _difference(runner, images, reference)
            if difference > limit and self._export is not None:
                forget(self._export)  # a stale or damaged cache: export anew once
                runner = self._build(self.requested)
                difference = _difference(runner, images, reference)
            if difference > limit:
                raise BackendError(f"{self.requested} ({self.precision}) disagrees with torch on "
                                   f"{self.classifier.name} by {difference:.2g} in probability "
                                   f"(at most {limit:.2g}); use --backend torch")
            return runner
        names = [remembered] if remembered in RUNNERS and installed(remembered) else _optimized()
        for name in (name for name in names if _supports(name, self.precision)):
            try:
                runner = self._build(name)
            except BackendError as error:
                if self._export_error is None or name == names[0]:
                    warnings.warn(f"backend auto: scoring without {name}: {error}", RuntimeWarning, stacklevel=3)
                continue
            difference = _difference(runner, images, reference)
            if difference <= limit:
                candidates[name] = runner
            else:
                warnings.warn(f"backend auto: skipping {name}, which differs from torch by {difference:.2g}",
                              RuntimeWarning, stacklevel=3)
        if remembered in candidates:
            return candidates[remembered]
        speeds = _images_per_second(candidates, images)
        best = max(speeds, key=speeds.get)
        _remember(key, best)
        return candidates[best]

    def _choice_key(self, batch: int) -> str:
        return f"{self.classifier.name}-{model_key(self.classifier)}/{self.precision}/batch{batch}/threads{self.threads}"


def remembered_choices() -> dict:
    """auto's choices so far, by model key / precision / batch / threads (also for ``evofool models``)."""
    try:
        choices = json.loads(_choices_path().read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in choices.items() if isinstance(k, str) and v in BACKENDS} if isinstance(choices, dict) else {}


def _supports(backend: str, precision: str) -> bool:
    return backend != "onnxruntime" or precision == "fp32"


def _difference(runner, images, reference) -> float:
    """The largest difference of any probability ``runner`` gives ``images`` to the ``reference`` ones."""
    return float((runner(images).float().softmax(-1) - reference).abs().max())


def _optimized() -> list[str]:
    return [name for name in RUNNERS if installed(name)]


def _images_per_second(runners: dict, images, rounds: int = 5) -> dict:
    """Each runner's best images/s over ``rounds`` calls, timed in turns (so drift hits all alike), after two
    warm-up calls (the first calls allocate and pick kernels)."""
    for runner in runners.values():
        runner(images)
        runner(images)
    best = dict.fromkeys(runners, float("inf"))
    for _ in range(rounds):
        for name, runner in runners.items():
            start = time.perf_counter()
            runner(images)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: images.shape[0] / seconds for name, seconds in best.items()}


def _choices_path():
    return cache_dir() / "backend-choices.json"


def _remember(key: str, backend: str) -> None:
    """Add auto's choice to the cache file (atomically; silently not when the cache is not writable)."""
    choices = dict(remembered_choices(), **{key: backend})
    with contextlib.suppress(OSError):
        _choices_path().parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=_choices_path().parent, prefix=".choices-")
        with os.fdopen(handle, "w") as file:
            json.dump(choices, file, indent=1, sort_keys=True)
        os.replace(temporary, _choices_path())


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:300]
