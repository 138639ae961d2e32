"""The runtimes that can score a classifier's batches: each maps sized images in [0, 1] (N x C x H x W, on
the CPU) to logits, in fp32 or bf16, with the threads it is given."""

from __future__ import annotations

import contextlib

import torch

from .export import cache_dir


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
    """ONNX Runtime's CPU provider with all graph optimizations. Its worker threads sleep instead of spinning
    between operators, which keeps their speed when another process competes for the cores (measured in
    scripts/bench_throughput.py)."""

    name = "onnxruntime"

    def __init__(self, path, precision: str, threads: int):
        import onnxruntime

        if precision != "fp32":
            raise ValueError("onnxruntime scores in fp32 only on a CPU; for bf16 use --backend openvino or torch")
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # errors only: its warnings about unused initializers mean nothing here
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.session.run(None, {"images": images.contiguous().numpy()})[0])


class OpenVinoRunner:
    """OpenVINO's CPU plugin, in fp32 or in bf16 (AMX or AVX-512 BF16 where the CPU has them; on others
    OpenVINO computes in fp32). Its compiled blobs are cached beside the ONNX exports."""

    name = "openvino"

    def __init__(self, path, precision: str, threads: int):
        import openvino

        core = openvino.Core()
        with contextlib.suppress(OSError):
            blobs = cache_dir() / "openvino"
            blobs.mkdir(parents=True, exist_ok=True)
            if _writable(blobs):
                core.set_property({"CACHE_DIR": str(blobs)})
        config = {"INFERENCE_PRECISION_HINT": "f32" if precision == "fp32" else "bf16",
                  "PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads}
        self.request = core.compile_model(str(path), "CPU", config).create_infer_request()

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        self.request.infer({0: images.contiguous().numpy()}, share_inputs=True)  # no copy of the batch
        return torch.from_numpy(self.request.get_output_tensor(0).data.copy())


RUNNERS = {runner.name: runner for runner in (OnnxRuntimeRunner, OpenVinoRunner)}


def _writable(folder) -> bool:
    try:
        probe = folder / ".probe"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False
