"""Campaigns: many searches, run in parallel, recorded so that a crash loses nothing.

A campaign is a list of jobs: one MAP-Elites run per seed, or one ``evolve`` run per (class, seed).
Each job works in ``DIR/jobs/<id>/``, checkpoints there every few generations and on SIGINT/SIGTERM, and
marks itself done by writing ``done.json`` last. The manifest and ``DIR/elites/`` are rebuilt from the
done jobs, so resuming just runs what is not done (from its checkpoint when it has one).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import socket
import sys
import traceback
from dataclasses import asdict, fields
from pathlib import Path

import torch

from ..algorithms.map_elites import DEFAULT_PARENT_DRAW
from ..classifiers import load_classifier
from ..classifiers.backends import check_backend
from ..classifiers.base import find_class
from ..encodings.cppn.render import DEFAULT_COLOR_MODE, DEFAULT_RENDER_SIDE
from ..images import save_png
from ..results import check_writable, save_result, write_logbook
from .checkpoint import (CorruptFileError, StopRequested, capture_rng, load_checkpoint, read_json, restore_rng,
                         save_checkpoint, stop_on_signals, write_json)
from .config import EXECUTORS, CampaignConfig
from .locking import campaign_lock, lock_holder, remove_stale_temporaries, wait_for_earlier_workers
from .older import fill_older_direct_grid, fill_older_settings


def jobs_of(config: CampaignConfig, labels: list[str]) -> list[dict]:
    """The campaign's jobs in a fixed order (their ids name their directories)."""
    if config.algorithm == "map-elites":
        return [dict(id=f"map-elites-seed{seed}", seed=seed) for seed in config.seeds]
    return [dict(id=f"{index:04d}-{slug(labels[index])}-seed{seed}", seed=seed, target=index)
            for index in resolve_classes(config, labels) for seed in config.seeds]


def resolve_classes(config: CampaignConfig, labels: list[str]) -> list[int]:
    """The class indices of a campaign; a class named twice (by name or index) is refused."""
    if config.classes == "all":
        return list(range(len(labels)))
    indices = [find_class(labels, c, config.model) for c in config.classes]
    repeated = sorted({labels[i] for i in indices if indices.count(i) > 1})
    if repeated:
        raise ValueError(f"classes named more than once: {', '.join(repeated)}")
    return indices


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "class"


def run_job(job: dict, config: dict, directory: str, device: str | None = None, on_generation=None,
            in_worker: bool = False) -> str:
    """Run one job in its own directory (in this process or a worker); returns 'done', 'failed' or
    'stopped:<signal number>' (a checkpoint was saved). A job ``in_worker`` (a loky or Dask worker process)
    whose parent dies saves its checkpoint and exits the worker, so that no worker outlives its campaign.

    ``on_generation`` (in-process runs only) receives each logbook row, for a progress bar."""
    config = CampaignConfig(**config)
    job_dir = Path(directory) / "jobs" / job["id"]
    job_dir.mkdir(parents=True, exist_ok=True)
    parent, pid_file = os.getppid(), job_dir / "worker.pid"
    pid_file.write_text(str(os.getpid()))  # a resume waits for this process before it runs the job again
    try:
        with stop_on_signals(watch_parent=in_worker) as stop_requested:
            _run(job, config, job_dir, device, stop_requested, on_generation)
        (job_dir / "error.txt").unlink(missing_ok=True)
        write_json(job_dir / "done.json", {"id": job["id"]})
        return "done"
    except StopRequested as stop:
        if in_worker and os.getppid() != parent:
            pid_file.unlink(missing_ok=True)
            os._exit(128 + signal.SIGTERM)  # orphaned: nobody is left to read the status
        return f"stopped:{stop.args[0] if stop.args else signal.SIGINT}"
    except CorruptFileError:
        raise
    except Exception:
        (job_dir / "error.txt").write_text(traceback.format_exc())
        return "failed"
    finally:
        pid_file.unlink(missing_ok=True)


