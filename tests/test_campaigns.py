"""Campaigns: MAP-Elites fills every class, checkpoints resume exactly, crashes and corruption lose nothing."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import evofool
from evofool.algorithms.map_elites import map_elites
from evofool.campaigns import CampaignConfig, CorruptFileError, run_campaign, start_campaign
from evofool.campaigns.checkpoint import load_checkpoint, save_checkpoint
from evofool.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_map_elites_keeps_one_improving_elite_per_class(lenet):
    rows = []
    result = map_elites(lenet, "direct", pop_size=32, generations=15, seed=0, on_generation=rows.append)
    assert result.images.shape == (10, 1, 28, 28)
    assert [row["filled"] for row in rows] == [10.0] * 16
    medians = [row["median"] for row in rows]
    assert medians == sorted(medians) and medians[-1] > medians[0]  # elites are only ever replaced by better
    scores = lenet.probs(result.images)
    assert torch.allclose(scores.diagonal(), result.archive.confidence, atol=1e-4)  # each cell is its class's elite


def _stop_at(gen, saved):
    def checkpoint(state):
        if state["gen"] == gen:
            saved.update({k: (v.clone() if torch.is_tensor(v) else v) for k, v in state.items()})
    return checkpoint


@pytest.mark.parametrize("encoding", ["direct", "cppn"])  # the CPPN GA keeps species too
def test_evolve_resumed_from_a_checkpoint_ends_where_an_unbroken_run_ends(lenet, encoding, tmp_path):
    run = dict(algorithm="ga", encoding=encoding, pop_size=16, seed=4, target_confidence=None)
    whole = evofool.evolve(lenet, "Coat", generations=12, **run)
    saved = {}
    evofool.evolve(lenet, "Coat", generations=5, checkpoint=_stop_at(5, saved), **run)
    if encoding == "cppn":  # through a file, as a campaign stores it and reads it back (weights only)
        save_checkpoint(tmp_path / "checkpoint.pt", saved)
        saved = load_checkpoint(tmp_path / "checkpoint.pt")
    resumed = evofool.evolve(lenet, "Coat", generations=12, resume=saved, **run)
    assert torch.equal(whole.image, resumed.image) and whole.confidence == resumed.confidence
    assert [r["best"] for r in whole.logbook] == [r["best"] for r in resumed.logbook]


def test_map_elites_resumed_from_a_checkpoint_ends_where_an_unbroken_run_ends(lenet):
    whole = map_elites(lenet, "cppn", pop_size=16, generations=8, seed=2)
    saved = {}
    map_elites(lenet, "cppn", pop_size=16, generations=3, seed=2, checkpoint=_stop_at(3, saved))
    resumed = map_elites(lenet, "cppn", pop_size=16, generations=8, seed=2, resume=saved)
    assert torch.equal(whole.archive.confidence, resumed.archive.confidence)
    assert torch.equal(whole.images, resumed.images)


def _config(**changes):
    base = dict(model="lenet_fmnist", encoding="direct", algorithm="per-class", classes=["Bag", "Sandal", "Coat"],
                generations=40, pop=16, seeds=[0], checkpoint_every=2)
    return CampaignConfig(**{**base, **changes})


def _manifest(path):
    return json.loads((path / "manifest.json").read_text())


def test_corrupt_checkpoint_is_reported_by_name_and_kept(tmp_path, capsys):
    out = start_campaign(_config(), tmp_path / "c")
    job_dir = out / "jobs" / "0008-bag-seed0"
    job_dir.mkdir(parents=True)
    (job_dir / "checkpoint.pt").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(CorruptFileError, match="checkpoint.pt"):
        run_campaign(_config(), out)
    assert main(["campaign", "--resume", str(out)]) == 2
    assert "0008-bag-seed0/checkpoint.pt" in capsys.readouterr().err
    assert (job_dir / "checkpoint.pt").read_bytes() == b"PK\x03\x04 truncated"


def test_corrupt_manifest_is_reported_not_rebuilt(tmp_path):
    out = start_campaign(_config(classes=["Bag"]), tmp_path / "c")
    (out / "manifest.json").write_text('{"elites": [')
    with pytest.raises(CorruptFileError, match="manifest.json"):
        run_campaign(_config(classes=["Bag"]), out)
    assert (out / "manifest.json").read_text() == '{"elites": ['


def test_existing_campaign_needs_force(tmp_path, capsys):
    args = ["campaign", "--model", "lenet_fmnist", "--encoding", "direct", "--classes", "Bag", "--generations", "2",
            "--pop", "8", "--out", str(tmp_path / "c")]
    assert main(args) == 0
    assert main(args) == 2 and "--resume" in capsys.readouterr().err
    assert main(args + ["--force"]) == 0


def _campaign_cli(out, *extra):
    return [sys.executable, "-m", "evofool.cli", "campaign", "--model", "lenet_fmnist", "--encoding", "cppn",
            "--algorithm", "per-class", "--classes", "Bag,Sandal,Coat,Shirt", "--generations", "50", "--pop", "16",
            "--checkpoint-every", "3", "--out", str(out), *extra]


def _wait_for(path, timeout=60):
    deadline = time.time() + timeout
    while not path.exists() and time.time() < deadline:
        time.sleep(0.02)
    return time.time()


def test_campaign_killed_at_a_random_moment_resumes_to_the_same_manifest(tmp_path):
    reference = tmp_path / "reference"
    process = subprocess.Popen(_campaign_cli(reference), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = _wait_for(reference / "campaign.json")
    assert process.wait() == 0
    duration = time.time() - started

    crashed = tmp_path / "crashed"
    process = subprocess.Popen(_campaign_cli(crashed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(crashed / "campaign.json")
    time.sleep(random.uniform(0, duration))
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = {p.parent.name for p in crashed.glob("jobs/*/done.json")}
    subprocess.run([sys.executable, "-m", "evofool.cli", "campaign", "--resume", str(crashed)], check=True,
                   capture_output=True)
    assert done_before <= {p.parent.name for p in crashed.glob("jobs/*/done.json")}
    assert _manifest(crashed) == _manifest(reference)


def test_sigterm_stops_with_a_checkpoint_and_resume_finishes(tmp_path):
    out = tmp_path / "stopped"
    # seed 1, 400 generations: the first job (Coat) runs them all (about 8 s), so the signal lands mid-job even
    # when this process is slow to look; a finished job keeps its checkpoint, so only an unfinished one counts
    process = subprocess.Popen(_campaign_cli(out, "--generations", "400", "--seeds", "1"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60

    def running_job_checkpointed():
        return any(not (path.parent / "done.json").exists() for path in out.glob("jobs/*/checkpoint.pt"))

    while not running_job_checkpointed() and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143 and "--resume" in err, err[-2000:]  # 128 + SIGTERM, state saved
    assert list(out.glob("jobs/*/checkpoint.pt"))
    assert main(["campaign", "--resume", str(out)]) == 0
    assert _manifest(out)["jobs_done"] == 4


def test_dask_cluster_runs_the_same_campaign_as_loky(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    config = _config(classes=["Bag", "Trouser"], generations=10)
    run_campaign(config, start_campaign(config, tmp_path / "loky"), jobs=2, executor="loky")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        run_campaign(config, start_campaign(config, tmp_path / "dask"), executor="dask", scheduler=cluster.scheduler_address)
    assert _manifest(tmp_path / "dask") == _manifest(tmp_path / "loky")


def test_campaign_jobs_stop_at_the_budget_with_the_chosen_search(tmp_path):
    out = tmp_path / "c"
    assert main(["campaign", "--model", "lenet_fmnist", "--encoding", "direct", "--algorithm", "per-class",
                 "--classes", "Bag,Coat", "--search", "sep-cma", "--budget", "48", "--pop", "16",
                 "--generations", "500", "--out", str(out)]) == 0
    for job in ("0008-bag-seed0", "0004-coat-seed0"):
        result = json.loads((out / "jobs" / job / "result.json").read_text())
        # three generations of 16 samples and the strategy's mean: the budget, plus less than one batch
        assert result["stopped_by"] == "budget" and result["evaluations"] == 3 * 17
        assert result["config"]["algorithm"] == "sep-cma"


@pytest.mark.parametrize("extra, message", [
    (["--checkpoint-every", "0"], "--checkpoint-every must be at least 1"),
    (["--budget", "3"], "must cover at least one population"),
    (["--emitters", "-1"], "--emitters must be 0 or more"),
])
def test_bad_campaign_options_exit_2_before_anything_is_written(tmp_path, capsys, extra, message):
    out = tmp_path / "c"
    assert main(["campaign", "--model", "lenet_fmnist", "--encoding", "direct", "--pop", "8", "--out", str(out),
                 *extra]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def _descendants(pid):
    """Every process in ``pid``'s session but itself (the campaign runs in a session of its own)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == pid and int(entry.parent.name) != pid:
            found.append(int(entry.parent.name))
    return found


