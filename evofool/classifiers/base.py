"""The scoring seam: a batch of images in [0, 1] goes in, class probabilities come out.

Every search in evofool (the GA, and later MAP-Elites and the gradient dream) scores images
through a :class:`Classifier`, so that methods are compared on equal terms.
"""

from __future__ import annotations

import difflib
import logging
import re
import warnings
from contextlib import nullcontext
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class UnknownClassError(LookupError):
    """A class name or index that the classifier does not have; the message lists close matches."""


class Classifier:
    """A trained classification network with its label set and input convention.

    ``probs(images)`` takes float images N x C x H x W in [0, 1] at any size, resizes them to
    ``input_size``, normalizes with ``mean`` and ``std`` and returns softmax probabilities N x K.
    ``logits`` is the same without the softmax and with gradients, for gradient-based search.

    ``channels_last`` stores convolution weights and feeds inputs as N x H x W x C in memory, which
    oneDNN (CPU) and tensor cores (CUDA) run faster: on a 2-core CPU, LeNet at batch 256 takes half the
    time and EfficientNet-Lite0 about 10% less. It is off for modules of unknown make, since a module
    that calls ``view`` on its input would fail on such strides.
    """

    def __init__(
        self,
        module: nn.Module,
        labels: Sequence[str],
        input_size: tuple[int, int, int],
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        device: str | torch.device | None = None,
        name: str = "custom",
        batch_size: int = 64,
        channels_last: bool = False,
    ):
        self.device = torch.device(device) if device is not None else default_device()
        self._memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.module = module.eval().to(self.device, memory_format=self._memory_format)
        for parameter in self.module.parameters():
            parameter.requires_grad_(False)
        self.labels = list(labels)
        self.input_size = tuple(int(v) for v in input_size)
        channels = self.input_size[0]
        mean = [0.0] * channels if mean is None else list(mean)
        std = [1.0] * channels if std is None else list(std)
        if len(mean) != channels or len(std) != channels:
            raise ValueError(f"mean and std need {channels} values, one per input channel")
        self._mean = torch.tensor(mean, device=self.device).view(1, -1, 1, 1)
        self._std = torch.tensor(std, device=self.device).view(1, -1, 1, 1)
        self.name = name
        self.batch_size = batch_size
        self._compiled = None
        self.runtime = None
        self.use_backend("torch")

    def use_backend(self, backend: str = "auto", precision: str = "fp32") -> "Classifier":
        """Score with ``backend`` ("auto", "torch", "onnxruntime" or "openvino") in ``precision`` ("fp32" or
        "bf16"); see :mod:`evofool.classifiers.backends`. Gradients always run in torch. Returns the classifier.
        """
        from .backends import Runtime

        self.runtime = Runtime(self, backend, precision)
        return self

    @property
    def backend(self) -> str:
        """The backend that scores: "torch", "onnxruntime", "openvino" ("auto" until the first batch)."""
        return self.runtime.name

    @property
    def precision(self) -> str:
        return self.runtime.precision

    @property
    def approximate(self) -> bool:
        """Whether ``probs`` is only close to fp32 (bf16 on a CPU, fp16 autocast on CUDA): the searches then
        confirm every score that would set a record with ``probs(..., precise=True)``."""
        return self.precision != "fp32" or self.device.type == "cuda"

    @classmethod
    def from_module(cls, module, labels, input_size, mean=None, std=None, device=None, name="custom", batch_size=64,
                    channels_last=False, backend="auto", precision="fp32"):
        """Wrap any torch module that maps normalized N x C x H x W tensors to class logits, scored by
        ``backend`` in ``precision`` (see :meth:`use_backend`)."""
        classifier = cls(module, labels, input_size, mean, std, device, name, batch_size, channels_last)
        return classifier.use_backend(backend, precision)

    def __repr__(self):
        return (f"Classifier({self.name!r}, classes={len(self.labels)}, input_size={self.input_size}, "
                f"device={self.device}, backend={self.backend!r}, precision={self.precision!r})")

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def match_channels(self, images: torch.Tensor) -> torch.Tensor:
        """Images N x C x H x W on the device, gray averaged from colour or colour repeated from gray."""
        images = images.to(self.device, torch.float32)
        channels = self.input_size[0]
        if images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"expected images N x C x H x W with 1 or 3 channels, got {tuple(images.shape)}")
        if images.shape[1] != channels:
            images = images.mean(1, keepdim=True) if channels == 1 else images.expand(-1, channels, -1, -1)
        return images

    def prepare_size(self, images: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] with the model's channels and input size, on its device (still in [0, 1])."""
        images = self.match_channels(images)
        _, height, width = self.input_size
        if images.shape[-2:] != (height, width):
            images = F.interpolate(images, size=(height, width), mode="bilinear", antialias=True, align_corners=False)
        return images

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """Apply the model's mean and std (any spatial size: DeepDream feeds whole photos)."""
        return (images - self._mean) / self._std

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """Class logits N x K, differentiable with respect to ``images`` (no chunking)."""
        return self.forward(self.prepare_size(images)).float()

    def probs(self, images: torch.Tensor, batch_size: int | None = None, precise: bool = False) -> torch.Tensor:
        """Softmax probabilities N x K, computed in chunks under inference mode by the backend (AMP on CUDA).

        ``precise`` scores in fp32 whatever the precision (the backend's fp32 runner, or torch's).
        """
        batch_size = batch_size or self.batch_size
        cuda_amp = self.device.type == "cuda" and not precise
        autocast = torch.autocast("cuda", dtype=torch.float16) if cuda_amp else nullcontext()
        score = self.runtime.precise if precise and self.approximate else self.runtime
        chunks = []
        with torch.inference_mode(), autocast:
            for start, stop in batch_chunks(images.shape[0], batch_size):
                logits = score(self.prepare_size(images[start:stop]))
                chunks.append(logits.float().softmax(-1))
        return torch.cat(chunks) if chunks else torch.empty(0, self.num_classes, device=self.device)

    def compile(self, batch_size: int | None = None) -> "Classifier":
        """Score full chunks through ``torch.compile`` (inductor, weights frozen into the graph).

        On a 2-core CPU this scores EfficientNet-Lite0 about 1.07x faster than its eager net (already folded
        for inference; 1.55x over a plain eager net), for a compile of 9-50 s on the first full chunk
        (inductor caches it on disk for later runs). The graph is compiled for one batch
        shape, since recompiling per size costs more than it saves: chunks of ``batch_size`` (default: the
        current chunk size; the GA scores its whole population at once, so pass the population size) use it,
        other chunks and gradients run the module eagerly. Returns the classifier.
        """
        self.batch_size = batch_size or self.batch_size
        if self.runtime.requested != "torch":  # the compiled graph is torch's; the other runtimes optimize their own
            self.use_backend("torch", self.precision)
        logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)  # "no CUDA runtime" on CPU hosts
        self._compiled = torch.compile(self.forward, dynamic=False, options={"freezing": True})
        return self

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """The module's output for images in [0, 1] at whatever size they have (normalized and laid out as
        the model runs fastest), with gradients: DeepDream reads layers of whole photos through it."""
        return self.module(self.normalize(images.contiguous(memory_format=self._memory_format)))

    def torch_logits(self, images: torch.Tensor) -> torch.Tensor:
        """Logits of sized images in [0, 1] by torch in fp32; full chunks through the compiled graph when there
        is one."""
        if self._compiled is not None and images.shape[0] == self.batch_size:
            try:
                return self._compiled(images)
            except Exception as error:  # e.g. no C++ compiler: an optional speed-up must not stop a search
                warnings.warn(f"torch.compile failed, scoring eagerly from now on: {error}", RuntimeWarning)
                self._compiled = None
        return self.forward(images)

    def class_index(self, target: int | str) -> int:
        """Resolve a class given by index or by name (case-insensitive); see :func:`find_class`."""
        return find_class(self.labels, target, self.name)

    def topk(self, probs_row: torch.Tensor, k: int = 5) -> list[tuple[str, int, float]]:
        """The k most probable classes of one probability vector, as (label, index, probability)."""
        values, indices = probs_row.float().topk(min(k, self.num_classes))
        return [(self.labels[i], int(i), float(v)) for v, i in zip(values.tolist(), indices.tolist())]