def _run(job, config, job_dir, device, stop_requested, on_generation):
    classifier = _classifier(config.model, device, config.pop if config.compile else None, config.labels,
                             config.backend, config.precision)
    generator_for_rng = torch.Generator()
    checkpoint_file = job_dir / "checkpoint.pt"
    resume = None
    if checkpoint_file.exists():
        resume = load_checkpoint(checkpoint_file)
        restore_rng(resume["rng"], generator_for_rng)

    def checkpoint(state):
        if state["gen"] % config.checkpoint_every == 0 or stop_requested():
            save_checkpoint(checkpoint_file, dict(state, rng=capture_rng(generator_for_rng), job=job))
        if stop_requested():
            raise StopRequested(stop_requested())

    if config.algorithm == "per-class":
        from ..evolve import evolve

        result = evolve(classifier, job["target"], encoding=config.encoding, pop_size=config.pop,
                        generations=config.generations, seed=job["seed"], target_confidence=config.target_confidence,
                        checkpoint=checkpoint, resume=resume, on_generation=on_generation, budget=config.budget,
                        algorithm=config.search, genome_size=config.genome_size, upsample=config.upsample,
                        refine_after=config.refine_after, tournsize=config.tournsize,
                        render_side=config.render_side, color_mode=config.color_mode,
                        grown_start=config.grown_start, new_weight_range=config.new_weight_range,
                        split_weight_range=config.split_weight_range, new_node_inputs=config.new_node_inputs,
                        new_node_outputs=config.new_node_outputs,
                        distinct_survivors=config.distinct_survivors, species=config.species)
        save_result(result, job_dir, force=True)
        return
    from ..algorithms.map_elites import map_elites

    classes = None if config.classes == "all" else config.classes
    result = map_elites(classifier, config.encoding, classes, config.pop, config.generations, job["seed"],
                        genome_size=config.genome_size, upsample=config.upsample, render_side=config.render_side,
                        color_mode=config.color_mode, checkpoint=checkpoint, resume=resume,
                        on_generation=on_generation, budget=config.budget, emitters=config.emitters,
                        parents=config.parents or DEFAULT_PARENT_DRAW)
    cells = []
    for k, index in enumerate(result.archive.classes):
        save_png(result.images[k], job_dir / f"{index:04d}.png")
        if result.genome_dicts[k] is not None:
            write_json(job_dir / f"{index:04d}.json", result.genome_dicts[k])
        cells.append(dict(index=index, confidence=float(result.archive.confidence[k]),
                          generation=int(result.archive.found[k])))
    write_json(job_dir / "cells.json", dict(cells=cells, evaluations=result.evaluations, seconds=result.seconds))
    write_logbook(result.logbook, job_dir / "logbook.csv")


@functools.lru_cache(maxsize=2)
def _classifier(model, device, compile_for=None, labels=None, backend="auto", precision="fp32"):
    """The job's classifier, loaded once per worker; ``compile_for``: compile it for batches of that size;
    ``labels``: the labels file of a model file."""
    classifier = load_classifier(model, device=device, labels=labels, backend=backend, precision=precision)
    return classifier.compile(batch_size=compile_for) if compile_for else classifier


def job_status(directory: Path, job: dict) -> str:
    job_dir = directory / "jobs" / job["id"]
    if (job_dir / "done.json").exists():
        read_json(job_dir / "done.json")  # a truncated marker is reported, not trusted
        return "done"
    if (job_dir / "error.txt").exists():
        return "failed"
    if (job_dir / "checkpoint.pt").exists():
        load_checkpoint(job_dir / "checkpoint.pt")  # corrupt checkpoints are reported before any work
        return "started"
    return "new"


def build_manifest(directory: Path, config: CampaignConfig, labels: list[str], jobs: list[dict]) -> dict:
    """Best elite per class over the done jobs; copies images (and genomes) into ``elites/``."""
    best = {}
    for job in jobs:
        job_dir = directory / "jobs" / job["id"]
        if job_status(directory, job) != "done":
            continue
        for cell in _job_cells(job, job_dir, config):
            if cell["index"] not in best or cell["confidence"] > best[cell["index"]]["confidence"]:
                best[cell["index"]] = cell
    elites_dir = directory / "elites"
    elites_dir.mkdir(exist_ok=True)
    elites = []
    for index in sorted(best):
        cell, name = best[index], f"{index:04d}_{slug(labels[index])}"
        shutil.copyfile(cell["image"], elites_dir / f"{name}.png")
        genome = None
        if cell.get("genome") and Path(cell["genome"]).exists():
            shutil.copyfile(cell["genome"], elites_dir / f"{name}.json")
            genome = f"elites/{name}.json"
        elites.append(dict(label=labels[index], index=index, confidence=cell["confidence"], method=cell["method"],
                           generation=cell["generation"], seed=cell["seed"], image=f"elites/{name}.png",
                           genome=genome))
    return dict(model=config.model, encoding=config.encoding, algorithm=config.algorithm,
                jobs_done=sum(job_status(directory, j) == "done" for j in jobs), jobs_total=len(jobs), elites=elites)


def _job_cells(job, job_dir, config):
    method = f"{config.algorithm}/{config.encoding}"
    if config.algorithm == "per-class":
        result = read_json(job_dir / "result.json")
        genome = job_dir / "best.json"
        return [dict(index=job["target"], confidence=result["confidence"], generation=result["generations"],
                     seed=job["seed"], method=method, image=job_dir / "best.png", genome=genome)]
    cells = read_json(job_dir / "cells.json")["cells"]
    return [dict(cell, seed=job["seed"], method=method, image=job_dir / f"{cell['index']:04d}.png",
                 genome=job_dir / f"{cell['index']:04d}.json") for cell in cells]


