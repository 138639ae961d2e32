"""How fast each search fools an ImageNet model: confidence against model evaluations, per algorithm and
genome parameterization, with gradient ascent as the white-box reference.

For every (search, class, seed) run: the best confidence within 1,000 / 3,000 / 5,000 / 10,000
evaluations and the evaluations to 0.99 and 0.9999. Runs are appended to the JSON as they finish and
skipped when the JSON already has them, so an interrupted benchmark continues where it stopped.
Writes the JSON and a plot of the median confidence against evaluations (log x).

    python scripts/bench_imagenet.py [--model efficientnet_lite0] [--classes ...] [--seeds 0 1 2]
        [--searches snes:direct:32:bilinear ga:direct:-:nearest ...] [--budget 10000]
"""

import argparse
import json
import random
import statistics
from pathlib import Path

import evofool
from evofool.campaigns.checkpoint import write_json

# Ten classes none of the defaults were chosen on (those were tuned on tabby, banana, castle, ambulance).
CLASSES = ["goldfish", "king penguin", "starfish", "school bus", "pizza", "volcano", "tree frog", "lemon",
           "broccoli", "umbrella"]
SEARCHES = ["snes:direct:16:bilinear", "sep-cma:direct:16:bilinear", "snes:dct:8:-", "ga:direct:-:nearest",
            "ga:cppn:-:-", "gradient"]
CHECKPOINTS = (1000, 3000, 5000, 10000)
# every class some default was chosen or checked on: a random draw of classes (--random-classes) leaves them out
USED = set(CLASSES) | {"tabby", "banana", "castle", "ambulance", "window screen", "jigsaw puzzle", "jellyfish",
                       "strawberry", "fire engine", "golden retriever", "mushroom", "accordion"}


def run_search(classifier, search: str, target: str, seed: int, budget: int, pop: int) -> dict:
    """One run; its confidence curve as (evaluations, best so far) pairs."""
    if search == "gradient":
        result = evofool.dream(classifier, target, steps=budget // 2, seed=seed, target_confidence=0.9999)
        curve = [(row["evals"], row["best"]) for row in result.logbook]
    else:
        algorithm, encoding, size, upsample = search.split(":")
        result = evofool.evolve(classifier, target, algorithm=algorithm, encoding=encoding, pop_size=pop,
                                generations=budget, budget=budget, seed=seed, target_confidence=0.9999,
                                genome_size=None if size == "-" else int(size),
                                upsample=None if upsample == "-" else upsample)
        curve, best = [], 0.0
        for row in result.logbook:
            best = max(best, row["best"])
            curve.append((row["evals"], best))
    at = {str(n): max([c for e, c in curve if e <= n], default=None) for n in CHECKPOINTS}
    if result.confidence >= 0.9999:  # stopped at the target: it holds at every later checkpoint
        at = {n: (c if c is not None and int(n) < result.evaluations else result.confidence) for n, c in at.items()}
    return dict(search=search, target=result.target, seed=seed, confidence=result.confidence,
                evaluations=result.evaluations, seconds=round(result.seconds, 2), at=at,
                to_0_99=(result.milestones[0.99] or {}).get("evals"),
                to_0_9999=(result.milestones[0.9999] or {}).get("evals"),
                curve=curve[:: max(1, len(curve) // 200)] + curve[-1:])


def summarize(runs: list[dict]) -> dict:
    def median(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    out = dict(runs=len(runs))
    for n in CHECKPOINTS:
        out[f"median_at_{n}"] = median(r["at"][str(n)] for r in runs)
    for key in ("to_0_99", "to_0_9999"):
        reached = [r[key] for r in runs if r[key] is not None]
        out[f"reached_{key[3:]}"] = len(reached)
        # the median over all runs, counting a run that never got there as infinitely slow
        ordered = sorted(reached) + [float("inf")] * (len(runs) - len(reached))
        middle = ordered[(len(ordered) - 1) // 2] if ordered else None
        out[f"median_evaluations_{key}"] = None if middle in (None, float("inf")) else middle
    return out


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    grid = np.unique(np.geomspace(1, report["budget"], 80).astype(int))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for search in report["searches"]:
        runs = [r for r in report["runs"] if r["search"] == search]
        if not runs:
            continue
        curves = []
        for run in runs:
            evals, best = zip(*run["curve"])
            index = np.searchsorted(evals, grid, side="right") - 1
            values = np.where(index >= 0, np.asarray(best)[np.clip(index, 0, None)], np.nan)
            if run["confidence"] >= 0.9999:
                values = np.where(grid >= run["evaluations"], run["confidence"], values)
            curves.append(values)
        ax.plot(grid, np.nanmedian(np.array(curves), 0), label=f"{search} ({len(runs)} runs)",
                linestyle="--" if search == "gradient" else "-")
    ax.set_xscale("log")
    ax.set_xlabel("model evaluations (forward passes)")
    ax.set_ylabel("median confidence in the target class")
    ax.set_title(f"{report['model']}: {len(report['classes'])} classes x {len(report['seeds'])} seeds")
    ax.axhline(0.99, color="gray", linewidth=0.5)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="efficientnet_lite0")
    parser.add_argument("--classes", nargs="+", default=CLASSES)
    parser.add_argument("--random-classes", type=int, metavar="N",
                        help="instead of --classes, N classes drawn at random from those no default was chosen on")
    parser.add_argument("--class-seed", type=int, default=0, help="the seed of that draw")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--searches", nargs="+", default=SEARCHES,
                        help="algorithm:encoding:genome size:upsampling, or gradient")
    parser.add_argument("--budget", type=int, default=10000)
    parser.add_argument("--pop", type=int, default=32)
    parser.add_argument("--out", default="results/bench_imagenet.json")
    args = parser.parse_args()

    out = Path(args.out)
    earlier = json.loads(out.read_text()) if out.exists() else {}
    previous = earlier.get("runs", [])
    # the searches already in the JSON stay in its summary and plot beside the ones run now
    searches = list(dict.fromkeys([*earlier.get("searches", []), *args.searches]))
    done = {(r["search"], r["target"], r["seed"]) for r in previous}
    classifier = evofool.load_classifier(args.model, device="cpu")
    if args.random_classes:
        unused = [label for label in classifier.labels if label not in USED]
        classes = random.Random(args.class_seed).sample(unused, args.random_classes)
    else:
        classes = [classifier.labels[classifier.class_index(c)] for c in args.classes]
    report = dict(model=args.model, budget=args.budget, pop=args.pop, classes=classes, seeds=args.seeds,
                  searches=searches, runs=previous)
    for search in args.searches:
        for target in classes:
            for seed in args.seeds:
                if (search, target, seed) in done:
                    continue
                run = run_search(classifier, search, target, seed, args.budget, args.pop)
                report["runs"].append(run)
                print(f"{search:>28} {target:>14} seed {seed}: {run['confidence']:.4f} after {run['evaluations']} "
                      f"evaluations ({run['seconds']} s); at 1k/3k/5k/10k: {run['at']}", flush=True)
                report["summary"] = {s: summarize([r for r in report["runs"] if r["search"] == s])
                                     for s in searches}
                write_json(out, report)
    report["summary"] = {s: summarize([r for r in report["runs"] if r["search"] == s]) for s in searches}
    write_json(out, report)
    plot(report, out.with_suffix(".png"))
    print(json.dumps(report["summary"], indent=2))


if __name__ == "__main__":
    main()
