"""Retraining with a fooling class (Nguyen et al. 2015, section 3.7): can a network learn to refuse fooling images?

Each round evolves fooling images for every real class against the current network, adds all fooling images
found so far to Fashion-MNIST as an extra class, and trains the next network on that (warm-started from the
current one, with a fresh output for the fooling class). Per round it records the new network's accuracy on
the real test set, the fraction of the round's fooling images it now puts into the fooling class, and what
evolution needs to fool it again: the evaluations to 0.99 per class. The paper found on MNIST that the
fooling class never stopped evolution.

    round 0: net_0 = the shipped LeNet
    for r in 1 .. R:
        F_r = fooling images evolved against net_(r-1), `per_class` per real class (evaluations recorded)
        net_r = net_(r-1) trained further on Fashion-MNIST + (F_1 .. F_r labelled "fooling images")
        record accuracy(net_r), fraction of F_r that net_r labels "fooling images"
    finally evolve against net_R once more, to measure what fooling it costs
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from .campaigns.checkpoint import write_json
from .classifiers import Classifier
from .classifiers.datasets import load_fashion_mnist
from .classifiers.shipped import load_lenet_fmnist
from .classifiers.small_nets import FASHION_MNIST_LABELS, FASHION_MNIST_MEAN, FASHION_MNIST_STD
from .classifiers.small_nets import normalize_fashion_mnist as normalize
from .classifiers.training import accuracy, predict, train
from .evolve import evolve

FOOLING_LABEL = "fooling images"
REAL_CLASSES = len(FASHION_MNIST_LABELS)


def with_fooling_class(module: nn.Module) -> nn.Module:
    """The network with one more output (the fooling class), its other weights kept; an 11-output network
    is returned as it is."""
    last = module[-1]
    if last.out_features == REAL_CLASSES + 1:
        return module
    grown = nn.Linear(last.in_features, REAL_CLASSES + 1)
    with torch.no_grad():
        grown.weight[:REAL_CLASSES] = last.weight
        grown.bias[:REAL_CLASSES] = last.bias
        grown.weight[REAL_CLASSES].normal_(0, 0.01)
        grown.bias[REAL_CLASSES] = 0.0
    module[-1] = grown
    return module


def as_classifier(module: nn.Module, round_index: int) -> Classifier:
    labels = FASHION_MNIST_LABELS + ([FOOLING_LABEL] if module[-1].out_features > REAL_CLASSES else [])
    return Classifier(module, labels, (1, 28, 28), FASHION_MNIST_MEAN, FASHION_MNIST_STD, device="cpu",
                      name=f"lenet_fmnist_round{round_index}", batch_size=1024)


def evolve_fooling_images(classifier: Classifier, per_class: int, budget: int, seed: int,
                          algorithm: str | None = None, encoding: str = "direct") -> tuple[torch.Tensor, list[dict]]:
    """``per_class`` fooling images for every real class (one search each, stopping at 0.99 or the budget);
    returns the images (8-bit values, as saved) and a row per search."""
    images, runs = [], []
    for target in range(REAL_CLASSES):
        for k in range(per_class):
            result = evolve(classifier, target, algorithm=algorithm, encoding=encoding, budget=budget,
                            generations=budget, seed=seed + k, target_confidence=0.99)
            images.append(result.image)
            runs.append(dict(target=result.target, seed=seed + k, confidence=result.confidence,
                             evaluations=result.evaluations, reached=result.confidence >= 0.99))
    return torch.stack(images), runs


def check_settings(rounds: int, per_class: int, epochs: int, budget: int) -> None:
    """One-line refusals of settings the experiment cannot run with, before anything is written."""
    if rounds < 1 or per_class < 1 or epochs < 1:
        raise ValueError("rounds, per-class images and epochs must each be at least 1")
    if budget < 32:
        raise ValueError(f"the budget ({budget} evaluations) must cover at least one population (32)")


def retrain(rounds: int, out: str | Path, per_class: int = 10, budget: int = 5000, epochs: int = 3,
            seed: int = 0, train_images: int | None = None, algorithm: str | None = None, encoding: str = "direct",
            on_round: Callable[[dict], None] | None = None) -> dict:
    """Run the experiment above for ``rounds`` rounds, writing each round's weights (round_R.pt),
    retrain.json, retrain.md and retrain.png into ``out``; returns the report.

    ``train_images`` limits the Fashion-MNIST training images (for quick runs); ``epochs`` per round.
    """
    check_settings(rounds, per_class, epochs, budget)
    train_x, train_y = load_fashion_mnist("train")
    test_x, test_y = load_fashion_mnist("t10k")
    if train_images is not None:
        train_x, train_y = train_x[:train_images], train_y[:train_images]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    module = load_lenet_fmnist(device="cpu").module.to(memory_format=torch.contiguous_format)
    report = dict(model="lenet_fmnist", per_class=per_class, budget=budget, epochs=epochs, seed=seed,
                  algorithm=algorithm or "default", encoding=encoding, train_images=len(train_x), rounds=[])
    fooling = torch.empty(0, 1, 28, 28)
    for round_index in range(rounds + 1):
        start = time.perf_counter()
        classifier = as_classifier(module, round_index)
        row = dict(round=round_index, outputs=classifier.num_classes,
                   test_accuracy=accuracy(module, test_x, test_y, normalize), fooling_set=len(fooling))
        images, runs = evolve_fooling_images(classifier, per_class, budget, seed + 1000 * round_index,
                                             algorithm, encoding)
        reached = [r["evaluations"] for r in runs if r["reached"]]
        row.update(fooled_to_0_99=len(reached) / len(runs),
                   median_evaluations_to_0_99=statistics.median(reached) if reached else None,
                   evaluations_to_0_99_per_class={label: _median_or_none(
                       [r["evaluations"] if r["reached"] else float("inf") for r in runs if r["target"] == label])
                       for label in FASHION_MNIST_LABELS})
        if round_index < rounds:  # retrain on everything found so far
            fooling = torch.cat([fooling, images])
            module = _train_round(with_fooling_class(module), train_x, train_y, fooling, epochs, seed + round_index)
            torch.save(module.state_dict(), out / f"round_{round_index + 1}.pt")
            predicted = predict(module, images, normalize)
            row["next_round_catches_these"] = (predicted == REAL_CLASSES).float().mean().item()
        row["seconds"] = round(time.perf_counter() - start, 1)
        report["rounds"].append(row)
        write_json(out / "retrain.json", report)
        if on_round is not None:
            on_round(row)
    (out / "retrain.md").write_text(retrain_markdown(report))
    plot_retrain(report, out / "retrain.png")
    return report


def _train_round(module, train_x, train_y, fooling, epochs, seed):
    """Train on the real images plus the fooling images repeated to about one real class's size."""
    copies = max(1, round(len(train_x) / REAL_CLASSES / len(fooling)))
    images = torch.cat([train_x, fooling.repeat(copies, 1, 1, 1)])
    labels = torch.cat([train_y, torch.full((len(fooling) * copies,), REAL_CLASSES, dtype=torch.long)])
    for parameter in module.parameters():
        parameter.requires_grad_(True)
    return train(module, images, labels, epochs, normalize, lr=1e-3, seed=seed)