def campaign_labels(config: CampaignConfig) -> list[str]:
    return _classifier(config.model, "cpu", labels=config.labels).labels


# everything a campaign writes into its directory: what --force replaces, and the names whose presence in a
# directory without campaign.json means it holds someone else's files
CAMPAIGN_FILES = ("campaign.json", "jobs", "elites", "manifest.json", "index.html", "logbook.csv",
                  "contact_sheet.png", "campaign.lock")


def check_scheduler(address: str | None) -> None:
    """Refuse, before anything is written, a Dask scheduler address that nothing answers at (one TCP
    connection; Dask's own client connects again when the campaign runs)."""
    if address is None:
        return
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=5):
            pass
    except (OSError, ValueError, TypeError) as error:
        raise ValueError(f"cannot reach the Dask scheduler {address}: {error}") from None


def start_campaign(config: CampaignConfig, out: str | Path, force: bool = False) -> Path:
    """Create the campaign directory and campaign.json; refuses an existing campaign without ``force``."""
    config.validate()
    out = Path(out)
    if (out / "campaign.json").exists() and not force:
        raise FileExistsError(f"{out} already holds a campaign; pass --resume {out} to continue it or --force")
    check_writable(out, force, marker="campaign.json", owned=CAMPAIGN_FILES)
    labels = campaign_labels(config)
    resolve_classes(config, labels)  # unknown class names fail here, before anything is written
    settle_backend(config)
    if config.encoding.startswith("cppn") and config.render_side is None:
        config.render_side = DEFAULT_RENDER_SIDE  # stored, so that a later default cannot change a resume
    if config.encoding == "cppn" and config.color_mode is None:
        config.color_mode = DEFAULT_COLOR_MODE  # stored, so that a later default cannot change a resume
    if config.algorithm == "map-elites" and config.parents is None:
        config.parents = DEFAULT_PARENT_DRAW  # stored, so that a later default cannot change a resume
    _check_encoding(config)
    if force and (out / "campaign.json").exists():  # an earlier campaign of evofool's: replace what it wrote
        holder = lock_holder(out / "campaign.lock")
        if holder is not None:
            raise FileExistsError(f"the campaign in {out} is running (process {holder}); stop it before --force")
        replaced = [name for name in CAMPAIGN_FILES if (out / name).exists()]
        print(f"--force: replacing the campaign in {out} ({', '.join(replaced)})", file=sys.stderr)
        for name in replaced:
            if (out / name).is_dir():
                shutil.rmtree(out / name)
            else:
                (out / name).unlink()
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "campaign.json", asdict(config))
    return out


def settle_backend(config: CampaignConfig) -> None:
    """Replace a new CPU campaign's "auto" by the backend it picks here, on a batch of random images: every job
    and every resume then scores alike. A backend that is named but cannot run is refused here."""
    if _devices():
        check_backend(config.backend, config.precision, torch.device("cuda"))
        return
    classifier = _classifier(config.model, "cpu", None, config.labels, config.backend, config.precision)
    if config.backend == "auto":
        classifier.probs(torch.rand(config.pop, *classifier.input_size, generator=torch.Generator().manual_seed(0)))
        config.backend = classifier.backend


def _check_encoding(config: CampaignConfig) -> None:
    """Build the campaign's encoding once for the model's input, so that a genome size it cannot take is
    refused in one line now rather than failing every job; store the direct grid and the CPPN settings that depend
    on that input."""
    from ..defaults import DEFAULT_ALGORITHM, direct_settings, ga_cppn_defaults
    from ..encodings import make_encoding

    input_size = _classifier(config.model, "cpu", labels=config.labels).input_size
    if config.algorithm == "per-class" and config.encoding == "direct":  # stored, as the CPPN settings below
        settings = direct_settings(config.search or DEFAULT_ALGORITHM, input_size, config.genome_size,
                                   config.upsample, config.refine_after, config.tournsize)
        for name, value in settings.items():
            setattr(config, name, value)
    make_encoding(config.encoding, input_size, config.genome_size, upsample=config.upsample,
                  refine_after=config.refine_after,
                  render_side=config.render_side, color_mode=config.color_mode)
    if config.algorithm == "per-class" and config.encoding == "cppn":
        # stored, so that a later default cannot change a resume
        for name, value in ga_cppn_defaults(input_size).items():
            if getattr(config, name) is None:
                setattr(config, name, value)


