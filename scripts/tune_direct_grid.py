"""The sweep that chose the GA's direct grid on small inputs: its side, how it is enlarged to the input, when it
is refined to the input's pixels and the tournament size.

Runs the GA with the direct encoding, population 128, on every class x GA seeds, for each grid given as
SIDE:UPSAMPLING[:REFINE_AFTER[:TOURNSIZE]] (left out: evolve's defaults for that grid), on Fashion-MNIST nets:
the held-out architectures of bench_heldout_fmnist.py, each trained once with --training-seed (cached under
runs/tune_direct_grid/), and with --shipped the shipped LeNet. Counts the runs that reach --target within
--generations and the generations they took. Two runs at a time on one thread each (the counts do not depend
on timing).

    python scripts/tune_direct_grid.py 16:bilinear 12:nearest 14:nearest:0:2 [--networks cnn mlp lenet5 keras gap]
        [--training-seed 123] [--seeds 3] [--target 0.99] [--generations 150] [--shipped]
        [--out results/tune_direct_grid.json]

results/tune_direct_grid.json holds, per command, its arguments and runs. The grid was chosen on
--training-seed 123 (the trainings bench_heldout_fmnist.py makes) and the shipped LeNet to 0.9999 within 300,
then checked on trainings nothing was chosen on: --training-seed 7. The coarse-to-fine search (14:nearest:60:3)
was compared with the grid alone (14:nearest:0:2) on all nine networks, training seeds 123 and 7, and checked
on 11.
"""

import argparse
import json
import os
import statistics

import torch
import torch.multiprocessing as mp

import evofool
from bench_heldout_fmnist import LABELS, NETWORKS, TUNING_NETWORKS, cached_network
from evofool.campaigns.checkpoint import write_json

CACHE = "runs/tune_direct_grid"  # each training is cached: the grids share the networks


def network(name: str, training_seed: int) -> evofool.Classifier:
    if name == "shipped":
        return evofool.load_classifier("lenet_fmnist", device="cpu")
    return cached_network(name, training_seed, CACHE)


def run(job):
    grid, name, training_seed, label, seed, target, generations = job
    torch.set_num_threads(1)
    side, upsample, *search = grid.split(":")
    refine_after, tournsize = (list(map(int, search)) + [None, None])[:2]
    result = evofool.evolve(network(name, training_seed), label, algorithm="ga", encoding="direct", pop_size=128,
                            generations=generations, seed=seed, target_confidence=target, genome_size=int(side),
                            upsample=upsample, refine_after=refine_after, tournsize=tournsize)
    reached = result.confidence >= target
    return dict(grid=grid, network=name, target=label, seed=seed, confidence=result.confidence,
                generations=result.generations if reached else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("grids", nargs="+", help="SIDE:UPSAMPLING[:REFINE_AFTER[:TOURNSIZE]], e.g. 14:nearest:60:3")
    parser.add_argument("--networks", nargs="*", choices=list(NETWORKS), default=TUNING_NETWORKS)
    parser.add_argument("--shipped", action="store_true", help="the shipped LeNet as well")
    parser.add_argument("--training-seed", type=int, default=123)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--target", type=float, default=0.99)
    parser.add_argument("--generations", type=int, default=150)
    parser.add_argument("--out", default="results/tune_direct_grid.json")
    args = parser.parse_args()

    names = args.networks + (["shipped"] if args.shipped else [])
    for name in names:
        network(name, args.training_seed)  # train once, before the workers load the cache
    jobs = [(grid, name, args.training_seed, label, seed, args.target, args.generations)
            for grid in args.grids for name in names for label in LABELS for seed in range(args.seeds)]
    with mp.get_context("spawn").Pool(2) as pool:
        runs = pool.map(run, jobs, chunksize=1)

    summary = {}
    for grid in args.grids:
        for name in names:
            done = [r for r in runs if r["grid"] == grid and r["network"] == name]
            reached = [r["generations"] for r in done if r["generations"] is not None]
            summary[f"{grid} {name}"] = dict(reached=f"{len(reached)}/{len(done)}",
                                             median_generations=statistics.median(reached) if reached else None,
                                             worst_generations=max(reached) if reached else None)
            print(f"{grid:>12} {name:>8}: {summary[f'{grid} {name}']}", flush=True)
        done = [r for r in runs if r["grid"] == grid]
        spent = [args.generations if r["generations"] is None else r["generations"] for r in done]
        summary[f"{grid} all"] = dict(reached=f"{sum(r['generations'] is not None for r in done)}/{len(done)}",
                                      mean_generations=round(statistics.mean(spent), 2))  # a miss counts the limit
        print(f"{grid:>12}      all: {summary[f'{grid} all']}", flush=True)
    report = json.load(open(args.out)) if os.path.exists(args.out) else dict(commands=[])
    report["commands"].append(dict(arguments=vars(args), summary=summary, runs=runs))
    write_json(args.out, report)


if __name__ == "__main__":
    main()