def _median_or_none(values: list[float]) -> float | None:
    """The median, counting a search that never got there as infinitely slow; None when that is the median."""
    middle = sorted(values)[(len(values) - 1) // 2]
    return None if middle == float("inf") else middle


def retrain_markdown(report: dict) -> str:
    lines = ["| round | network | test accuracy | fooling images trained on | fooled to 0.99 | median evaluations to "
             "0.99 | caught by the next network |", "|---|---|---|---|---|---|---|"]
    for row in report["rounds"]:
        caught = row.get("next_round_catches_these")
        median = row["median_evaluations_to_0_99"]
        lines.append(f"| {row['round']} | {row['outputs']} outputs | {row['test_accuracy']:.4f} | {row['fooling_set']} "
                     f"| {row['fooled_to_0_99']:.0%} | {'-' if median is None else f'{median:.0f}'} "
                     f"| {'-' if caught is None else f'{caught:.0%}'} |")
    return "\n".join(lines) + "\n"


def plot_retrain(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rounds = [row["round"] for row in report["rounds"]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(rounds, [row["median_evaluations_to_0_99"] or float("nan") for row in report["rounds"]], "o-")
    left.set_xlabel("round")
    left.set_ylabel("median evaluations to fool (0.99)")
    right.plot(rounds, [row["fooled_to_0_99"] for row in report["rounds"]], "o-", label="searches fooling it")
    right.plot(rounds, [row["test_accuracy"] for row in report["rounds"]], "s-", label="test accuracy")
    right.set_xlabel("round")
    right.set_ylim(0, 1.05)
    right.legend(fontsize=8)
    fig.suptitle("Retraining LeNet with a fooling class")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