def batch_chunks(count: int, batch_size: int) -> list[tuple[int, int]]:
    """(start, stop) of the chunks ``probs`` scores ``count`` images in: ``batch_size`` each, except that a
    last remainder of at most an eighth of a chunk rides with the chunk before it. A strategy scoring 32
    samples and their mean makes one call of 33, not one of 32 and one of a single image, which left every
    worker but one idle (and paid a call more)."""
    stops = list(range(batch_size, count, batch_size)) + [count]
    if len(stops) > 1 and stops[-1] - stops[-2] <= batch_size // 8:
        del stops[-2]
    return list(zip([0] + stops[:-1], stops)) if count else []


def find_class(labels: Sequence[str], target: int | str, model: str = "the model") -> int:
    """The index of ``target`` (an index, or a name matched case-insensitively) in ``labels``.

    An unknown name raises :class:`UnknownClassError` listing the closest names.
    """
    if isinstance(target, int) or (isinstance(target, str) and re.fullmatch(r"[0-9]+", target.strip())):
        index = int(target)
        if not 0 <= index < len(labels):
            raise UnknownClassError(f"class index {index} is out of range 0..{len(labels) - 1} for {model}")
        return index
    wanted = target.strip().lower()
    lowered = [label.lower() for label in labels]
    if wanted in lowered:
        return lowered.index(wanted)
    close = difflib.get_close_matches(wanted, lowered, n=5, cutoff=0.5)
    close += [label for label in lowered if wanted in label and label not in close]
    hint = ", ".join(repr(labels[lowered.index(c)]) for c in close[:5]) or "none; run `evofool classes`"
    raise UnknownClassError(f"unknown class {target!r} for {model}; closest matches: {hint}")


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