def _alive(pids):
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive


def _start_parallel(out):
    """Two MAP-Elites jobs (no target stops them) on two loky workers, in a session of their own."""
    cli = [sys.executable, "-m", "evofool.cli", "campaign", "--model", "perceptron_digits", "--encoding", "direct",
           "--algorithm", "map-elites", "--seeds", "0", "1", "--generations", "100000", "--pop", "16",
           "--checkpoint-every", "3", "--jobs", "2", "--out", str(out)]
    process = subprocess.Popen(cli, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    deadline = time.time() + 90
    while len(list(out.glob("jobs/*/checkpoint.pt"))) < 2 and time.time() < deadline:
        time.sleep(0.1)
    workers = _descendants(process.pid)
    assert workers, "the campaign started no worker processes"
    return process, workers


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_a_parallel_campaign_stops_every_worker_at_a_checkpoint(tmp_path, sent):
    out = tmp_path / "parallel"
    process, workers = _start_parallel(out)
    assert main(["campaign", "--resume", str(out)]) == 2  # refused beside the live run (campaign.lock)
    process.send_signal(sent)
    _, err = process.communicate(timeout=90)
    assert process.returncode == 128 + sent and "--resume" in err and "Traceback" not in err
    deadline = time.time() + 30
    while _alive(workers) and time.time() < deadline:
        time.sleep(0.2)
    assert not _alive(workers)
    assert not (out / "campaign.lock").exists()
    assert len(list(out.glob("jobs/*/checkpoint.pt"))) == 2


def test_workers_of_a_killed_campaign_stop_and_a_resume_cleans_up(tmp_path):
    out = tmp_path / "killed"
    process, workers = _start_parallel(out)
    process.kill()  # SIGKILL: no handler runs in the main process
    process.wait(timeout=30)
    deadline = time.time() + 30
    while _alive(workers) and time.time() < deadline:
        time.sleep(0.2)
    assert not _alive(workers)  # orphaned workers noticed and left
    stale = out / "jobs" / next(p.name for p in (out / "jobs").iterdir()) / ".checkpoint.pt.abandoned"
    stale.write_bytes(b"x" * 1000)
    config = json.loads((out / "campaign.json").read_text())
    assert (out / "campaign.lock").exists() and config["generations"] == 100000
    config["generations"] = 5
    (out / "campaign.json").write_text(json.dumps(config))
    assert main(["campaign", "--resume", str(out)]) == 0  # the dead run's lock is taken over
    assert not stale.exists()
    assert _manifest(out)["jobs_done"] == 2


def test_resume_keeps_the_campaigns_jobs_and_says_what_it_ignores(tmp_path, capsys):
    out = tmp_path / "c"
    assert main(["campaign", "--model", "perceptron_digits", "--encoding", "direct", "--generations", "3",
                 "--pop", "8", "--seeds", "0", "1", "--jobs", "2", "--out", str(out)]) == 0
    stored = json.loads((out / "campaign.json").read_text())
    assert stored["jobs"] == 2 and stored["executor"] == "loky"
    capsys.readouterr()
    assert main(["campaign", "--resume", str(out), "--generations", "50", "--model", "lenet_fmnist"]) == 0
    err = capsys.readouterr().err
    assert "ignoring --model, --generations" in err
    assert json.loads((out / "campaign.json").read_text())["generations"] == 3


def test_a_campaign_json_with_an_unknown_key_is_named(tmp_path, capsys):
    out = tmp_path / "c"
    assert main(["campaign", "--model", "perceptron_digits", "--encoding", "direct", "--generations", "2",
                 "--pop", "8", "--out", str(out)]) == 0
    config = json.loads((out / "campaign.json").read_text())
    config["surprise"] = 1
    (out / "campaign.json").write_text(json.dumps(config))
    assert main(["campaign", "--resume", str(out)]) == 2
    assert "campaign.json is not a campaign configuration (unknown keys: surprise)" in capsys.readouterr().err


def test_a_campaign_and_a_transfer_take_a_model_file_with_labels(tmp_path, perceptron):
    model, labels = tmp_path / "digits.pt", tmp_path / "labels.json"
    torch.jit.script(perceptron.module.cpu()).save(str(model))
    labels.write_text(json.dumps({"labels": perceptron.labels, "input_size": [1, 8, 8]}))
    out = tmp_path / "c"
    assert main(["campaign", "--model", str(model), "--labels", str(labels), "--encoding", "direct",
                 "--generations", "3", "--pop", "8", "--out", str(out)]) == 0
    assert main(["transfer", str(out), "--models", f"perceptron_digits,{model}", "--labels", str(labels)]) == 0
    assert (out / "transfer.json").exists()


def test_a_campaign_whose_job_fails_exits_1_naming_the_job(tmp_path, capsys):
    out = tmp_path / "c"
    config = _config(classes=["Bag", "Coat"], generations=3)
    start_campaign(config, out)
    labels = evofool.load_classifier("lenet_fmnist").labels
    job = sorted(j["id"] for j in evofool.campaigns.campaign.jobs_of(config, labels))[0]
    (out / "jobs" / job).mkdir(parents=True)
    torch.save({"gen": 1}, out / "jobs" / job / "checkpoint.pt")  # readable, but not a job's state
    assert main(["campaign", "--resume", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"1 job(s) failed: {out}/jobs/{job}/error.txt" in err
    assert _manifest(out)["failed_jobs"] == [job] and _manifest(out)["jobs_done"] == 1


def test_force_does_not_replace_a_campaign_that_is_running(tmp_path, capsys):
    out = tmp_path / "c"
    argv = ["campaign", "--model", "perceptron_digits", "--encoding", "direct", "--generations", "2", "--pop", "8",
            "--out", str(out)]
    assert main(argv) == 0
    (out / "campaign.lock").write_text(str(os.getpid()))  # a live process holds it
    assert main([*argv, "--force"]) == 2
    assert "is running (process" in capsys.readouterr().err
    assert (out / "manifest.json").exists()


def test_a_resume_waits_for_a_live_worker_of_an_earlier_run(tmp_path, capsys, monkeypatch):
    import evofool.campaigns.locking as locking

    out = tmp_path / "c"
    config = _config(classes=["Bag"], generations=3)
    start_campaign(config, out)
    job_dir = out / "jobs" / "0008-bag-seed0"
    job_dir.mkdir(parents=True)
    straggler = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (job_dir / "worker.pid").write_text(str(straggler.pid))
        monkeypatch.setattr(locking, "WORKER_GRACE_SECONDS", 0.5)
        assert main(["campaign", "--resume", str(out)]) == 2
        assert f"processes {straggler.pid}" in capsys.readouterr().err
        assert not (job_dir / "done.json").exists()
    finally:
        straggler.kill()
        straggler.wait()
    assert main(["campaign", "--resume", str(out)]) == 0  # its process is gone: the job runs
    assert (job_dir / "done.json").exists() and not (job_dir / "worker.pid").exists()


def test_a_genome_size_the_model_cannot_take_is_refused_before_the_campaign_starts(tmp_path, capsys):
    from evofool.cli import main

    out = tmp_path / "c"
    assert main(["campaign", "--model", "lenet_fmnist", "--encoding", "direct", "--genome-size", "99",
                 "--generations", "1", "--out", str(out)]) == 2
    assert "--genome-size must be in 1..28" in capsys.readouterr().err
    assert not out.exists()


def test_a_cppn_campaign_stores_its_render_grid_and_colour_mode_and_older_ones_resume_as_they_drew(tmp_path):
    from evofool.campaigns import load_campaign
    from evofool.encodings.cppn.render import DEFAULT_COLOR_MODE, DEFAULT_RENDER_SIDE

    cppn = start_campaign(CampaignConfig(model="perceptron_digits", generations=2, pop=8), tmp_path / "cppn")
    direct = start_campaign(CampaignConfig(model="perceptron_digits", encoding="direct", generations=2, pop=8),
                            tmp_path / "direct")
    assert json.loads((cppn / "campaign.json").read_text())["render_side"] == DEFAULT_RENDER_SIDE
    assert json.loads((direct / "campaign.json").read_text())["render_side"] is None
    assert json.loads((cppn / "campaign.json").read_text())["color_mode"] == DEFAULT_COLOR_MODE
    stored = json.loads((cppn / "campaign.json").read_text())
    del stored["render_side"], stored["color_mode"]  # as written before render grids and colour modes existed
    (cppn / "campaign.json").write_text(json.dumps(stored))
    assert load_campaign(cppn).render_side == 0 and load_campaign(direct).render_side is None
    assert load_campaign(cppn).color_mode == "rgb" and load_campaign(direct).color_mode is None
    with pytest.raises(ValueError, match="the direct encoding has none"):
        CampaignConfig(model="perceptron_digits", encoding="direct", color_mode="rgb").validate()
    stored["render_side"] = -5
    (cppn / "campaign.json").write_text(json.dumps(stored))
    with pytest.raises(CorruptFileError, match="render side"):
        load_campaign(cppn)


def test_a_direct_campaign_stores_its_grid_and_older_ones_resume_on_the_grid_they_evolved(tmp_path):
    from evofool.campaigns import load_campaign

    def stored(out):
        return json.loads((out / "campaign.json").read_text())

    ga = start_campaign(CampaignConfig(model="lenet_fmnist", algorithm="per-class", search="ga", encoding="direct",
                                       generations=2, pop=8), tmp_path / "ga")
    snes = start_campaign(CampaignConfig(model="lenet_fmnist", algorithm="per-class", encoding="direct",
                                         generations=2, pop=8), tmp_path / "snes")
    digits = start_campaign(CampaignConfig(model="perceptron_digits", algorithm="per-class", search="ga",
                                           encoding="direct", generations=2, pop=8), tmp_path / "digits")
    grid = ("genome_size", "upsample", "refine_after", "tournsize")
    assert [stored(ga)[name] for name in grid] == [14, "nearest", 60, 3]
    assert [stored(snes)[name] for name in grid] == [16, "bilinear", 0, None]
    assert [stored(digits)[name] for name in grid] == [8, "nearest", 0, 3]
    for out in (ga, digits):  # as written before grids were stored: 16 x 16 (at most the input), bilinear
        older = {name: value for name, value in stored(out).items() if name not in ("refine_after", "tournsize")}
        (out / "campaign.json").write_text(json.dumps(dict(older, genome_size=None, upsample=None)))
    assert [getattr(load_campaign(ga), name) for name in grid] == [16, "bilinear", 0, 2]
    assert (load_campaign(digits).genome_size, load_campaign(digits).upsample) == (8, "bilinear")
    assert (load_campaign(snes).genome_size, load_campaign(snes).upsample) == (16, "bilinear")


def test_unsolved_parent_draw_breeds_from_weak_cells_in_proportion_to_what_they_lack():
    from evofool.algorithms.map_elites import UNSOLVED_FLOOR, draw_parents

    confidence = torch.tensor([1.0] * 9 + [0.0])  # nine solved cells and one empty one
    drawn = draw_parents(confidence, 20000, "unsolved", torch.Generator().manual_seed(0))
    expected = (1 + UNSOLVED_FLOOR) / (1 + 10 * UNSOLVED_FLOOR)  # about 0.92 of the children
    assert abs((drawn == 9).float().mean().item() - expected) < 0.01
    assert set(drawn.tolist()) == set(range(10))  # a solved cell still breeds now and then
    uniform = draw_parents(confidence, 20000, "uniform", torch.Generator().manual_seed(0))
    assert abs((uniform == 9).float().mean().item() - 0.1) < 0.01
    with pytest.raises(ValueError, match="unknown parent draw"):
        draw_parents(confidence, 4, "fittest", torch.Generator())


def test_map_elites_draws_weak_cells_by_default_and_either_draw_resumes_exactly(lenet):
    for parents in ("unsolved", "uniform"):
        whole = map_elites(lenet, "direct", pop_size=16, generations=6, seed=1, genome_size=14, parents=parents)
        saved = {}
        map_elites(lenet, "direct", pop_size=16, generations=3, seed=1, genome_size=14, parents=parents,
                   checkpoint=_stop_at(3, saved))
        resumed = map_elites(lenet, "direct", pop_size=16, generations=6, seed=1, genome_size=14, parents=parents,
                             resume=saved)
        assert torch.equal(whole.archive.confidence, resumed.archive.confidence)
    default = map_elites(lenet, "direct", pop_size=16, generations=6, seed=1, genome_size=14)
    assert torch.equal(default.archive.confidence, whole.archive.confidence) is False  # the draws differ
    assert torch.equal(default.archive.confidence,
                       map_elites(lenet, "direct", pop_size=16, generations=6, seed=1, genome_size=14,
                                  parents="unsolved").archive.confidence)
    with pytest.raises(ValueError, match="unknown parent draw"):
        map_elites(lenet, "direct", pop_size=16, generations=1, parents="best")


def test_a_map_elites_campaign_stores_its_parent_draw_and_older_ones_resume_uniform(tmp_path, capsys):
    from evofool.algorithms.map_elites import DEFAULT_PARENT_DRAW
    from evofool.campaigns import load_campaign

    new = start_campaign(CampaignConfig(model="perceptron_digits", generations=2, pop=8), tmp_path / "new")
    assert json.loads((new / "campaign.json").read_text())["parents"] == DEFAULT_PARENT_DRAW
    stored = json.loads((new / "campaign.json").read_text())
    del stored["parents"]  # as written before parent draws existed
    (new / "campaign.json").write_text(json.dumps(stored))
    assert load_campaign(new).parents == "uniform"
    stored["parents"] = "fittest"
    (new / "campaign.json").write_text(json.dumps(stored))
    with pytest.raises(CorruptFileError, match="unknown parent draw"):
        load_campaign(new)
    per_class = start_campaign(_config(), tmp_path / "per-class")
    assert json.loads((per_class / "campaign.json").read_text())["parents"] is None
    out = tmp_path / "bad"
    assert main(["campaign", "--model", "lenet_fmnist", "--algorithm", "per-class", "--classes", "Bag",
                 "--parents", "uniform", "--out", str(out)]) == 2
    assert "per-class jobs have none" in capsys.readouterr().err and not out.exists()


def test_a_per_class_cppn_campaign_stores_its_cppn_defaults_and_older_ones_resume_as_begun(tmp_path):
    from evofool.campaigns import load_campaign

    out = start_campaign(_config(encoding="cppn", classes=["Bag"], generations=1, pop=8), tmp_path / "cppn")
    stored = json.loads((out / "campaign.json").read_text())
    settings = ("grown_start", "new_weight_range", "split_weight_range", "new_node_inputs", "new_node_outputs",
                "distinct_survivors", "species")
    assert [stored[name] for name in settings] == [15, 10.0, 10.0, 0.5, 0.5, True, 6]  # the GA's defaults at 28 px
    for name in settings:
        del stored[name]  # as written before these settings existed
    (out / "campaign.json").write_text(json.dumps(stored))
    older = load_campaign(out)
    assert [getattr(older, name) for name in settings] == [0, 2.0, 0.0, 0.0, 0.0, False, 0]
    run_campaign(older, out)
    result = json.loads((out / "jobs" / "0008-bag-seed0" / "result.json").read_text())
    params = result["config"]["encoding_params"]  # the job ran as the campaign was begun
    rates = params["rates"]
    assert [params["grown_start"], rates["new_weight_range"], rates["split_weight_range"], rates["new_node_inputs"],
            rates["new_node_outputs"], result["config"]["distinct_survivors"],
            result["config"]["species"]] == [0, 2.0, 0.0, 0.0, 0.0, False, 0]
    map_elites_campaign = start_campaign(CampaignConfig(model="perceptron_digits", generations=2, pop=8),
                                         tmp_path / "map-elites")
    stored = json.loads((map_elites_campaign / "campaign.json").read_text())
    assert all(stored[name] is None for name in settings)
    with pytest.raises(ValueError, match="grown_start set how the GA .* map-elites jobs on the cppn encoding"):
        CampaignConfig(model="perceptron_digits", grown_start=5).validate()
    with pytest.raises(ValueError, match="grown_start and new_weight_range set .* on the direct encoding have none"):
        _config(encoding="direct", grown_start=5, new_weight_range=5.0).validate()
    with pytest.raises(ValueError, match=r"weight range must be a number in \(0, 10\], got 0"):
        _config(encoding="cppn", new_weight_range=0).validate()
    with pytest.raises(ValueError, match="whole number of mutation rounds"):
        _config(encoding="cppn", grown_start=-1).validate()
    with pytest.raises(ValueError, match="distinct_survivors is true or false, got 'yes'"):
        _config(encoding="cppn", distinct_survivors="yes").validate()
    with pytest.raises(ValueError, match="species must be a whole number >= 0"):
        _config(encoding="cppn", species=1.5).validate()
