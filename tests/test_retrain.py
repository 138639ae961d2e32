"""Retraining with a fooling class (paper, section 3.7) on a slice of Fashion-MNIST: real training, real searches."""

import json

import pytest
import torch

import evofool.classifiers.datasets as datasets
from conftest import needs_fashion_mnist
from evofool.classifiers.small_nets import FASHION_MNIST_LABELS, lenet
from evofool.cli import main
from evofool.retrain import REAL_CLASSES, normalize, retrain, with_fooling_class


def test_growing_the_fooling_class_keeps_the_real_outputs():
    module = lenet().eval()
    images = torch.rand(4, 1, 28, 28)
    before = module(images)
    grown = with_fooling_class(module)
    after = grown(images)
    assert after.shape == (4, REAL_CLASSES + 1)
    assert torch.allclose(after[:, :REAL_CLASSES], before)
    assert with_fooling_class(grown) is grown


@needs_fashion_mnist
def test_one_round_learns_to_catch_its_fooling_images_and_records_what_fooling_costs(tmp_path):
    report = retrain(1, tmp_path, per_class=1, budget=1000, epochs=2, train_images=5000)
    first, second = report["rounds"]
    assert first["outputs"] == 10 and second["outputs"] == 11 and second["fooling_set"] == 10
    assert first["next_round_catches_these"] >= 0.8  # the retrained net puts its fooling images in class 10
    assert second["test_accuracy"] > 0.7
    assert first["fooled_to_0_99"] > 0 and set(first["evaluations_to_0_99_per_class"]) == set(FASHION_MNIST_LABELS)
    saved = json.loads((tmp_path / "retrain.json").read_text())
    assert saved["rounds"] == report["rounds"]
    module = lenet()
    with_fooling_class(module).load_state_dict(torch.load(tmp_path / "round_1.pt", weights_only=True))
    assert module(normalize(torch.rand(2, 1, 28, 28))).shape == (2, 11)
    assert (tmp_path / "retrain.md").read_text().count("\n| ") == 2 and (tmp_path / "retrain.png").exists()




def test_retrain_without_fashion_mnist_says_how_to_install_it_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(datasets, "FASHION_MNIST_DIR", tmp_path / "nowhere")
    out = tmp_path / "out"
    assert main(["retrain", "--rounds", "1", "--out", str(out)]) == 2
    assert "apt-get install dataset-fashion-mnist" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("argv", [["--model", "efficientnet_lite0"], ["--rounds", "0"], ["--budget", "5"]])
def test_retrain_refuses_bad_settings_before_writing(tmp_path, capsys, argv):
    out = tmp_path / "out"
    assert main(["retrain", *argv, "--out", str(out)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not out.exists()
