"""Robust fooling, measured: does a fooling image survive shifts and zooms it was not evolved under?

For each class, one plain and one robust (``evolve(robust=...)``) search; each saved image is then scored
over 100 fresh random views (shift up to 2/28 of the side, i.e. +-2 px on Fashion-MNIST, and zoom 0.9-1.1,
drawn from a generator the searches never used). Reports per class and search the confidence of the image
itself, the mean over the unseen views, and the cost in images and forward passes.

    python scripts/bench_robust.py --model lenet_fmnist [--classes all] [--robust shift,scale,rotate]
    python scripts/bench_robust.py --model efficientnet_lite0 --classes goldfish volcano lemon --budget 5000
"""

import argparse
import json
import statistics
from pathlib import Path

import torch

import evofool
from evofool.campaigns.checkpoint import write_json
from evofool.robust import random_views

UNSEEN = dict(shift=2 / 28, scale=0.1)
VIEWS = 100


def unseen_confidence(classifier, image: torch.Tensor, target_index: int) -> float:
    """Mean confidence over VIEWS random views from a generator of their own (the same for every image)."""
    generator = torch.Generator().manual_seed(12345)
    views = random_views(classifier.prepare_size(image[None]), VIEWS, UNSEEN, generator)
    return float(classifier.probs(views)[:, target_index].mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lenet_fmnist")
    parser.add_argument("--classes", nargs="+", default=["all"])
    parser.add_argument("--robust", default="shift,scale,rotate")
    parser.add_argument("--samples", type=int, default=8, help="random views per image in the robust search")
    parser.add_argument("--budget", type=int, default=10000, help="images scored per search")
    parser.add_argument("--algorithm", default=None)
    parser.add_argument("--encoding", default="direct")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="default results/bench_robust_MODEL.json")
    args = parser.parse_args()

    classifier = evofool.load_classifier(args.model, device="cpu")
    classes = classifier.labels if args.classes == ["all"] else [classifier.labels[classifier.class_index(c)]
                                                                 for c in args.classes]
    runs = []
    for target in classes:
        for robust in (None, args.robust):
            result = evofool.evolve(classifier, target, algorithm=args.algorithm, encoding=args.encoding,
                                    budget=args.budget, generations=args.budget, seed=args.seed, robust=robust,
                                    robust_samples=args.samples)
            views = 1 if robust is None else result.config["robust_samples"]
            run = dict(target=target, search="robust" if robust else "plain", confidence=result.confidence,
                       unseen_views=unseen_confidence(classifier, result.image, result.target_index),
                       images=result.evaluations, forward_passes=result.evaluations * views,
                       seconds=round(result.seconds, 1), stopped_by=result.stopped_by)
            runs.append(run)
            print(json.dumps(run), flush=True)
    summary = {}
    for search in ("plain", "robust"):
        group = [r for r in runs if r["search"] == search]
        summary[search] = dict(
            median_confidence=statistics.median(r["confidence"] for r in group),
            mean_unseen=statistics.mean(r["unseen_views"] for r in group),
            min_unseen=min(r["unseen_views"] for r in group),
            median_unseen=statistics.median(r["unseen_views"] for r in group),
            median_forward_passes=statistics.median(r["forward_passes"] for r in group))
    report = dict(model=args.model, robust=args.robust, samples=args.samples, budget=args.budget,
                  algorithm=args.algorithm or "default", encoding=args.encoding, unseen=UNSEEN, views=VIEWS,
                  runs=runs, summary=summary)
    out = Path(args.out or f"results/bench_robust_{args.model}.json")
    write_json(out, report)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
