"""Checkpoints that survive crashes: safe formats, atomic writes, every RNG state, graceful stops.

A checkpoint is a dict of tensors, numbers, strings, lists and dicts written with ``torch.save`` and read
with ``torch.load(weights_only=True)``, so loading one never runs code. Files are written to a temporary
name, fsynced and renamed over the old one: a crash leaves either the previous checkpoint or the new one.
"""

from __future__ import annotations

import json
import os
import random
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch


class CorruptFileError(RuntimeError):
    """A checkpoint, manifest or job record that cannot be read; the message names the file."""


class StopRequested(Exception):
    """SIGINT or SIGTERM arrived; the work saved a checkpoint and stopped."""


def _atomic_write(path: Path, write) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def save_checkpoint(path: str | Path, state: dict) -> None:
    _atomic_write(Path(path), lambda f: torch.save(state, f))


def load_checkpoint(path: str | Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as error:  # truncated zip, bad pickle opcodes, wrong types: all mean "corrupt"
        raise CorruptFileError(f"checkpoint {path} is corrupt or truncated ({type(error).__name__}: {error}); "
                               f"delete it to restart that job from scratch") from None


def write_json(path: str | Path, data) -> None:
    _atomic_write(Path(path), lambda f: f.write((json.dumps(data, indent=2) + "\n").encode()))


def read_json(path: str | Path):
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CorruptFileError(f"{path} is corrupt: {error}") from None


def capture_rng(generator: torch.Generator) -> dict:
    """Every random state a run may touch: its own generator, torch (CPU and CUDA), Python and NumPy."""
    version, internal, gauss = random.getstate()
    kind, keys, position, has_gauss, cached = np.random.get_state()
    return dict(
        generator=generator.get_state(),
        torch_cpu=torch.get_rng_state(),
        torch_cuda=torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        python=[version, list(internal), gauss],
        numpy=[kind, torch.from_numpy(keys.astype(np.int64)), position, has_gauss, cached],
    )


def restore_rng(state: dict, generator: torch.Generator) -> None:
    generator.set_state(state["generator"])
    torch.set_rng_state(state["torch_cpu"])
    if state["torch_cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["torch_cuda"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, cached))


_ACTIVE_STOPS: list[dict] = []  # the flags of the stop_on_signals contexts now open in this process, outermost first


@contextmanager
def stop_on_signals(forward_to_children: bool = False, watch_parent: bool = False):
    """While active, SIGINT and SIGTERM set a flag instead of killing; ``requested()`` returns the signal
    number that arrived (0 while none has).

    Long loops call it between generations, save a checkpoint and raise :class:`StopRequested`.
    ``forward_to_children`` (a campaign's main process) passes the signal on to this process's children,
    the worker processes, so that each saves its checkpoint too. ``watch_parent`` (a worker) requests a
    stop as if by SIGTERM once the process that started it is gone, so that no worker outlives a killed
    campaign and runs beside a later resume. A context opened inside another (a job inside its campaign)
    also reports a signal that the enclosing one caught before it opened, and hands the enclosing ones a signal
    it caught itself when it closes (a job that finished anyway): a stop is never lost between jobs.
    """
    flag = {"stop": 0}
    enclosing = list(_ACTIVE_STOPS)  # a signal caught by an enclosing context (between two jobs) stops this one too
    handlers = {}

    def handle(signum, frame):
        flag["stop"] = signum
        if forward_to_children:
            for pid in child_processes():
                try:
                    os.kill(pid, signum)
                except ProcessLookupError:
                    pass

    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            handlers[sig] = signal.signal(sig, handle)
    except ValueError:  # not the main thread: no handlers, no graceful stop
        pass
    if watch_parent:
        _watch_parent(flag)
    _ACTIVE_STOPS.append(flag)
    try:
        yield lambda: flag["stop"] or next((outer["stop"] for outer in enclosing if outer["stop"]), 0)
    finally:
        _ACTIVE_STOPS[:] = [active for active in _ACTIVE_STOPS if active is not flag]  # flags compare equal
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        for outer in enclosing:  # a job that caught a signal in its last generation and finished: the next stops
            outer["stop"] = outer["stop"] or flag["stop"]


def child_processes() -> list[int]:
    """The process ids whose parent is this process (from /proc on Linux; none elsewhere)."""
    me, children = os.getpid(), []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == me:
            children.append(int(entry.parent.name))
    return children


def _watch_parent(flag: dict, seconds: float = 1.0) -> None:
    """A daemon thread that sets ``flag["stop"]`` to SIGTERM once this process's parent has changed."""
    import threading
    import time

    parent = os.getppid()

    def watch():
        while not flag["stop"]:
            if os.getppid() != parent:
                flag["stop"] = signal.SIGTERM
                return
            time.sleep(seconds)

    threading.Thread(target=watch, daemon=True, name="evofool-parent-watch").start()
