"""Train the shipped LeNet on Fashion-MNIST (Debian package dataset-fashion-mnist) and print its test accuracy.

    python scripts/train_lenet_fmnist.py [--epochs 12] [--out evofool/classifiers/weights/lenet_fmnist.pt]
"""

import argparse
import time

import torch
import torch.nn.functional as F

from evofool.classifiers.datasets import load_fashion_mnist
from evofool.classifiers.small_nets import FASHION_MNIST_MEAN, FASHION_MNIST_STD, lenet


def accuracy(model, images, labels):
    model.eval()
    with torch.inference_mode():
        logits = torch.cat([model(images[i : i + 2000]) for i in range(0, len(images), 2000)])
    return (logits.argmax(1) == labels).float().mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="evofool/classifiers/weights/lenet_fmnist.pt")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    normalize = lambda x: (x - FASHION_MNIST_MEAN[0]) / FASHION_MNIST_STD[0]
    train_x, train_y = load_fashion_mnist("train")
    test_x, test_y = load_fashion_mnist("t10k")
    train_x, test_x = normalize(train_x), normalize(test_x)

    model = lenet()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 2e-3, total_steps=args.epochs * (len(train_x) // 128))
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_x))
        for i in range(0, len(order) - 127, 128):
            batch = order[i : i + 128]
            images = train_x[batch]
            flip = torch.rand(len(batch)) < 0.5  # horizontal flips: clothes are left-right symmetric
            images = torch.where(flip[:, None, None, None], images.flip(-1), images)
            loss = F.cross_entropy(model(images), train_y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}, test accuracy {accuracy(model, test_x, test_y):.4f}"
              f" ({time.perf_counter() - start:.0f} s)", flush=True)
    print(f"test accuracy: {accuracy(model, test_x, test_y):.4f}")
    torch.save(model.state_dict(), args.out)


if __name__ == "__main__":
    main()
