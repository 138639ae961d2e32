"""A quick proxy of the 1000-class ImageNet campaign, for choosing its CPPN settings: MAP-Elites (CPPN GA,
population 64) over 100 classes drawn at random, for a budget of evaluations, once per setting and draw.

The draw of classes is ``random.Random(draw).sample(range(1000), 100)`` and the run's seed is the draw, so a
setting is compared with another on the same classes and the same random numbers. A warm-up generation is
run first (first calls are slow). The median elite confidence at the budget is the figure; one run each, so
differences of a few percent are noise (the two draws of the colour-mode sweep differed by 25%).

    python scripts/tune_campaign.py [--model efficientnet_lite0] [--draws 1 2] [--budget 30000]
                                    [--color-modes hls rgb] [--render-sides 112]
"""

import argparse
import itertools
import json
import os
import random
import time

import evofool
from evofool.algorithms.map_elites import map_elites
from evofool.campaigns.checkpoint import write_json


def proxy(classifier, draw: int, budget: int, **cppn) -> dict:
    classes = random.Random(draw).sample(range(classifier.num_classes), 100)
    map_elites(classifier, "cppn", classes=classes, pop_size=64, generations=1, seed=0, **cppn)  # warm-up
    rows = []
    started = time.perf_counter()
    result = map_elites(classifier, "cppn", classes=classes, pop_size=64, generations=10**6, seed=draw,
                        budget=budget, on_generation=rows.append, **cppn)
    confidence = result.archive.confidence
    every = max(1, len(rows) // 10)
    return dict(draw=draw, evaluations=result.evaluations, seconds=round(time.perf_counter() - started, 1),
                median=round(confidence.median().item(), 4), mean=round(confidence.mean().item(), 4),
                at_0_99=int((confidence >= 0.99).sum()),
                curve=[dict(evals=r["evals"], median=round(r["median"], 4)) for r in rows[::every] + [rows[-1]]])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="efficientnet_lite0")
    parser.add_argument("--draws", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--budget", type=int, default=30000)
    parser.add_argument("--color-modes", nargs="+", default=["hls", "rgb"])
    parser.add_argument("--render-sides", type=int, nargs="+", default=[112])
    parser.add_argument("--out", default="results/tune_campaign.json")
    args = parser.parse_args()
    classifier = evofool.load_classifier(args.model)
    report = json.load(open(args.out)) if os.path.exists(args.out) else {}
    for draw, mode, side in itertools.product(args.draws, args.color_modes, args.render_sides):
        key = f"{args.model}_draw{draw}_{mode}_side{side}_{args.budget}"
        report[key] = dict(proxy(classifier, draw, args.budget, color_mode=mode, render_side=side),
                           model=args.model, color_mode=mode, render_side=side, backend=classifier.backend)
        print(key, {k: v for k, v in report[key].items() if k != "curve"}, flush=True)
        write_json(args.out, report)


if __name__ == "__main__":
    main()
