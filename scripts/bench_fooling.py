"""How fast the direct-encoding GA fools the shipped LeNet: every Fashion-MNIST class, several seeds.

Records generations, evaluations and seconds to 0.99 and 0.9999 per run, and the medians.

    python scripts/bench_fooling.py [--pop 128] [--seeds 0 1 2] [--out results/bench_fooling.json]
"""

import argparse
import json
import statistics

import evofool
from evofool.campaigns.checkpoint import write_json


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lenet_fmnist")
    parser.add_argument("--pop", type=int, default=128)
    parser.add_argument("--generations", type=int, default=300)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", default="results/bench_fooling.json")
    args = parser.parse_args()

    classifier = evofool.load_classifier(args.model, device="cpu")
    runs = []
    for index, label in enumerate(classifier.labels):
        for seed in args.seeds:
            result = evofool.evolve(classifier, index, algorithm="ga", pop_size=args.pop, generations=args.generations,
                                    seed=seed)
            run = dict(target=label, seed=seed, confidence=result.confidence, generations=result.generations,
                       evaluations=result.evaluations, seconds=round(result.seconds, 3),
                       to_0_99=result.milestones[0.99], to_0_9999=result.milestones[0.9999])
            runs.append(run)
            print(f"{label:>12} seed {seed}: {result.confidence:.6f} after {result.generations} generations, "
                  f"{result.seconds:.1f} s", flush=True)

    def median_of(key, field):
        values = [run[key][field] for run in runs if run[key]]
        return statistics.median(values) if values else None

    summary = dict(
        runs=len(runs), reached_0_99=sum(bool(r["to_0_99"]) for r in runs),
        reached_0_9999=sum(bool(r["to_0_9999"]) for r in runs),
        median_generations_to_0_99=median_of("to_0_99", "gen"),
        median_generations_to_0_9999=median_of("to_0_9999", "gen"),
        median_seconds_to_0_99=median_of("to_0_99", "seconds"),
        median_seconds_to_0_9999=median_of("to_0_9999", "seconds"),
        max_generations_to_0_9999=max((r["to_0_9999"]["gen"] for r in runs if r["to_0_9999"]), default=None),
    )
    report = dict(model=args.model, encoding="direct", pop=args.pop, generation_budget=args.generations,
                  seeds=args.seeds, summary=summary, runs=runs)
    write_json(args.out, report)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
