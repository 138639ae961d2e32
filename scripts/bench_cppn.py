"""CPPN encoding benchmarks: LeNet classes to 0.99, EfficientNet-Lite0 CPPN vs direct at equal evaluations,
and the share of generation time spent rendering.

    python scripts/bench_cppn.py [--parts lenet imagenet render] [--out results/bench_cppn.json]
"""

import argparse
import json
import os
import statistics
import time

import torch

import evofool
from evofool.algorithms.ga import ea_mu_plus_lambda
from evofool.encodings import make_encoding
from evofool.campaigns.checkpoint import write_json

IMAGENET_CLASSES = ["king penguin", "starfish", "goldfish", "monarch", "jellyfish",
                    "baseball", "electric guitar", "school bus", "pizza", "volcano"]


def bench_lenet(seeds, pop, generations):
    classifier = evofool.load_classifier("lenet_fmnist", device="cpu")
    runs = []
    for index, label in enumerate(classifier.labels):
        for seed in seeds:
            r = evofool.evolve(classifier, index, encoding="cppn", pop_size=pop, generations=generations,
                               seed=seed, target_confidence=0.99)
            runs.append(dict(target=label, seed=seed, confidence=r.confidence, generations=r.generations,
                             evaluations=r.evaluations, seconds=round(r.seconds, 2),
                             hidden_nodes=len(r.genome_dict["nodes"])))
            print(f"lenet cppn {label:>12} seed {seed}: {r.confidence:.4f} in {r.generations} gens", flush=True)
    reached = [r for r in runs if r["confidence"] >= 0.99]
    return dict(pop=pop, generation_budget=generations, runs=runs, reached_0_99=len(reached), total=len(runs),
                median_generations=statistics.median(r["generations"] for r in reached) if reached else None,
                max_generations=max((r["generations"] for r in reached), default=None))


def bench_imagenet(classes, pop, generations, seed):
    classifier = evofool.load_classifier("efficientnet_lite0", device="cpu")
    rows = []
    for label in classes:
        row = dict(target=label)
        for encoding in ("cppn", "direct"):
            r = evofool.evolve(classifier, label, algorithm="ga", encoding=encoding, pop_size=pop,
                               generations=generations, seed=seed, target_confidence=0.99)
            row[encoding] = dict(confidence=round(r.confidence, 4), evaluations=r.evaluations,
                                 seconds=round(r.seconds, 1), top1=r.top5[0][0])
            print(f"imagenet {encoding:>6} {label:>16}: {r.confidence:.4f} ({r.evaluations} evals, "
                  f"{r.seconds:.0f} s)", flush=True)
        rows.append(row)
    summary = {enc: dict(median=statistics.median(r[enc]["confidence"] for r in rows),
                         at_least_0_99=sum(r[enc]["confidence"] >= 0.99 for r in rows),
                         seconds=round(sum(r[enc]["seconds"] for r in rows), 1))
               for enc in ("cppn", "direct")}
    return dict(pop=pop, generation_budget=generations, seed=seed, classes=rows, summary=summary)


def bench_render_share(pop, generations, warm_mutations):
    """Time rendering inside real generations (pop 400, 224 x 224, EfficientNet-Lite0 scoring on the CPU).

    The population is first mutated ``warm_mutations`` times so that genomes carry hidden nodes, as they
    do after some evolution (new genomes have none and render almost for free); a generation before the
    timed ones warms the buffers up (the first render of 400 took 1 s, the next 0.2).
    """
    classifier = evofool.load_classifier("efficientnet_lite0", device="cpu")
    encoding = make_encoding("cppn", classifier.input_size)
    generator = torch.Generator().manual_seed(0)
    population = encoding.random(pop, generator, "cpu")
    for _ in range(warm_mutations):
        population = encoding.mutate(population, generator)[0]
    toolbox = evofool.make_toolbox(classifier, classifier.class_index("starfish"), encoding, generator)
    spent = {"render": 0.0}
    render = encoding.render

    def timed_render(genomes):
        start = time.perf_counter()
        images = render(genomes)
        spent["render"] += time.perf_counter() - start
        return images

    encoding.render = timed_render
    ea_mu_plus_lambda(population, toolbox, pop, 0.0, 1.0, 1)  # warm-up: first touches of the buffers are slow
    spent["render"] = 0.0
    start = time.perf_counter()
    ea_mu_plus_lambda(population, toolbox, pop, 0.0, 1.0, generations)
    total = time.perf_counter() - start
    hidden = encoding.layout.hidden_counts(population).float()
    return dict(pop=pop, size=list(classifier.input_size), generations=generations,
                hidden_nodes_mean=round(hidden.mean().item(), 1), hidden_nodes_max=int(hidden.max()),
                seconds_per_generation=round(total / (generations + 1), 2),
                render_seconds_per_generation=round(spent["render"] / (generations + 1), 2),
                render_share=round(spent["render"] / total, 3))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", default=["lenet", "imagenet", "render"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--lenet-generations", type=int, default=1000, help="budget per LeNet run (most stop far sooner)")
    parser.add_argument("--imagenet-pop", type=int, default=32)
    parser.add_argument("--imagenet-generations", type=int, default=60)
    parser.add_argument("--out", default="results/bench_cppn.json")
    args = parser.parse_args()

    report = json.load(open(args.out)) if os.path.exists(args.out) else {}
    if "lenet" in args.parts:
        report["lenet_fmnist"] = bench_lenet(args.seeds, pop=64, generations=args.lenet_generations)
    if "render" in args.parts:
        report["render_share"] = bench_render_share(pop=400, generations=2, warm_mutations=30)
        # the 1000-class campaign's children late in a run: 64 at a time, grown to about 24 hidden nodes
        report["render_share_grown"] = bench_render_share(pop=64, generations=10, warm_mutations=200)
    if "imagenet" in args.parts:
        report["efficientnet_lite0"] = bench_imagenet(IMAGENET_CLASSES, args.imagenet_pop,
                                                      args.imagenet_generations, seed=0)
    write_json(args.out, report)
    print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk not in ("runs", "classes")} for k, v in report.items()}, indent=2))


if __name__ == "__main__":
    main()
