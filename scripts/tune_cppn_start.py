"""The sweep that chose how the GA's CPPNs start on small inputs: bare graphs (the paper's) or genomes grown by R
rounds of mutation, and the ranges of a new connection's weight and a new node's incoming one (--new-weight-range,
--split-weight-range; evolve's defaults unset). Trains the held-out CNN architecture of bench_heldout_fmnist.py
several times (training seeds 2-6; not seed 123, the one bench_heldout_fmnist.py trains), then runs the GA with
CPPNs, population 128, up to 200 generations to 0.99, on the classes that miss (Pullover, Dress, Coat, Shirt) x GA
seeds, two runs at a time on one thread each (the counts do not depend on timing).

    python scripts/tune_cppn_start.py 0 15 30 [--new-weight-range 2] [--split-weight-range 0] [--plain-survivors]
        [--species 6] [--trainings 2 3 4 5 6] [--seeds 6] [--first-seed 0] [--classes Pullover Dress Coat Shirt]

The three blocks of results/tune_cppn_start.json: the defaults; --first-seed 6; --first-seed 12 --seeds 8
--classes Pullover Coat Shirt (all with --new-weight-range 2 --split-weight-range 0, the defaults then); with
new connections in +-10: 15 --split-weight-range 0 --seeds 20, and the same --first-seed 20 --seeds 20; with
new nodes' incoming weights in +-10 too: 15 --plain-survivors --seeds 20, and --first-seed 20 --seeds 20; with
survivors drawn among distinct fitness values first (the default): 15 --seeds 20, 15 --first-seed 20 --seeds 20
(those 800 ran in a prototype on the side; the shipped code repeats its runs bit for bit, checked on three)
and with --species 0, the setting then; with NEAT's speciation (6 species, the default): 15 --seeds 40.

A GA seed gives the same first population in every class and training, so the runs of one seed are
correlated: compare variants over many seeds, not many classes.
"""

import argparse
import json
import os
import statistics

import torch
import torch.multiprocessing as mp

import evofool
from bench_heldout_fmnist import cached_network

HARD_CLASSES = ("Pullover", "Dress", "Coat", "Shirt")
CACHE = "runs/tune_cppn_start"  # each training is cached: the sweep's variants share the networks


def network(training_seed: int) -> evofool.Classifier:
    return cached_network("cnn", training_seed, CACHE)


def run(job):
    rounds, new_weight_range, split_weight_range, distinct_survivors, species, training_seed, label, seed = job
    torch.set_num_threads(1)
    result = evofool.evolve(network(training_seed), label, algorithm="ga", encoding="cppn", pop_size=128,
                            generations=200, seed=seed, target_confidence=0.99, grown_start=rounds,
                            new_weight_range=new_weight_range, split_weight_range=split_weight_range,
                            distinct_survivors=distinct_survivors, species=species)
    rates = result.config["encoding_params"]["rates"]
    return dict(rounds=rounds, new_weight_range=rates["new_weight_range"],
                split_weight_range=rates["split_weight_range"], distinct_survivors=result.config["distinct_survivors"],
                species=result.config["species"],
                training=training_seed, target=label, seed=seed, confidence=result.confidence,
                generations=result.generations, reached=result.confidence >= 0.99)


def variant(run: dict) -> str:
    # older runs drew new connections' weights in +-2, gave new nodes an incoming weight of 1, kept copies and
    # had no species
    split = run.get("split_weight_range", 0.0)
    return (f"{run['rounds']} rounds, new weights +-{run.get('new_weight_range', 2.0):g}, "
            + (f"new nodes' incoming +-{split:g}" if split else "new nodes' incoming 1")
            + (", distinct survivors" if run.get("distinct_survivors") else "")
            + (f", {run['species']} species" if run.get("species") else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rounds", type=int, nargs="+")
    parser.add_argument("--new-weight-range", type=float, default=None)
    parser.add_argument("--split-weight-range", type=float, default=None)
    parser.add_argument("--plain-survivors", action="store_true", help="truncation that keeps copies")
    parser.add_argument("--species", type=int, default=None, help="NEAT species (0: none; default: evolve's)")
    parser.add_argument("--trainings", type=int, nargs="+", default=[2, 3, 4, 5, 6])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--classes", nargs="+", default=HARD_CLASSES)
    parser.add_argument("--out", default="results/tune_cppn_start.json")
    args = parser.parse_args()
    for training_seed in args.trainings:
        network(training_seed)
    distinct = False if args.plain_survivors else None
    jobs = [(rounds, args.new_weight_range, args.split_weight_range, distinct, args.species, t, label, seed)
            for rounds in args.rounds
            for t in args.trainings for label in args.classes
            for seed in range(args.first_seed, args.first_seed + args.seeds)]
    with mp.get_context("spawn").Pool(2) as pool:
        runs = pool.map(run, jobs, chunksize=1)
    report = json.load(open(args.out)) if os.path.exists(args.out) else dict(runs=[])
    report["runs"] += runs
    report["summary"] = summary(report["runs"])
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report["summary"], indent=2))


def summary(runs: list[dict]) -> dict:
    """Per variant: runs at 0.99 and the median generations, a miss counted as 400 (the median then ranks it
    behind every run that got there)."""
    out = {}
    for name in sorted({variant(r) for r in runs}, key=lambda name: int(name.split()[0])):
        mine = [r for r in runs if variant(r) == name]
        out[name] = dict(reached_0_99=f"{sum(r['reached'] for r in mine)}/{len(mine)}",
                         median_generations=statistics.median(r["generations"] if r["reached"] else 400 for r in mine))
    return out


if __name__ == "__main__":
    main()
