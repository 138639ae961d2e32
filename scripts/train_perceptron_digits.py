"""Train the shipped perceptron (one linear layer) on scikit-learn's 8x8 digits and print its test accuracy.

    python scripts/train_perceptron_digits.py [--out evofool/classifiers/weights/perceptron_digits.pt]
"""

import argparse

import torch
import torch.nn.functional as F

from evofool.classifiers.datasets import load_digits_split
from evofool.classifiers.small_nets import perceptron


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--out", default="evofool/classifiers/weights/perceptron_digits.pt")
    args = parser.parse_args()

    torch.manual_seed(0)
    (train_x, train_y), (test_x, test_y) = load_digits_split()
    model = perceptron()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02, weight_decay=1e-4)
    for _ in range(args.epochs):  # full-batch: 1,437 images
        loss = F.cross_entropy(model(train_x), train_y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.inference_mode():
        acc = (model(test_x).argmax(1) == test_y).float().mean().item()
    print(f"test accuracy: {acc:.4f}")
    torch.save(model.state_dict(), args.out)


if __name__ == "__main__":
    main()
