"""The CUDA paths (AMP scoring, population tensors and generators on the device); skipped without CUDA."""

import pytest
import torch

import evofool
from evofool.dreams import dream

pytestmark = pytest.mark.gpu


def test_amp_scores_agree_with_the_cpu():
    cpu = evofool.load_classifier("lenet_fmnist", device="cpu")
    gpu = evofool.load_classifier("lenet_fmnist", device="cuda")
    images = torch.rand(64, 1, 28, 28)
    assert torch.allclose(gpu.probs(images).cpu(), cpu.probs(images), atol=5e-3)


@pytest.mark.parametrize("encoding", ["direct", "cppn"])
def test_evolution_runs_on_the_device(encoding):
    classifier = evofool.load_classifier("lenet_fmnist", device="cuda")
    result = evofool.evolve(classifier, "Bag", encoding=encoding, pop_size=64, generations=30, seed=0)
    assert result.image.device.type == "cpu" and result.confidence > 0.5
    again = classifier.probs(result.image[None])[0, 8].item()
    assert abs(again - result.confidence) < 1e-4


def test_dream_runs_on_the_device():
    classifier = evofool.load_classifier("lenet_fmnist", device="cuda")
    for parameterization in ("sigmoid", "fourier"):
        start = "noise" if parameterization == "sigmoid" else "gray"
        result = dream(classifier, "Coat", steps=50, parameterization=parameterization, start=start)
        assert result.confidence > 0.9
