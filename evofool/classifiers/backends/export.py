"""A classifier as an ONNX file, exported once per weights and input shape and cached on disk.

The optimized runtimes read ONNX. Exporting EfficientNet-Lite0 takes seconds, so the file is kept in the
user's cache directory (``$EVOFOOL_CACHE``, else ``$XDG_CACHE_HOME/evofool``, else ``~/.cache/evofool``)
under a name that hashes everything the graph depends on: the weights, the module's structure, the input
shape, mean and std, and the torch version that exported it. A cached file is used only when its own hash,
recorded beside it, still matches its bytes; anything else is exported anew. When the cache cannot be
written the export goes to a temporary file and the run scores without caching (one warning).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

OPSET = 18


class ExportError(RuntimeError):
    """The model cannot be exported to ONNX (an operator the exporter lacks); the message names it."""


def cache_dir() -> Path:
    """Where exported models and the runtimes' compiled blobs are kept."""
    if os.environ.get("EVOFOOL_CACHE"):
        return Path(os.environ["EVOFOOL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "evofool"


def model_key(classifier) -> str:
    """A hash of everything the exported graph depends on (16 hex digits); computed once per classifier
    (the weights of a loaded classifier do not change; ``fit`` and ``retrain`` build new ones)."""
    key = getattr(classifier, "_export_key", None)
    if key is None:
        key = classifier._export_key = _hash(classifier)
    return key


def _hash(classifier) -> str:
    digest = hashlib.sha256()
    digest.update(repr((classifier.name, classifier.input_size, classifier._mean.flatten().tolist(),
                        classifier._std.flatten().tolist(), torch.__version__, OPSET, str(classifier.module)))
                  .encode())
    for name, tensor in classifier.module.state_dict().items():
        tensor = tensor.detach().cpu().flatten()  # flat: channels_last weights have no byte view otherwise
        digest.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()[:16]


class _Scoring(nn.Module):
    """The classifier's forward pass on sized images in [0, 1]: normalization and the module, one graph."""

    def __init__(self, classifier):
        super().__init__()
        self.module = classifier.module
        self.register_buffer("mean", classifier._mean.cpu())
        self.register_buffer("std", classifier._std.cpu())

    def forward(self, images):
        return self.module((images - self.mean) / self.std)


def onnx_file(classifier) -> tuple[Path, bool]:
    """The classifier's ONNX file (input "images" N x C x H x W in [0, 1], any N; output "logits") and
    whether it is cached (False: a temporary file, to be deleted by the caller)."""
    key = model_key(classifier)
    folder = cache_dir() / "onnx"
    path = folder / f"{_safe(classifier.name)}-{key}.onnx"
    if _valid(path):
        return path, True
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".export-", suffix=".onnx")
    except OSError as error:
        warnings.warn(f"cache directory {folder} is not writable ({error.strerror}); exporting {classifier.name} "
                      "to ONNX for this run only (set EVOFOOL_CACHE to cache it)", RuntimeWarning, stacklevel=2)
        handle, temporary = tempfile.mkstemp(prefix="evofool-", suffix=".onnx")
        os.close(handle)
        _export(classifier, Path(temporary))
        return Path(temporary), False
    os.close(handle)
    try:
        _export(classifier, Path(temporary))
        Path(temporary + ".sha256").write_text(_sha256(Path(temporary)))
        os.replace(temporary + ".sha256", str(path) + ".sha256")
        os.replace(temporary, path)  # last, so a file without a matching hash is never taken for complete
    finally:
        for leftover in (temporary, temporary + ".sha256"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)
    return path, True


def forget(path: Path) -> None:
    """Remove a cached export (one that failed its parity check), so the next run exports anew."""
    for stale in (path, Path(str(path) + ".sha256")):
        with contextlib.suppress(OSError):
            stale.unlink()


def _export(classifier, path: Path) -> None:
    """Export with torch's dynamo exporter (TorchScript files with the TorchScript one, which reads them),
    weights inside the one file, the batch dimension free."""
    example = torch.rand(2, *classifier.input_size)
    scoring = _Scoring(classifier).eval()  # the optimized runtimes run on the CPU, where the classifier is
    scripted = isinstance(classifier.module, torch.jit.ScriptModule)
    if scripted:
        options = dict(dynamo=False, dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}})
    else:
        options = dict(dynamo=True, external_data=False, verbose=False,
                       dynamic_shapes={"images": {0: torch.export.Dim("batch", min=1, max=1 << 20)}})
    quiet = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            warnings.simplefilter("ignore")
            if scripted:
                scoring = torch.jit.script(scoring)
            torch.onnx.export(scoring, (example,), str(path), input_names=["images"], output_names=["logits"],
                              opset_version=OPSET, **options)
    except Exception as error:
        raise ExportError(f"{classifier.name} cannot be exported to ONNX: {_operator(error)}") from None


def _operator(error: Exception) -> str:
    """The operator an export failed on, from the exporter's long message, or its first line."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # the exporter colours its messages
    found = re.search(r"No ONNX function found for <OpOverload\(op='([^']+)'", text) or \
        re.search(r"operator '([^']+)'", text)
    if found:
        return f"no ONNX conversion for the operator {found.group(1)}"
    return next((line.strip() for line in text.splitlines() if line.strip()), type(error).__name__)[:200]


def _valid(path: Path) -> bool:
    recorded = Path(str(path) + ".sha256")
    try:
        return path.is_file() and recorded.read_text().strip() == _sha256(path)
    except OSError:
        return False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:60]

