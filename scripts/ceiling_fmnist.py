"""How close can any picture of a family get to a class of a held-out Fashion-MNIST net? White-box ceilings
that bound what the GA's searches can reach there.

For each cell (network, training seed, class; the networks of bench_heldout_fmnist.py, trained the same way):

- the pixels' ceiling: gradient ascent on the log-probability of the 8-bit image (``evofool.dream``, 2,000 Adam
  steps from uniform noise), the best and median over ``--starts`` starts: what the direct encoding can reach;
- the ceiling of coordinate networks, the family a CPPN draws from: x, y, d (at the CPPN's small-input coordinate
  scale) and a bias, through two tanh layers of W units, to a sigmoid; every weight fitted by Adam on the
  log-probability, the picture rounded to 8 bits (straight through), best and median over the starts. A
  network of W units has W^2 + 7W + 1 weights (W = 16: 369); the GA's CPPNs have up to 40 nodes and a few dozen
  connections, found without gradients, so a class that these fitted networks leave below 0.99 is out of a
  CPPN's reach in practice.

    python scripts/ceiling_fmnist.py [--cells lenet5:7:Coat lenet5:123:Shirt] [--widths 8 16 32]
        [--starts 8] [--steps 3000] [--out results/ceiling_fmnist.json]
"""

import argparse
import json
import statistics
import time

import torch
from torch import nn

import evofool
from bench_heldout_fmnist import cached_network
from evofool.campaigns.checkpoint import write_json
from evofool.encodings.cppn import SMALL_INPUT_SCALE
from evofool.encodings.cppn.render import coordinate_grid, coordinate_map

CACHE = "runs/ceiling_fmnist"  # each training is cached


def coordinate_network_ceiling(classifier: evofool.Classifier, index: int, width: int, seed: int,
                               steps: int) -> float:
    """The confidence of the 8-bit picture of a coordinate network of ``width`` units a layer whose weights
    Adam fitted to the class's log-probability for ``steps`` steps."""
    torch.manual_seed(seed)
    side = classifier.input_size[1]
    grid = coordinate_grid(side, side, "cpu", coordinate_map(SMALL_INPUT_SCALE, side)).T
    model = nn.Sequential(nn.Linear(4, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)

    def picture():
        return torch.sigmoid(model(grid)).view(1, 1, side, side)

    for _ in range(steps):
        image = picture()
        rounded = image + ((image * 255).round() / 255 - image).detach()  # 8 bits, gradient straight through
        loss = -torch.log_softmax(classifier.logits(rounded), 1)[0, index]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return classifier.probs((picture() * 255).round() / 255, precise=True)[0, index].item()


def best_and_median(values: list[float]) -> dict:
    return dict(best=round(max(values), 4), median=round(statistics.median(values), 4))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", nargs="+", default=["lenet5:7:Coat", "lenet5:123:Shirt"],
                        help="NETWORK:TRAINING_SEED:CLASS")
    parser.add_argument("--widths", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--starts", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--out", default="results/ceiling_fmnist.json")
    args = parser.parse_args()
    report = dict(steps=args.steps, starts=args.starts, cells=[])
    for cell in args.cells:
        name, training_seed, label = cell.split(":")
        classifier = cached_network(name, int(training_seed), CACHE)
        index = classifier.class_index(label)
        started = time.perf_counter()
        pixels = [evofool.dream(classifier, index, steps=2000, seed=seed, objective="logprob",
                                target_confidence=None).confidence for seed in range(args.starts)]
        row = dict(network=name, training_seed=int(training_seed), target=label,
                   pixels=best_and_median(pixels), coordinate_networks={})
        for width in args.widths:
            fitted = [coordinate_network_ceiling(classifier, index, width, seed, args.steps)
                      for seed in range(args.starts)]
            row["coordinate_networks"][width] = dict(best_and_median(fitted), weights=width * width + 7 * width + 1)
        row["seconds"] = round(time.perf_counter() - started, 1)
        report["cells"].append(row)
        print(json.dumps(row), flush=True)
    write_json(args.out, report)


if __name__ == "__main__":
    main()
