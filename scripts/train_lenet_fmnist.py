"""Train the shipped LeNet on Fashion-MNIST (Debian package dataset-fashion-mnist) and print its test accuracy.

    python scripts/train_lenet_fmnist.py [--epochs 12] [--out evofool/classifiers/weights/lenet_fmnist.pt]
"""

import argparse
import time

import torch

from evofool.classifiers.datasets import load_fashion_mnist
from evofool.classifiers.small_nets import lenet, normalize_fashion_mnist as normalize
from evofool.classifiers.training import accuracy, train


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="evofool/classifiers/weights/lenet_fmnist.pt")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    train_x, train_y = load_fashion_mnist("train")
    test_x, test_y = load_fashion_mnist("t10k")
    start = time.perf_counter()

    def report(epoch, loss):
        print(f"epoch {epoch}: loss {loss:.3f}, test accuracy {accuracy(model, test_x, test_y, normalize):.4f} "
              f"({time.perf_counter() - start:.0f} s)", flush=True)

    model = lenet()
    train(model, train_x, train_y, args.epochs, normalize, seed=args.seed, on_epoch=report)
    print(f"test accuracy: {accuracy(model, test_x, test_y, normalize):.4f}")
    torch.save(model.state_dict(), args.out)


if __name__ == "__main__":
    main()