def load_campaign(out: str | Path) -> CampaignConfig:
    """The configuration in ``out/campaign.json``, checked: unknown keys or bad values name the file."""
    out = Path(out)
    path = out / "campaign.json"
    if not path.exists():
        raise FileNotFoundError(f"{out} holds no campaign.json: nothing to resume")
    data = read_json(path)
    if isinstance(data, dict):
        fill_older_settings(data)
    known = {f.name for f in fields(CampaignConfig)}
    if not isinstance(data, dict) or "model" not in data or set(data) - known:
        extra = ", ".join(sorted(set(data) - known)) if isinstance(data, dict) else ""
        raise CorruptFileError(f"{path} is not a campaign configuration{f' (unknown keys: {extra})' if extra else ''}")
    config = CampaignConfig(**data)
    try:
        config.validate()
    except (ValueError, TypeError) as error:
        raise CorruptFileError(f"{path}: {error}") from None
    per_class_direct = config.algorithm == "per-class" and config.encoding == "direct"
    if per_class_direct and None in (config.genome_size, config.upsample):
        fill_older_direct_grid(config, _classifier(config.model, "cpu", labels=config.labels).input_size)
    return config


def run_campaign(config: CampaignConfig, out: str | Path, jobs: int = 1, executor: str = "loky",
                 scheduler: str | None = None, on_job=None, on_generation=None) -> dict:
    """Run every job that is not done, then write manifest.json and logbook.csv; returns the manifest.

    With ``jobs=1`` and the loky executor the jobs run in this process (``on_generation`` then sees every
    generation); otherwise through joblib, on loky workers (each scoring with its share of the cores) or on
    a Dask cluster (``scheduler`` address, or a local one). A stop request (SIGINT/SIGTERM) ends the campaign
    after the manifest is written.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; choose from {', '.join(EXECUTORS)}")
    out = Path(out)
    if (out / "manifest.json").exists():
        read_json(out / "manifest.json")  # a corrupt manifest is reported, not silently rebuilt
    labels = campaign_labels(config)
    all_jobs = jobs_of(config, labels)
    pending = [job for job in all_jobs if job_status(out, job) != "done"]
    devices = _devices()
    arguments = [(job, asdict(config), str(out), devices[i % len(devices)] if devices else None)
                 for i, job in enumerate(pending)]
    statuses = []
    try:
        with campaign_lock(out), stop_on_signals(forward_to_children=jobs > 1 and executor == "loky"):
            wait_for_earlier_workers(out, pending)
            remove_stale_temporaries(out)
            _run_jobs(arguments, jobs, executor, scheduler, statuses, on_job, on_generation)
    finally:
        manifest = build_manifest(out, config, labels, all_jobs)
        manifest["failed_jobs"] = [job["id"] for job in all_jobs if (out / "jobs" / job["id"] / "error.txt").exists()
                                   and not (out / "jobs" / job["id"] / "done.json").exists()]
        manifest["failed"] = len(manifest["failed_jobs"])
        write_json(out / "manifest.json", manifest)
        _merge_logbooks(out, all_jobs)
    return manifest


def _run_jobs(arguments, jobs, executor, scheduler, statuses, on_job, on_generation):
    """Each job's ``run_job``: in this process, on loky workers, or through Dask; statuses as they finish."""
    from joblib import Parallel, delayed, parallel_config

    if executor == "dask":
        from dask.distributed import Client

        try:
            client = Client(scheduler, timeout=10) if scheduler else Client(processes=True, n_workers=jobs)
        except OSError as error:  # unreachable or refusing scheduler: nothing has run yet
            raise ValueError(f"cannot reach the Dask scheduler {scheduler}: {error}") from None
        with client, parallel_config(backend="dask"):
            _collect(Parallel(n_jobs=-1, return_as="generator_unordered")(
                delayed(run_job)(*a, in_worker=True) for a in arguments), statuses, on_job)
    elif jobs == 1:
        _collect((run_job(*a, on_generation=on_generation) for a in arguments), statuses, on_job)
    else:
        _collect(Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")(
            delayed(run_job)(*a, in_worker=True) for a in arguments), statuses, on_job)


def _collect(results, statuses, on_job):
    for status in results:
        statuses.append(status)
        if on_job:
            on_job(status)
        if status.startswith("stopped"):
            raise StopRequested(int(status.split(":")[1]))


def _devices() -> list[str]:
    """One GPU per job, round robin, on hosts with several GPUs; otherwise each job uses the default."""
    count = torch.cuda.device_count()
    return [f"cuda:{i}" for i in range(count)] if count > 1 else []


def _merge_logbooks(out: Path, jobs: list[dict]) -> None:
    import csv

    rows = []
    for job in jobs:
        path = out / "jobs" / job["id"] / "logbook.csv"
        if path.exists():
            with open(path) as f:
                rows += [dict(job=job["id"], **row) for row in csv.DictReader(f)]
    if rows:
        write_logbook(rows, out / "logbook.csv")
