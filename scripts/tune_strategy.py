"""The sweep that chose the strategy defaults: SNES variants on a few ImageNet classes that no benchmark
uses, the best confidence after 1,000 / 2,000 / 3,000 evaluations per variant and class.

A variant is genome size, upsampling, Adam's learning rate, sigma, fitness shaping ("centered", "nes",
or "zscore": standardized log-probabilities instead of ranks) and the step-size learning rate (0: fixed).
Appends to the JSON, so variants can be added run by run.

    python scripts/tune_strategy.py --sizes 8 12 16 --lrs 0.3 [--classes tabby banana ambulance]
"""

import argparse
import itertools
import json
from pathlib import Path

import torch

import evofool
from evofool.algorithms import strategies
from evofool.algorithms.es import ea_generate_update
from evofool.algorithms.ga import fitness_statistics, new_hall_of_fame
from evofool.campaigns.checkpoint import write_json
from evofool.encodings import make_encoding
from evofool.evolve import make_strategy_toolbox


def zscore(fitness: torch.Tensor) -> torch.Tensor:
    """Standardized log-probabilities: the values themselves, not their ranks, weight the samples."""
    logs = fitness.clamp_min(1e-30).log()
    return (logs - logs.mean()) / (logs.std() + 1e-12) / fitness.shape[0]


strategies.SHAPINGS["zscore"] = zscore


def run(classifier, target, size, upsample, lr, sigma, shaping, lr_sigma, pop, budget, seed):
    encoding = make_encoding("direct", classifier.input_size, size, upsample=upsample)
    strategy = strategies.SNES(torch.zeros(int(torch.Size(encoding.genome_shape).numel())), sigma, pop,
                               torch.Generator().manual_seed(seed), adam=True, adam_lr=lr, shaping=shaping,
                               lr_sigma=lr_sigma)
    toolbox = make_strategy_toolbox(classifier, classifier.class_index(target), encoding, strategy)
    logbook, _ = ea_generate_update(toolbox, budget, fitness_statistics(), new_hall_of_fame(), 0.9999, budget)
    return {str(mark): max((row["best"] for row in logbook if row["evals"] <= mark), default=None)
            for mark in range(1000, budget + 1, 1000)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="efficientnet_lite0")
    parser.add_argument("--classes", nargs="+", default=["tabby", "banana", "ambulance"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[16])
    parser.add_argument("--upsample", nargs="+", default=["bilinear"])
    parser.add_argument("--lrs", type=float, nargs="+", default=[0.3])
    parser.add_argument("--sigmas", type=float, nargs="+", default=[0.5])
    parser.add_argument("--shapings", nargs="+", default=["centered"])
    parser.add_argument("--lr-sigma", type=float, help="step-size learning rate; 0 fixes sigma (default: SNES's)")
    parser.add_argument("--pop", type=int, default=32)
    parser.add_argument("--budget", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results/tune_strategy.json")
    args = parser.parse_args()

    out = Path(args.out)
    runs = json.loads(out.read_text())["runs"] if out.exists() else []
    classifier = evofool.load_classifier(args.model, device="cpu")
    for size, upsample, lr, sigma, shaping in itertools.product(args.sizes, args.upsample, args.lrs, args.sigmas,
                                                                 args.shapings):
        for target in args.classes:
            variant = dict(size=size, upsample=upsample, lr=lr, sigma=sigma, shaping=shaping,
                           lr_sigma=args.lr_sigma, pop=args.pop, seed=args.seed)
            curve = run(classifier, target, size, upsample, lr, sigma, shaping, args.lr_sigma, args.pop,
                        args.budget, args.seed)
            runs.append(dict(variant, target=target, best_within=curve))
            print(json.dumps(runs[-1]), flush=True)
            write_json(out, dict(model=args.model, runs=runs))


if __name__ == "__main__":
    main()
