import os
import tempfile

import pytest
import torch

# the tests' ONNX exports and auto's choices go to a cache of their own (subprocesses inherit it)
os.environ.setdefault("EVOFOOL_CACHE", tempfile.mkdtemp(prefix="evofool-test-cache-"))

import evofool
from evofool.classifiers.datasets import fashion_mnist_available


def pytest_collection_modifyitems(config, items):
    skip_gpu = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip_gpu)


@pytest.fixture(scope="session")
def lenet():
    return evofool.load_classifier("lenet_fmnist", device="cpu")


@pytest.fixture(scope="session")
def perceptron():
    return evofool.load_classifier("perceptron_digits", device="cpu")


@pytest.fixture(scope="session")
def efficientnet():
    return evofool.load_classifier("efficientnet_lite0", device="cpu")


needs_fashion_mnist = pytest.mark.skipif(
    not fashion_mnist_available(), reason="apt-get install dataset-fashion-mnist"
)
