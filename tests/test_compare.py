"""evofool bench and evofool transfer on small models."""

import json

import pytest
import torch

import evofool
from evofool.cli import main
from evofool.transfer import transfer


def test_bench_compares_methods_on_equal_budgets(tmp_path, capsys):
    out = tmp_path / "bench"
    assert main(["bench", "--model", "perceptron_digits", "--classes", "3,8", "--seeds", "0", "1",
                 "--methods", "direct,gradient", "--budget", "600", "--pop", "16", "--out", str(out)]) == 0
    report = json.loads((out / "bench.json").read_text())
    assert len(report["runs"]) == 8
    assert all(run["evaluations"] <= 600 for run in report["runs"])
    gradient = report["summary"]["gradient"]
    assert gradient["reached_0.9999"] == 4
    assert gradient["median_evaluations_to_0.9999"] < report["summary"]["direct"]["median_evaluations_to_0.9999"]
    assert (out / "bench.png").stat().st_size > 0 and "| gradient | 4/4 |" in (out / "bench.md").read_text()


def test_bench_refuses_unknown_methods(tmp_path, capsys):
    assert main(["bench", "--model", "perceptron_digits", "--classes", "3", "--methods", "annealing",
                 "--out", str(tmp_path / "b")]) == 2
    assert "unknown methods annealing" in capsys.readouterr().err


def test_transfer_scores_every_result_with_every_model(tmp_path, perceptron, lenet):
    for target in ("2", "7"):
        assert main(["evolve", "--model", "perceptron_digits", "--target", target, "--pop", "16",
                     "--generations", "30", "--out", str(tmp_path / target)]) == 0
    module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    with torch.no_grad():
        module[1].weight.copy_(perceptron.module[1].weight * 0.5)
        module[1].bias.copy_(perceptron.module[1].bias)
    other = evofool.Classifier.from_module(module, perceptron.labels, (1, 8, 8), name="half")
    rows = transfer(tmp_path, [perceptron, other])
    assert [row["target"] for row in rows] == ["2", "7"]
    for row in rows:
        original = json.loads((tmp_path / row["target"] / "result.json").read_text())["confidence"]
        assert abs(row["scores"]["perceptron_digits"]["target_confidence"] - original) < 1e-4
        assert row["scores"]["half"]["top1"] == row["target"]
    with pytest.raises(ValueError,
                       match=r"lenet_fmnist \(Fashion-MNIST labels.*perceptron_digits \(sklearn 8x8 digits"):
        transfer(tmp_path, [lenet])
    assert main(["transfer", str(tmp_path), "--models", "lenet_fmnist"]) == 2
    assert not (tmp_path / "transfer.json").exists()
    assert main(["transfer", str(tmp_path), "--models", "perceptron_digits"]) == 0
    assert (tmp_path / "transfer.md").exists()
