"""Images scored per second by the whole GA loop, against the classifier's raw batched forward pass.

Also times a tutorial-style DEAP GA on the same problem, a generation of it in turn with ours (per
generation, and per evaluation since the tutorial's cxpb 0.5 / mutpb 0.2 leave some 40% of its children
unscored); EfficientNet-Lite0 once more with ``Classifier.compile`` (raw forward compiled too, the
tutorial loop eager); and the effect of evofool's glibc malloc tuning (each allocator setting in its own
process, since mallopt is process-wide).

    python scripts/bench_throughput.py [--quick] [--device cuda] [--out results/bench_throughput.json]
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import torch
from evofool.campaigns.checkpoint import write_json

# naive_every: one tutorial-GA generation after every this many of ours (a LeNet tutorial generation is ~12 of ours)
CASES = {"lenet_fmnist": dict(pop=256, target="Bag", naive_every=20),
         "efficientnet_lite0": dict(pop=32, target="king penguin", naive_every=1)}


def raw_forward_rate(classifier, batch_size, repeats):
    """Images per second of ``classifier.probs`` on one ready batch, over ``repeats`` timed calls."""
    images = torch.rand(batch_size, *classifier.input_size, generator=torch.Generator().manual_seed(0))
    classifier.probs(images)  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        classifier.probs(images)
    return batch_size * repeats / (time.perf_counter() - start)


class InterleavedForward:
    """Runs one raw batched forward pass after every GA generation and times it apart.

    This machine's speed drifts by tens of percent from minute to minute; timing the raw forward
    between generations exposes both measurements to the same drift.
    """

    def __init__(self, classifier, batch_size):
        self.classifier = classifier
        images = torch.rand(batch_size, *classifier.input_size, generator=torch.Generator().manual_seed(0))
        self.images = images.to(classifier.device)  # where the GA's population lives
        self.seconds, self.calls = 0.0, 0

    def __call__(self, row):
        start = time.perf_counter()
        self.classifier.probs(self.images).sum().item()  # .item() waits for the device, as the GA loop does
        self.seconds += time.perf_counter() - start
        self.calls += 1

    @property
    def img_per_s(self):
        return self.calls * len(self.images) / self.seconds


class InterleavedNaive:
    """Runs one generation of the tutorial-style GA after every ``every`` generations of evofool's loop."""

    def __init__(self, classifier, target, pop_size, every):
        from naive_deap_ga import NaiveGA

        self.naive, self.every = NaiveGA(classifier, target, pop_size), every

    def __call__(self, row):
        if row["gen"] % self.every == 0:
            self.naive.step()

    @property
    def seconds(self):
        return self.naive.seconds


def bench_model(name, generations, device="cpu", compile=False, pop=None):
    """One model's GA loop against its raw forward and the tutorial GA; ``pop`` overrides the case's."""
    import evofool

    case = CASES[name]
    pop = pop or case["pop"]
    classifier = evofool.load_classifier(name, device=device)
    target = classifier.class_index(case["target"])
    compile_seconds = None
    if compile:
        start = time.perf_counter()
        classifier.compile(batch_size=pop).probs(torch.rand(pop, *classifier.input_size))
        compile_seconds = time.perf_counter() - start
    evofool.evolve(classifier, target, algorithm="ga", pop_size=pop, generations=2, target_confidence=None)  # warm-up
    raw = InterleavedForward(classifier, pop)
    naive = InterleavedNaive(classifier, target, pop, case["naive_every"])  # eager: batch 1 is not compiled
    # timed in turns between our generations, so that every figure sees the same machine drift;
    # a compiled run also times the eager forward, for the compile speed-up
    timers = [raw, naive] + ([InterleavedForward(evofool.load_classifier(name, device=device), pop)]
                             if compile else [])

    def between_generations(row):  # not after the last one: result.seconds ends before that callback
        if row["gen"] < generations:
            for timer in timers:
                timer(row)

    result = evofool.evolve(classifier, target, algorithm="ga", pop_size=pop, generations=generations, seed=0,
                            target_confidence=None, on_generation=between_generations)
    ga_seconds = result.seconds - sum(timer.seconds for timer in timers)
    ga_rate = result.evaluations / ga_seconds
    ga_seconds_per_gen = ga_seconds / (result.generations + 1)  # +1: the initial population's evaluation
    naive_generations, naive_seconds = naive.naive.generations, naive.naive.seconds
    naive_evaluations = naive.naive.evaluations - pop  # the untimed initial population aside
    naive_seconds_per_gen = naive_seconds / naive_generations
    return dict(
        model=name, device=str(classifier.device), compiled=compile,
        compile_seconds=compile_seconds and round(compile_seconds, 1),
        pop=pop, target=case["target"], generations=result.generations,
        raw_forward_img_per_s=round(raw.img_per_s, 1), ga_loop_img_per_s=round(ga_rate, 1),
        eager_raw_forward_img_per_s=round(timers[2].img_per_s, 1) if compile else None,
        ga_over_raw=round(ga_rate / raw.img_per_s, 3),
        ga_seconds_per_generation=round(ga_seconds_per_gen, 4),
        naive_generations=naive_generations, naive_seconds_per_generation=round(naive_seconds_per_gen, 4),
        speedup_over_naive=round(naive_seconds_per_gen / ga_seconds_per_gen, 1),
        speedup_over_naive_per_evaluation=round(
            (naive_seconds / naive_evaluations) / (ga_seconds / result.evaluations), 1),
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
    parser.add_argument("--repeats", type=int, default=5, help="forward calls per allocator setting")
    parser.add_argument("--forward-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (the allocator part runs on the CPU only)")
    parser.add_argument("--out", default="results/bench_throughput.json")
    args = parser.parse_args()
    if args.forward_only:
        forward_only([16, 64], args.repeats)
        return

    sys.path.insert(0, os.path.dirname(__file__))
    report = dict(
        machine=dict(cpu_count=os.cpu_count(), platform=platform.platform(), torch=torch.__version__,
                     threads=torch.get_num_threads(),
                     gpu=torch.cuda.get_device_name() if args.device.startswith("cuda") else None),
        models=[
            bench_model("lenet_fmnist", 40 if args.quick else 200, args.device),
            bench_model("lenet_fmnist", 40 if args.quick else 100, args.device, pop=1024),  # overhead is per call
            bench_model("efficientnet_lite0", 3 if args.quick else 15, args.device),
            bench_model("efficientnet_lite0", 3 if args.quick else 15, args.device, compile=True),
        ],
        malloc=malloc_effect(args.repeats) if args.device == "cpu" else None,
    )
    write_json(args.out, report)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
