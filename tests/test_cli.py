"""The evofool command end to end on small models, including every refusal of bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import evofool
from evofool.cli import main

LOGBOOK_COLUMNS = ["gen", "nevals", "evals", "seconds", "best", "mean", "median"]


def test_models_lists_the_registered_names(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("efficientnet_lite0", "lenet_fmnist", "perceptron_digits", "torchvision:<arch>"):
        assert name in out


def test_classes_grep(capsys):
    assert main(["classes", "lenet_fmnist", "--grep", "boot"]) == 0
    assert capsys.readouterr().out.split() == ["9", "Ankle", "boot"]


def test_evolve_end_to_end_writes_a_checkable_result(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["evolve", "--model", "lenet_fmnist", "--target", "sandal", "--pop", "64", "--generations", "60",
                 "--confidence", "0.99", "--seed", "3", "--out", str(out)])
    assert code == 0
    result = json.loads((out / "result.json").read_text())
    assert result["target"] == "Sandal" and result["target_index"] == 5
    assert result["confidence"] >= 0.99
    assert result["config"]["pop_size"] == 64 and result["seed"] == 3
    assert result["milestones"]["0.99"]["gen"] == result["generations"]
    assert (out / "logbook.csv").read_text().splitlines()[0].split(",") == LOGBOOK_COLUMNS
    capsys.readouterr()

    assert main(["classify", "lenet_fmnist", str(out / "best.png")]) == 0
    first_line = capsys.readouterr().out.splitlines()[1]
    assert "Sandal" in first_line and f"{result['confidence']:.4%}" in first_line


def test_existing_result_is_not_overwritten_without_force(tmp_path, capsys):
    args = ["evolve", "--model", "perceptron_digits", "--target", "1", "--pop", "8", "--generations", "2",
            "--out", str(tmp_path)]
    assert main(args) == 0
    before = (tmp_path / "result.json").read_text()
    assert main(args + ["--seed", "5"]) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "result.json").read_text() == before
    assert main(args + ["--seed", "5", "--force"]) == 0
    assert (tmp_path / "result.json").read_text() != before


@pytest.mark.parametrize("args, code, message", [
    (["--model", "lenet_fmist", "--target", "Bag"], 2, "closest matches: lenet_fmnist"),
    (["--model", "lenet_fmnist", "--target", "sneakr"], 2, "'Sneaker'"),
    (["--model", "lenet_fmnist", "--target", "Bag", "--pop", "1"], 2, "population must be at least 2"),
    (["--model", "lenet_fmnist", "--target", "Bag", "--generations", "0"], 2, "generations must be at least 1"),
    (["--model", "lenet_fmnist", "--target", "Bag", "--confidence", "1.5"], 2, "confidence must be in (0, 1)"),
    (["--model", "lenet_fmnist", "--target", "Bag", "--device", "nonsense"], 2, "unknown device 'nonsense'"),
    (["--model", "lenet_fmnist", "--target", "Bag", "--device", "cuda:99"], 2, "--device cuda:99: "),
    (["--model", "lenet_fmnist", "--target", "²"], 2, "unknown class '²'"),
    (["--model", "lenet_fmnist", "--target", "Bag", "--encoding", "direct", "--genome-size", "0"], 2,
     "--genome-size must be in 1..28"),
    (["--model", "lenet_fmnist", "--target", "Bag", "--encoding", "direct", "--genome-size", "-3"], 2,
     "--genome-size must be in 1..28"),
    (["--model", "lenet_fmnist", "--target", "Bag", "--genome-size", "29"], 2, "input is 28 x 28"),
    (["--model", "lenet_fmnist", "--target", "Bag", "--genome-size", "1"], 2,
     "the pyramid's finest grid needs 2 <= S <= 28"),
    (["--model", "lenet_fmnist", "--target", "Bag", "--algorithm", "ga", "--genome-size", "100"], 2,
     "--genome-size must be in 1..28"),
    (["--model", "lenet_fmnist", "--target", "Bag", "--encoding", "cppn", "--render-side", "1"], 2,
     "the render side is a whole number of pixels of at least 2"),
    (["--model", "lenet_fmnist", "--target", "Bag", "--render-side", "64"], 2, "the pyramid encoding has none"),
    (["--model", "lenet_fmnist", "--target", "Bag", "--color-mode", "rgb"], 2, "the pyramid encoding has none"),
])
def test_bad_input_exits_with_one_line_and_writes_nothing(tmp_path, capsys, args, code, message):
    out = tmp_path / "never"
    assert main(["evolve", *args, "--out", str(out)]) == code
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_default_genome_sizes_fit_a_model_smaller_than_them(perceptron):
    for encoding in ("direct", "dct"):  # the 16 x 16 defaults on the 8 x 8 digits
        result = evofool.evolve(perceptron, 3, encoding=encoding, generations=1)
        assert result.config["encoding_params"]["genome_shape"][1:] == [8, 8]
    assert evofool.evolve(perceptron, 3, generations=1).config["encoding_params"]["sides"] == [2, 4, 8]


def test_unreadable_image_is_reported(tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    assert main(["classify", "lenet_fmnist", str(bad)]) == 2
    assert "cannot read image" in capsys.readouterr().err
    assert main(["classify", "lenet_fmnist", str(tmp_path / "missing.png")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_help_on_every_command(capsys):
    for command in ("models", "classes", "classify", "evolve", "render"):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        assert "usage: evofool " + command in capsys.readouterr().out


def test_cppn_evolve_then_render_at_any_size(tmp_path, capsys):
    out = tmp_path / "cppn"
    assert main(["evolve", "--model", "lenet_fmnist", "--target", "Trouser", "--encoding", "cppn", "--pop", "32",
                 "--generations", "40", "--confidence", "0.9", "--seed", "2", "--out", str(out)]) == 0
    result = json.loads((out / "result.json").read_text())
    genome = json.loads((out / "best.json").read_text())
    assert result["method"] == "cppn" and genome["outputs"] == ["gray"]
    capsys.readouterr()

    poster = tmp_path / "poster.png"
    assert main(["render", str(out / "best.json"), "--size", "100", "--out", str(poster), "--model", "lenet_fmnist"]) == 0
    from PIL import Image

    assert Image.open(poster).size == (100, 100)
    verdict = capsys.readouterr().out
    assert f"{result['confidence']:.4%}  Trouser" in verdict  # re-rendered at 28 x 28: the same image


def test_cppn_run_can_start_from_a_genome(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    args = ["evolve", "--model", "lenet_fmnist", "--encoding", "cppn", "--pop", "16", "--generations", "5"]
    assert main(args + ["--target", "Bag", "--out", str(first)]) == 0
    assert main(args + ["--target", "Dress", "--init", str(first / "best.json"), "--out", str(second)]) == 0
    assert json.loads((second / "result.json").read_text())["config"]["encoding_params"]["init"] is True


@pytest.mark.parametrize("size", ["4", "9000"])
def test_render_refuses_sizes_out_of_range(tmp_path, capsys, size):
    genome = tmp_path / "g.json"
    genome.write_text(json.dumps({"outputs": ["gray"], "nodes": [], "connections": []}))
    assert main(["render", str(genome), "--size", size, "--out", str(tmp_path / "p.png")]) == 2
    assert "8..8192" in capsys.readouterr().err
    assert not (tmp_path / "p.png").exists()


def test_render_names_the_problem_in_a_bad_genome(tmp_path, capsys):
    genome = tmp_path / "cyclic.json"
    genome.write_text(json.dumps({"outputs": ["gray"], "nodes": [{"id": "a", "activation": "sine"}, {"id": "b", "activation": "sine"}],
                                  "connections": [{"from": "a", "to": "b", "weight": 1}, {"from": "b", "to": "a", "weight": 1}]}))
    assert main(["render", str(genome), "--out", str(tmp_path / "p.png")]) == 2
    err = capsys.readouterr().err
    assert "cyclic.json" in err and "cycle" in err


def test_evolve_robust_unknown_transform_is_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["evolve", "--model", "lenet_fmnist", "--target", "Bag", "--robust", "shift,zoom",
                 "--out", str(out)]) == 2
    assert "unknown robust transform 'zoom'; choose from crops, shift, scale, rotate" in capsys.readouterr().err
    assert not out.exists()


def test_evolve_never_overwrites_a_users_files_of_the_same_names_even_with_force(tmp_path, capsys):
    out = tmp_path / "photos"
    out.mkdir()
    (out / "best.png").write_bytes(b"the user's picture")
    for extra in ([], ["--force"]):
        assert main(["evolve", "--model", "perceptron_digits", "--target", "3", "--out", str(out), *extra]) == 2
        assert "evofool did not write (best.png)" in capsys.readouterr().err
    assert (out / "best.png").read_bytes() == b"the user's picture"


@pytest.mark.parametrize("where", ["", "a-file", "/proc/evofool-cannot-write-here"])
def test_a_bad_out_is_refused_before_the_search(tmp_path, capsys, where):
    if where == "a-file":
        where = str(tmp_path / "a-file")
        (tmp_path / "a-file").write_text("x")
    assert main(["evolve", "--model", "perceptron_digits", "--target", "3", "--out", where]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not Path("/proc/evofool-cannot-write-here").exists()


def test_campaign_force_replaces_only_a_campaign_it_wrote(tmp_path, capsys):
    foreign = tmp_path / "d"
    (foreign / "jobs").mkdir(parents=True)
    (foreign / "jobs" / "t").write_text("x")
    argv = ["campaign", "--model", "perceptron_digits", "--algorithm", "per-class", "--classes", "1",
            "--generations", "2", "--pop", "8", "--force"]
    assert main([*argv, "--out", str(foreign)]) == 2
    assert "evofool did not write (jobs)" in capsys.readouterr().err
    assert (foreign / "jobs" / "t").read_text() == "x"
    ours = tmp_path / "c"
    assert main([*argv, "--out", str(ours)]) == 0
    (ours / "jobs" / "stale").write_text("old")
    assert main([*argv, "--out", str(ours)]) == 0
    assert "--force: replacing the campaign" in capsys.readouterr().err
    assert not (ours / "jobs" / "stale").exists() and (ours / "campaign.json").exists()


def test_a_closed_pipe_ends_quietly_and_debug_shows_tracebacks(tmp_path):
    listing = subprocess.run(f"{sys.executable} -m evofool.cli layers efficientnet_lite0 | head -1", shell=True,
                             capture_output=True, text=True, timeout=120)
    assert listing.stdout.strip() and "Traceback" not in listing.stderr and "Broken" not in listing.stderr
    bad = [sys.executable, "-m", "evofool.cli", "evolve", "--model", "perceptron_digits", "--target", "3",
           "--pop", "1", "--out", str(tmp_path / "x")]
    plain = subprocess.run(bad, capture_output=True, text=True, timeout=120)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    debug = subprocess.run(bad, capture_output=True, text=True, timeout=120, env={**os.environ, "EVOFOOL_DEBUG": "1"})
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def _png_claiming(path, width, height):
    """A PNG whose header claims width x height (its data is a 1 x 1 image): what a decompression bomb's
    reader sees first."""
    import io
    import struct
    import zlib

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr : ihdr + 17])))
    path.write_bytes(bytes(data))


def test_images_are_read_at_their_true_range_and_oversize_ones_refused(tmp_path, capsys):
    import numpy as np
    from PIL import Image

    from evofool.images import load_image

    Image.fromarray(np.full((6, 6), 32768, np.uint16)).save(tmp_path / "grey16.png")
    assert load_image(tmp_path / "grey16.png").flatten()[0].item() == pytest.approx(0.5, abs=1e-4)
    assert load_image(tmp_path / "grey16.png", 3).shape == (3, 6, 6)
    _png_claiming(tmp_path / "big.png", 9000, 9000)
    with pytest.raises(ValueError, match="9000 x 9000 pixels"):
        load_image(tmp_path / "big.png")
    _png_claiming(tmp_path / "bomb.png", 20000, 20000)
    with pytest.raises(ValueError, match="bomb.png.*decompression bomb"):
        load_image(tmp_path / "bomb.png")
    assert main(["classify", "lenet_fmnist", str(tmp_path / "bomb.png")]) == 2
    assert "Traceback" not in capsys.readouterr().err


def _genome(nodes, connections):
    return {"format": "evofool-cppn/1", "inputs": ["x", "y", "d", "bias"], "outputs": ["out0"], "nodes": nodes,
            "connections": connections}


@pytest.mark.parametrize("case", ["node-string", "huge-weight", "chain-100k", "bool-weight", "outputs-not-list"])
def test_hostile_genome_files_end_in_one_line_naming_the_file(tmp_path, capsys, case):
    chain = 100_000 if case == "chain-100k" else 2
    nodes = [{"id": f"h{k}", "activation": "sine"} for k in range(chain)]
    connections = [{"from": "x", "to": "h0", "weight": 1.0}, {"from": f"h{chain - 1}", "to": "out0", "weight": 1.0}]
    connections += [{"from": f"h{k}", "to": f"h{k + 1}", "weight": 0.5} for k in range(chain - 1)]
    genome = _genome(nodes, connections)
    if case == "node-string":
        genome["nodes"][0] = "h0"
    elif case == "huge-weight":
        genome["connections"][0]["weight"] = 1e308
    elif case == "bool-weight":
        genome["connections"][0]["weight"] = True
    elif case == "outputs-not-list":
        genome["outputs"] = "out0"
    path = tmp_path / "genome.json"
    path.write_text(json.dumps(genome))
    assert main(["render", str(path), "--size", "32", "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "genome.json" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.png").exists()


def test_a_long_but_legal_chain_of_nodes_is_sorted_in_linear_time():
    from evofool.encodings.cppn.io import topological_hidden_order

    chain = 4000
    nodes = [{"id": f"h{k}", "activation": "sine"} for k in reversed(range(chain))]
    connections = [{"from": f"h{k}", "to": f"h{k + 1}", "weight": 0.5} for k in range(chain - 1)]
    assert topological_hidden_order(_genome(nodes, connections)) == [f"h{k}" for k in range(chain)]


def test_progress_without_a_terminal_prints_plain_lines(tmp_path):
    from evofool.commands import _progress

    class Clock:
        now = 0.0

        def __call__(self):
            return self.now

    clock = Clock()
    lines = []
    with _progress(10, "evolving", unit="gen") as bar:
        assert bar.bar.disable  # pytest captures stderr: not a terminal
        bar.clock, bar.last_line = clock, 0.0
        import contextlib
        import io

        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            for gen in range(1, 4):
                clock.now = gen * 3.0
                bar(dict(gen=gen, best=0.1 * gen, evals=32 * gen))
        lines = err.getvalue().splitlines()
    assert lines == ["evolving: gen 2, best 0.2000, 64 evaluations"]  # at 6 s; 9 s is too soon after


@pytest.mark.parametrize("argv, message", [
    (["campaign", "--model", "lenet_fmnist", "--algorithm", "per-class", "--classes", "Bag,8"], "more than once: Bag"),
    (["campaign", "--model", "lenet_fmnist", "--seeds", "1", "1"], "seeds [1, 1] repeat"),
    (["classes", "torchvision:resnet5000"], "no classification model 'resnet5000'"),
])
def test_repeated_jobs_and_unknown_architectures_are_refused(tmp_path, capsys, argv, message):
    out = tmp_path / "c"
    assert main([*argv, *(["--out", str(out)] if argv[0] == "campaign" else [])]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_an_unreachable_dask_scheduler_is_one_line(tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    out = tmp_path / "c"
    assert main(["campaign", "--model", "perceptron_digits", "--generations", "2", "--executor", "dask",
                 "--scheduler", "tcp://127.0.0.1:9", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler tcp://127.0.0.1:9" in err and "Traceback" not in err
    assert not out.exists()  # checked before the campaign folder is written


def test_a_population_too_large_for_memory_is_refused_before_allocating(tmp_path, capsys):
    out = tmp_path / "p"
    assert main(["evolve", "--model", "lenet_fmnist", "--target", "Bag", "--pop", "100000000", "--budget", "0",
                 "--out", str(out)]) == 2
    assert "needs about" in capsys.readouterr().err and not out.exists()


@pytest.mark.parametrize("argv", [
    ["evolve", "--model", "lenet_fmnist", "--target", "Bag", "--pop", "0"],
    ["campaign", "--model", "lenet_fmnist", "--jobs", "0"],
    ["campaign", "--model", "lenet_fmnist", "--encoding", "cppn", "--genome-size", "8"],
    ["campaign", "--model", "lenet_fmnist", "--encoding", "dct", "--upsample", "nearest"],
])
def test_options_found_in_the_hostile_sweep_are_refused(tmp_path, capsys, argv):
    out = tmp_path / "o"
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and not out.exists()
