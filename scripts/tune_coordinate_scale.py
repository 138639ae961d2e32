"""The sweep that chose the CPPN coordinate scale for small inputs: the GA with CPPNs, every class x two
seeds, population 128, up to 200 generations to a threshold, per scale (a number, or raw pixel indices).

Runs on the shipped LeNet, or on a tuning CNN this script trains (two 5x5 conv blocks with BatchNorm and a
hidden layer of 128, two epochs; not the held-out networks of bench_heldout_fmnist.py, which only check the
choice). The large-input end (8 at 224 px) was measured by bench_campaign.py on EfficientNet-Lite0.

    python scripts/tune_coordinate_scale.py [--network lenet|cnn] [--seed 7] [--threshold 0.999] 2 8 raw
"""

import argparse
import statistics

import torch
from torch import nn

import evofool
from bench_heldout_fmnist import LABELS, train
from evofool.classifiers.small_nets import FASHION_MNIST_MEAN, FASHION_MNIST_STD


def tuning_cnn() -> nn.Module:
    def block(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 5, padding=2), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]

    return nn.Sequential(*block(1, 32), *block(32, 64), nn.Flatten(), nn.Linear(64 * 49, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def classifier_for(network: str, seed: int):
    if network == "lenet":
        return evofool.load_classifier("lenet_fmnist", device="cpu")
    torch.manual_seed(seed)
    module = tuning_cnn()
    print(f"tuning CNN: test accuracy {train(module, epochs=2, seed=seed):.4f}", flush=True)
    return evofool.Classifier.from_module(module, LABELS, (1, 28, 28), mean=FASHION_MNIST_MEAN,
                                          std=FASHION_MNIST_STD, device="cpu", name="tuning_cnn", batch_size=256)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scales", nargs="+")
    parser.add_argument("--network", choices=("lenet", "cnn"), default="lenet")
    parser.add_argument("--threshold", type=float, default=0.99)
    parser.add_argument("--seed", type=int, default=7, help="the tuning CNN's initialization and training seed")
    args = parser.parse_args()
    torch.set_num_threads(1)
    classifier = classifier_for(args.network, args.seed)
    for scale in args.scales:
        generations, confidences = [], []
        for seed in (0, 1):
            for index in range(10):
                result = evofool.evolve(classifier, index, algorithm="ga", encoding="cppn", pop_size=128,
                                        generations=200, seed=seed, target_confidence=args.threshold,
                                        coordinate_scale=scale if scale == "raw" else float(scale))
                confidences.append(result.confidence)
                if result.confidence >= args.threshold:
                    generations.append(result.generations)
        print(f"scale {scale}: {len(generations)}/{len(confidences)} reach {args.threshold}; median generations "
              f"{statistics.median(generations) if generations else None}, worst {max(generations, default=None)}, "
              f"lowest confidence {min(confidences):.4f}", flush=True)


if __name__ == "__main__":
    main()
