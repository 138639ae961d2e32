"""Gradient ascent beside evolution: class dreams, DeepDream, the perceptron's dream."""

import json

import pytest
import torch

from evofool.cli import main
from evofool.dreams import deepdream, dream, layer_names, perceptron_dream, zoom
from evofool.dreams.deepdream import layer_activation
from evofool.images import load_image, save_png

RESULT_FIELDS = {"confidence", "top5", "generations", "evaluations", "seconds", "milestones", "config"}  # evolve's


def test_class_dream_fools_lenet_fast_and_counts_its_passes(lenet):
    result = dream(lenet, "Coat", steps=200, seed=0)
    assert result.confidence >= 0.9999 and result.method == "gradient"
    steps = result.generations
    assert steps <= 200 and result.milestones[0.9999]["gen"] == steps
    assert result.evaluations == 2 * steps + 1 and result.backward_passes == steps


@pytest.mark.slow
def test_class_dream_reaches_099_on_efficientnet_within_ten_steps(efficientnet):
    result = dream(efficientnet, "goldfish", steps=10, target_confidence=0.99)
    assert result.confidence >= 0.99


def test_regularizers_and_fourier_run_and_l2_pulls_to_gray(lenet):
    plain = dream(lenet, "Bag", steps=30, target_confidence=None)
    decayed = dream(lenet, "Bag", steps=30, l2=0.05, tv=0.1, jitter_pixels=2, max_scale=0.1, max_degrees=10,
                    target_confidence=None)
    assert (decayed.image - 0.5).abs().mean() < (plain.image - 0.5).abs().mean()
    spectral = dream(lenet, "Bag", steps=30, parameterization="fourier", start="gray", target_confidence=None)
    assert spectral.image.shape == (1, 28, 28) and 0 <= spectral.image.min() and spectral.image.max() <= 1
    assert spectral.confidence > 0.5


def test_dream_cli_writes_a_result_in_the_evolve_schema(tmp_path):
    out = tmp_path / "dream"
    assert main(["dream", "--model", "lenet_fmnist", "--target", "Sneaker", "--steps", "100", "--out", str(out)]) == 0
    result = json.loads((out / "result.json").read_text())
    assert result["method"] == "gradient" and result["target"] == "Sneaker"
    assert RESULT_FIELDS <= set(result)
    from evofool import load_classifier

    reloaded = load_classifier("lenet_fmnist").probs(load_image(out / "dream.png", 1)[None])[0, 7].item()
    assert abs(reloaded - result["confidence"]) < 1e-4


def _photo():
    y, x = torch.meshgrid(torch.linspace(-1, 1, 40), torch.linspace(-1, 1, 48), indexing="ij")
    return (0.5 + 0.4 * torch.sin(3 * x) * torch.cos(2 * y))[None]


def test_deepdream_amplifies_the_layer_and_keeps_the_size(lenet):
    photo = _photo()
    dreamed = deepdream(lenet, photo, "3", octaves=2, steps=5, jitter=4)
    assert dreamed.shape == photo.shape and 0 <= dreamed.min() and dreamed.max() <= 1
    before = layer_activation(lenet, "3", photo[None]).pow(2).sum()
    after = layer_activation(lenet, "3", dreamed[None]).pow(2).sum()
    assert after > 1.5 * before


def test_zoom_frames_and_gif(tmp_path):
    save_png(_photo(), tmp_path / "photo.png")
    out = tmp_path / "deep"
    assert main(["dream", "--model", "lenet_fmnist", "--layer", "0", "--from", str(tmp_path / "photo.png"),
                 "--octaves", "2", "--steps", "2", "--zoom-frames", "2", "--out", str(out)]) == 0
    assert sorted(p.name for p in (out / "frames").iterdir()) == ["frame_000.png", "frame_001.png", "frame_002.png"]
    assert (out / "zoom.gif").exists() and json.loads((out / "dream.json").read_text())["layer"] == "0"
    assert zoom(torch.rand(3, 20, 20), 0.2).shape == (3, 20, 20)


@pytest.mark.parametrize("args, code, message", [
    (["--layer", "conv9"], 2, "available: 0, 1, 2"),
    (["--layer", "0", "--steps", "0"], 2, "--steps must be at least 1"),
    (["--layer", "0", "--zoom", "1.5"], 2, "--zoom must be in (0, 1)"),
])
def test_deepdream_bad_input_is_refused_and_writes_nothing(tmp_path, capsys, args, code, message):
    save_png(_photo(), tmp_path / "photo.png")
    out = tmp_path / "never"
    assert main(["dream", "--model", "lenet_fmnist", "--from", str(tmp_path / "photo.png"), *args, "--out", str(out)]) == code
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_unreadable_photo_is_reported(tmp_path, capsys):
    (tmp_path / "photo.png").write_text("not an image")
    assert main(["dream", "--model", "lenet_fmnist", "--layer", "0", "--from", str(tmp_path / "photo.png"),
                 "--out", str(tmp_path / "never")]) == 2
    assert "cannot read image" in capsys.readouterr().err
    assert not (tmp_path / "never").exists()


def test_layers_lists_names(capsys):
    assert main(["layers", "lenet_fmnist"]) == 0
    assert capsys.readouterr().out.split()[:3] == ["0", "1", "2"]


def test_perceptron_dream_settles_on_the_class_template(perceptron):
    result = perceptron_dream(perceptron, seed=0)
    assert result.settled and result.steps < 500
    fired = result.fired[-1]
    assert len(set(result.fired[-20:])) == 1
    template = perceptron.module[1].weight.detach()[fired]
    correlation = torch.corrcoef(torch.stack([result.image.flatten(), template]))[0, 1]
    assert correlation > 0.6
    assert layer_names(perceptron) == ["0", "1"]
