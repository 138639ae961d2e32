"""Images scored per second: each scoring backend and precision, idle and beside a busy process; the
whole search loop against its backend's raw batched forward pass; the README's main job end to end.

The backends part times EfficientNet-Lite0 at batch 32 (and LeNet) with every backend and precision in
turns, on an idle machine and with one other CPU-bound process running (started and stopped here), and
reports GFLOP/s against this CPU's peak. torch's OpenMP threads wait passively under evofool; a child
process times them spinning (OMP_WAIT_POLICY=ACTIVE, torch's default) for comparison.

The GA part compares the GA loop with the raw forward pass (torch eager).

Also times a tutorial-style DEAP GA on the same problem, a generation of it in turn with ours (per
generation, and per evaluation since the tutorial's cxpb 0.5 / mutpb 0.2 leave some 40% of its children
unscored); EfficientNet-Lite0 once more with ``Classifier.compile`` (raw forward compiled too, the
tutorial loop eager); and the effect of evofool's glibc malloc tuning (each allocator setting in its own
process, since mallopt is process-wide).

    python scripts/bench_throughput.py [--quick] [--parts backends,loop,main,ga,malloc] [--device cuda]
"""

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import time

import evofool  # first: it sets OpenMP's wait policy before torch loads
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

    case = CASES[name]
    pop = pop or case["pop"]
    classifier = evofool.load_classifier(name, device=device, backend="torch")
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
    timers = [raw, naive] + ([InterleavedForward(evofool.load_classifier(name, device=device, backend="torch"), pop)]
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

    classifier = evofool.load_classifier("efficientnet_lite0", device="cpu", backend="torch")
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


SCORING = [("torch", "fp32"), ("torch", "bf16"), ("onnxruntime", "fp32"), ("openvino", "fp32"),
           ("openvino", "bf16"), ("auto", "fp32"), ("auto", "bf16")]


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (figures move between machines of one kind)."""
    with contextlib.suppress(OSError, StopIteration):
        return next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    return platform.processor()


def cpu_peak():
    """This CPU's peak GFLOP/s from /proc/cpuinfo: cores x 2 FMA units x vector lanes x 2 flops x clock (the
    nominal clock; turbo may run higher). bf16: AVX-512 BF16 dot products double the fp32 rate, AMX tiles
    do 1024 bf16 multiply-adds a cycle per core."""
    text = open("/proc/cpuinfo").read()
    flags = set(next(line for line in text.splitlines() if line.startswith("flags")).split(":")[1].split())
    ghz = max(float(line.split(":")[1]) for line in text.splitlines() if line.startswith("cpu MHz")) / 1000
    cores = len(os.sched_getaffinity(0))
    lanes = 16 if "avx512f" in flags else 8
    fp32 = cores * 2 * lanes * 2 * ghz
    return dict(cores=cores, ghz=round(ghz, 2), fma_units_assumed=2, vector_lanes_fp32=lanes,
                fp32_gflops=round(fp32, 1), avx512_bf16="avx512_bf16" in flags, amx_bf16="amx_bf16" in flags,
                bf16_avx512_gflops=round(2 * fp32, 1) if "avx512_bf16" in flags else None,
                bf16_amx_gflops=round(cores * 1024 * 2 * ghz, 1) if "amx_bf16" in flags else None)


def flops_per_image(classifier):
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        classifier.torch_logits(torch.rand(1, *classifier.input_size))
    return counter.get_total_flops()


class Busy:
    """One other CPU-bound process for the length of a ``with`` block."""

    def __enter__(self):
        self.process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.5)

    def __exit__(self, *exc):
        self.process.kill()
        self.process.wait()


def bench_backends(name, batch, rounds):
    """Images/s of every installed backend and precision, timed in turns, idle and beside a busy process."""
    from evofool.classifiers import backends

    setups = [(b, p) for b, p in SCORING if b in ("torch", "auto") or backends.installed(b)]
    classifiers = {f"{b}/{p}": evofool.load_classifier(name, device="cpu", backend=b, precision=p) for b, p in setups}
    images = torch.rand(batch, *next(iter(classifiers.values())).input_size, generator=torch.Generator().manual_seed(0))
    reference = classifiers["torch/fp32"].probs(images)
    difference = {k: float((c.probs(images) - reference).abs().max()) for k, c in classifiers.items()}  # settles auto
    seconds = {phase: dict.fromkeys(classifiers, 0.0) for phase in ("idle", "busy")}
    for phase in ("idle", "busy", "idle", "busy"):  # in turns, so drift spreads over every setup alike
        with Busy() if phase == "busy" else contextlib.nullcontext():
            for _ in range(rounds):
                for key, classifier in classifiers.items():
                    classifier.probs(images)  # untimed: the previous runtime's threads (OpenVINO's spin) settle
                    start = time.perf_counter()
                    classifier.probs(images)
                    seconds[phase][key] += time.perf_counter() - start
    flops = flops_per_image(classifiers["torch/fp32"])
    rows = {}
    for key, classifier in classifiers.items():
        idle, busy = (2 * rounds * batch / seconds[phase][key] for phase in ("idle", "busy"))
        rows[key] = dict(backend=classifier.backend, precision=classifier.precision, idle_img_per_s=round(idle, 1),
                         busy_img_per_s=round(busy, 1), busy_over_idle=round(busy / idle, 3),
                         max_probability_difference=float(f"{difference[key]:.2g}"),
                         gflops=round(idle * flops / 1e9, 1))
    torch_idle = rows["torch/fp32"]["idle_img_per_s"]
    for row in rows.values():
        row["over_torch_eager"] = round(row["idle_img_per_s"] / torch_idle, 2)
    return dict(model=name, batch=batch, gflop_per_image=round(flops / 1e9, 3), setups=rows)


def torch_spinning(name, batch, rounds):
    """Child-process mode: torch fp32 idle and busy with OMP_WAIT_POLICY=ACTIVE (set by the parent)."""

    classifier = evofool.load_classifier(name, device="cpu", backend="torch")
    rates = {}
    for phase in ("idle", "busy"):
        with Busy() if phase == "busy" else contextlib.nullcontext():
            rates[phase] = raw_forward_rate(classifier, batch, rounds)
    print(json.dumps(dict(idle_img_per_s=round(rates["idle"], 1), busy_img_per_s=round(rates["busy"], 1),
                          busy_over_idle=round(rates["busy"] / rates["idle"], 3), wait_policy="ACTIVE")))


def spinning_effect(name, batch, rounds):
    env = dict(os.environ, OMP_WAIT_POLICY="ACTIVE")
    out = subprocess.run([sys.executable, __file__, "--spinning-child", name, "--batch", str(batch), "--repeats",
                          str(rounds)], env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench_search_loops(backend, precision, generations, repeats=3):
    """The GA and SNES loops at population 32 on EfficientNet-Lite0 against their backend's raw forward pass,
    timed between generations; ``repeats`` loops each, the median ratio reported (one loop of 100 generations
    moves by about +-0.015 from run to run on a machine whose speed drifts). The raw pass scores 32 images;
    SNES scores 33 (its samples and their mean), so its ratio is also given against a raw pass of 33, which
    two workers cannot split evenly either."""
    import statistics

    from evofool.defaults import SCORE_CENTROID

    classifier = evofool.load_classifier("efficientnet_lite0", device="cpu", backend=backend, precision=precision)
    rows = {}
    for algorithm in ("ga", "snes"):
        batch = 32 + (algorithm != "ga" and SCORE_CENTROID)
        evofool.evolve(classifier, "king penguin", algorithm=algorithm, generations=2, target_confidence=None)
        runs = []
        for _ in range(repeats):
            raw, raw_batch = InterleavedForward(classifier, 32), InterleavedForward(classifier, batch)

            def between(row):
                if row["gen"] < generations:
                    raw(row)
                    if batch != 32:
                        raw_batch(row)

            result = evofool.evolve(classifier, "king penguin", algorithm=algorithm, pop_size=32,
                                    generations=generations, target_confidence=None, on_generation=between)
            loop = result.evaluations / (result.seconds - raw.seconds - raw_batch.seconds)
            same = raw_batch.img_per_s if batch != 32 else raw.img_per_s
            runs.append(dict(loop_img_per_s=round(loop, 1), raw_img_per_s=round(raw.img_per_s, 1),
                             loop_over_raw=round(loop / raw.img_per_s, 3),
                             loop_over_raw_of_its_batch=round(loop / same, 3)))
        middle = sorted(runs, key=lambda run: run["loop_over_raw"])[len(runs) // 2]
        rows[algorithm] = dict(middle, batch=batch, runs=runs,
                               loop_over_raw_all=[run["loop_over_raw"] for run in runs],
                               median_loop_over_raw_of_its_batch=statistics.median(
                                   run["loop_over_raw_of_its_batch"] for run in runs))
    return dict(backend=classifier.backend, precision=precision, **rows)


def main_job(variants):
    """The README's main job end to end (wall seconds of the command) with each backend / precision."""
    import tempfile

    rows = {}
    for label, options in variants.items():
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            subprocess.run(["evofool", "evolve", "--target", "window screen", "--out", out, *options],
                           check=True, capture_output=True)
            wall = time.perf_counter() - start
            result = json.load(open(os.path.join(out, "result.json")))
        rows[label] = dict(options=" ".join(options), wall_seconds=round(wall, 1),
                           search_seconds=round(result["seconds"], 1), evaluations=result["evaluations"],
                           confidence=result["confidence"], backend=result["config"]["backend"])
    base = rows["torch fp32"]["wall_seconds"]
    for row in rows.values():
        row["speedup_over_torch"] = round(base / row["wall_seconds"], 2)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer generations (a smoke run)")
    parser.add_argument("--repeats", type=int, default=5, help="forward calls per allocator setting")
    parser.add_argument("--forward-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--spinning-child", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=32, help=argparse.SUPPRESS)
    parser.add_argument("--parts", default="backends,loop,main,ga,malloc", help="which parts to run")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (the allocator part runs on the CPU only)")
    parser.add_argument("--out", default="results/bench_throughput.json")
    args = parser.parse_args()
    if args.forward_only:
        forward_only([16, 64], args.repeats)
        return
    if args.spinning_child:
        torch_spinning(args.spinning_child, args.batch, args.repeats)
        return

    sys.path.insert(0, os.path.dirname(__file__))
    parts = set(args.parts.split(","))
    report = json.load(open(args.out)) if os.path.exists(args.out) else {}  # parts not run keep their figures
    report["machine"] = dict(cpu=cpu_model(), cpu_count=os.cpu_count(), platform=platform.platform(),
                             torch=torch.__version__, threads=torch.get_num_threads(),
                             omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"),
                             gpu=torch.cuda.get_device_name() if args.device.startswith("cuda") else None)
    # parts not run keep their figures, so each part names the machine it was measured on
    report.setdefault("machine_of_part", {}).update({part: report["machine"] for part in parts})
    if "backends" in parts:
        rounds = 2 if args.quick else 12
        report["cpu_peak"] = cpu_peak()
        report["backends"] = [bench_backends("efficientnet_lite0", 32, rounds),
                              bench_backends("lenet_fmnist", 256, 4 * rounds)]
        report["torch_spinning"] = spinning_effect("efficientnet_lite0", 32, rounds)
    if "loop" in parts:
        generations, repeats = (5, 1) if args.quick else (100, 3)  # 25 generations moved the ratio by +-0.015
        report["search_loops"] = [bench_search_loops("auto", "fp32", generations, repeats),
                                  bench_search_loops("auto", "bf16", generations, repeats)]
    if "main" in parts:
        report["main_job"] = main_job({"torch fp32": ["--backend", "torch"], "auto fp32": [],
                                       "auto bf16": ["--precision", "bf16"]})
    if "ga" in parts:
        report["models"] = [
            bench_model("lenet_fmnist", 40 if args.quick else 200, args.device),
            bench_model("lenet_fmnist", 40 if args.quick else 100, args.device, pop=1024),  # overhead is per call
            bench_model("efficientnet_lite0", 3 if args.quick else 15, args.device),
            bench_model("efficientnet_lite0", 3 if args.quick else 15, args.device, compile=True),
        ]
    if "malloc" in parts and args.device == "cpu":
        report["malloc"] = malloc_effect(args.repeats)
    write_json(args.out, report)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
