"""The runtimes that can score a classifier's batches: each maps sized images in [0, 1] (N x C x H x W, on
the CPU) to logits, in fp32 or bf16, with the threads it is given.

The optimized runtimes split a batch between single-threaded workers (ONNX Runtime sessions, OpenVINO
streams) that take small chunks of it in turn, instead of running one operator at a time on all threads.
Measured in scripts/bench_throughput.py on 2 cores: faster idle (no barrier after every operator, and a
chunk of a few images stays in cache), and when another process competes for a core the other worker keeps
going instead of waiting for it at every operator.
"""

from __future__ import annotations

import contextlib
import queue
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from .export import cache_dir

# chunks per worker a batch is split into by default: enough for a worker slowed by another process to take
# fewer (each runner sets its own)
CHUNKS_PER_WORKER = 4
# the fewest input values a chunk should carry, per runtime: an OpenVINO asynchronous call costs more than an
# ONNX Runtime run (LeNet at batch 256: ORT fastest at 32-image chunks, OpenVINO at 128)


def chunk_bounds(batch: int, workers: int, image_values: int, min_values: int,
                 per_worker: int = CHUNKS_PER_WORKER) -> list[tuple[int, int]]:
    """(start, stop) of the chunks ``workers`` workers score a batch of ``batch`` images in: about
    ``per_worker`` each (4 a worker: 4 images a chunk for 32 at 224 px on 2 workers), but no chunk under
    ``min_values`` input values where the batch allows (small images: a call costs more than the work), and
    no more than one worker's share. The chunks are a multiple of the workers in number and differ by one
    image at most, so the workers finish together (33 images: 5 + 4 x 7, not 5 x 6 + 3, which left one
    worker a chunk behind the other)."""
    share = -(-batch // workers)
    size = max(-(-batch // (workers * per_worker)), -(-min_values // image_values))
    size = min(size, share)
    chunks = -(-batch // size)
    count = min(batch, -(-chunks // workers) * workers)
    base, larger = divmod(batch, count)
    stops = [base * k + min(k, larger) for k in range(1, count + 1)]
    return list(zip([0] + stops[:-1], stops))


class TorchRunner:
    """The classifier's own module: eager (or compiled) fp32, or bf16 under CPU autocast."""

    name = "torch"

    def __init__(self, classifier, precision: str):
        self.classifier, self.precision = classifier, precision
        self.precise = classifier.torch_logits if precision != "fp32" else None

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if self.precision == "fp32":
            return self.classifier.torch_logits(images)
        with torch.autocast(self.classifier.device.type, dtype=torch.bfloat16):
            return self.classifier.forward(images).float()


class OnnxRuntimeRunner:
    """ONNX Runtime's CPU provider with all graph optimizations: one single-threaded session per thread, each
    taking chunks of the batch from a shared queue (the caller's thread is one of the workers)."""

    name = "onnxruntime"
    min_chunk_values = 1 << 14

    def __init__(self, path, precision: str, threads: int):
        import onnxruntime

        if precision != "fp32":
            raise ValueError("onnxruntime scores in fp32 only on a CPU; for bf16 use --backend openvino or torch")
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
        options.log_severity_level = 3  # errors only: its warnings about unused initializers mean nothing here
        self.sessions = [onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
                         for _ in range(max(1, threads))]
        self.pool = ThreadPoolExecutor(len(self.sessions) - 1) if len(self.sessions) > 1 else None

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        batch = images.contiguous().numpy()
        chunks = chunk_bounds(len(batch), len(self.sessions), batch[0].size, self.min_chunk_values)
        todo = queue.SimpleQueue()
        for chunk in chunks:
            todo.put(chunk)
        results = {}

        def work(session):
            with contextlib.suppress(queue.Empty):
                while True:
                    start, stop = todo.get_nowait()
                    results[start] = session.run(None, {"images": batch[start:stop]})[0]

        helpers = [self.pool.submit(work, session) for session in self.sessions[1:]] if self.pool else []
        work(self.sessions[0])
        for helper in helpers:
            helper.result()
        return torch.from_numpy(np.concatenate([results[start] for start, _ in chunks]))


class OpenVinoRunner:
    """OpenVINO's CPU plugin, in fp32 or in bf16 (AMX or AVX-512 BF16 where the CPU has them; on others
    OpenVINO computes in fp32), with one single-threaded stream per thread fed chunks of the batch
    asynchronously. Its compiled blobs are cached beside the ONNX exports.

    Two requests a stream, so that the next chunk waits queued while a stream runs one (with one a stream, it
    idled while Python handed it the next), chunks of 2 images at 224 px (8 a stream), and the chunks read in
    place (``share_inputs``) rather than copied: measured together on EfficientNet-Lite0 at batch 32 (2 cores,
    timed in turns), 363 img/s against 346 with one request a stream, 4-image chunks and copies (at batch 64,
    4-image chunks: 364 against 330 with 8-image ones)."""

    name = "openvino"
    min_chunk_values = 1 << 17
    chunks_per_worker = 8
    requests_per_stream = 2

    def __init__(self, path, precision: str, threads: int):
        import openvino

        core = openvino.Core()
        with contextlib.suppress(OSError):
            blobs = cache_dir() / "openvino"
            blobs.mkdir(parents=True, exist_ok=True)
            if _writable(blobs):
                core.set_property({"CACHE_DIR": str(blobs)})
        self.streams = max(1, threads)
        config = {"INFERENCE_PRECISION_HINT": "f32" if precision == "fp32" else "bf16",
                  "PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": self.streams, "INFERENCE_NUM_THREADS": self.streams}
        compiled = core.compile_model(str(path), "CPU", config)
        self.requests = openvino.AsyncInferQueue(compiled, self.requests_per_stream * self.streams)
        self.requests.set_callback(self._collect)
        self._results = {}

    def _collect(self, request, start):
        self._results[start] = request.get_output_tensor(0).data.copy()

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        batch = images.contiguous().numpy()
        chunks = chunk_bounds(len(batch), self.streams, batch[0].size, self.min_chunk_values, self.chunks_per_worker)
        self._results = {}
        try:  # the requests read the batch in place: none may outlive it, even when a start fails
            for start, stop in chunks:
                self.requests.start_async({0: batch[start:stop]}, userdata=start, share_inputs=True)
        finally:
            self.requests.wait_all()
        return torch.from_numpy(np.concatenate([self._results[start] for start, _ in chunks]))


RUNNERS = {runner.name: runner for runner in (OnnxRuntimeRunner, OpenVinoRunner)}


def _writable(folder) -> bool:
    try:
        probe = folder / ".probe"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False
