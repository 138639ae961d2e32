"""Images scored per second by the whole GA loop, against the classifier's raw batched forward pass.

Also times a tutorial-style DEAP GA on the same problem, and the effect of evofool's glibc malloc
tuning on EfficientNet-Lite0 (each allocator setting in its own process, since mallopt is process-wide).

    python scripts/bench_throughput.py [--quick] [--out results/bench_throughput.json]
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import torch

CASES = {"lenet_fmnist": dict(pop=256, target="Bag"), "efficientnet_lite0": dict(pop=32, target="king penguin")}


def raw_forward_rate(classifier, batch_size, repeats):
    """Images per second of ``classifier.probs`` on one ready batch, best of ``repeats`` timed calls."""
    images = torch.rand(batch_size, *classifier.input_size, generator=torch.Generator().manual_seed(0))
    classifier.probs(images)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        classifier.probs(images)
        best = min(best, time.perf_counter() - start)
    return batch_size / best


def ga_rate(classifier, target, pop, generations):
    import evofool

    evofool.evolve(classifier, target, pop_size=pop, generations=2, seed=1, target_confidence=None)  # warm-up
    result = evofool.evolve(classifier, target, pop_size=pop, generations=generations, seed=0,
                            target_confidence=None)
    return result.evaluations / result.seconds, result.seconds / result.generations, result.generations


def bench_model(name, generations, naive_generations, repeats):
    import evofool
    from naive_deap_ga import run_naive

    case = CASES[name]
    classifier = evofool.load_classifier(name, device="cpu")
    target = classifier.class_index(case["target"])
    raw = raw_forward_rate(classifier, case["pop"], repeats)
    ga, ga_seconds_per_gen, ga_gens = ga_rate(classifier, target, case["pop"], generations)
    raw_after = raw_forward_rate(classifier, case["pop"], repeats)  # the machine drifts: bracket the GA run
    raw = max(raw, raw_after)
    _, naive_seconds = run_naive(classifier, target, case["pop"], naive_generations, target=2.0)
    naive_seconds_per_gen = naive_seconds / (naive_generations + 1)  # +1: the initial evaluation
    return dict(
        model=name, pop=case["pop"], target=case["target"], generations=ga_gens,
        raw_forward_img_per_s=round(raw, 1), ga_loop_img_per_s=round(ga, 1), ga_over_raw=round(ga / raw, 3),
        ga_seconds_per_generation=round(ga_seconds_per_gen, 4),
        naive_generations=naive_generations, naive_seconds_per_generation=round(naive_seconds_per_gen, 4),
        speedup_over_naive=round(naive_seconds_per_gen / ga_seconds_per_gen, 1),
    )


def forward_only(batch_sizes, repeats):
    """Child-process mode: EfficientNet-Lite0 forward rates under whatever allocator setting it started with."""
    import evofool

    classifier = evofool.load_classifier("efficientnet_lite0", device="cpu")
    rates = {str(b): round(raw_forward_rate(classifier, b, repeats), 1) for b in batch_sizes}
    print(json.dumps({"tuned": evofool._malloc._state["tuned"], "img_per_s": rates}))


def malloc_effect(repeats):
    results = {}
    for label, keep in (("glibc_default", "1"), ("evofool_tuned", "0")):
        env = dict(os.environ, EVOFOOL_KEEP_MALLOC=keep)
        out = subprocess.run([sys.executable, __file__, "--forward-only", "--repeats", str(repeats)],
                             env=env, capture_output=True, text=True, check=True).stdout
        results[label] = json.loads(out.strip().splitlines()[-1])
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer generations (a smoke run)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--forward-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="results/bench_throughput.json")
    args = parser.parse_args()
    if args.forward_only:
        forward_only([16, 64], args.repeats)
        return

    sys.path.insert(0, os.path.dirname(__file__))
    report = dict(
        machine=dict(cpu_count=os.cpu_count(), platform=platform.platform(), torch=torch.__version__,
                     threads=torch.get_num_threads()),
        models=[
            bench_model("lenet_fmnist", 20 if args.quick else 100, 2 if args.quick else 5, args.repeats),
            bench_model("efficientnet_lite0", 3 if args.quick else 15, 1 if args.quick else 2, args.repeats),
        ],
        malloc=malloc_effect(args.repeats),
    )
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
