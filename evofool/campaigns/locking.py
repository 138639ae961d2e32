"""One process per campaign: the lock a running campaign holds, and what a resume waits for or cleans up
(live workers of an earlier, killed run; the half-written temporary files it left)."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path


def lock_holder(lock: Path) -> int | None:
    """The id of the live process that holds ``lock``, or None (no lock, or its process is gone)."""
    try:
        holder = int(lock.read_text().strip() or 0)
        os.kill(holder, 0)
    except (ValueError, ProcessLookupError, FileNotFoundError):
        return None
    except PermissionError:  # alive, another user's
        pass
    return holder


@contextmanager
def campaign_lock(out: Path):
    """Hold ``out/campaign.lock`` (this process's id) while the campaign runs: a second run of the same
    campaign, a resume beside a live earlier run, is refused; a lock whose process is gone is taken over."""
    lock = out / "campaign.lock"
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            holder = lock_holder(lock)
            if holder is None:
                lock.unlink(missing_ok=True)  # stale: its process is gone
                continue
            raise FileExistsError(f"the campaign in {out} is running (process {holder}); wait for it or stop it "
                                  f"first") from None
    else:
        raise FileExistsError(f"cannot take the lock {lock}")
    with os.fdopen(fd, "w") as f:
        f.write(str(os.getpid()))
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


WORKER_GRACE_SECONDS = 15.0


def wait_for_earlier_workers(out: Path, jobs: list[dict]) -> None:
    """Wait (up to WORKER_GRACE_SECONDS) for workers of an earlier, killed run that are still saving their
    checkpoints (each job's worker.pid names its live process), so that no two processes run one job."""
    deadline = time.monotonic() + WORKER_GRACE_SECONDS
    while True:
        live = [pid for job in jobs if (pid := lock_holder(out / "jobs" / job["id"] / "worker.pid")) is not None]
        if not live:
            return
        if time.monotonic() > deadline:
            raise FileExistsError(f"workers of an earlier run of {out} are still running (processes "
                                  f"{', '.join(map(str, live))}); stop them first")
        time.sleep(0.2)


def remove_stale_temporaries(out: Path) -> None:
    """Delete half-written temporary files (``.NAME.XXXXXXXX`` beside NAME) an earlier, killed run left."""
    for pattern in (".*.json.*", "jobs/*/.*.pt.*", "jobs/*/.*.json.*"):
        for path in out.glob(pattern):
            path.unlink(missing_ok=True)
