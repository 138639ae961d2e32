"""The ``evofool`` command: argument parsing only; every command calls the public Python API."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

import torch

from . import classifiers, evolve as evolve_api
from .evolve import ALGORITHMS, DEFAULT_ALGORITHM
from .campaigns.checkpoint import CorruptFileError
from .dreams import UnknownLayerError
from .encodings import ENCODINGS
from .encodings.direct import UPSAMPLING
from .encodings.cppn import load_genome_dict, render_genome
from .encodings.cppn.fit import ACTIVATIONS as FIT_ACTIVATIONS
from .images import load_image, quantize, save_gif, save_png
from .results import check_writable, save_result

MIN_SIZE, MAX_SIZE = 8, 8192

EXIT_USAGE = 2

COMPILE_PAUSE = "a one-off compile of 9-50 s on a CPU, cached on disk"
COMPILE_HELP = ("score through torch.compile: ~1.07x faster EfficientNet-Lite0 on a 2-core CPU, after "
                f"{COMPILE_PAUSE}; worth it only for long runs")


def cmd_models(args):
    print(f"{'name':<20} {'data set':<20} {'classes':>7}  {'input':<11} weights")
    for info in classifiers.MODELS.values():
        size = "x".join(map(str, info.input_size))
        print(f"{info.name:<20} {info.dataset:<20} {info.num_classes:>7}  {size:<11} {info.weights}")
    print(f"{'torchvision:<arch>':<20} {'ImageNet':<20} {1000:>7}  {'3x224x224':<11} torchvision DEFAULT weights (cache or download)")
    print(f"{'PATH (--labels F)':<20} {'yours':<20} {'':>7}  {'':<11} TorchScript or torch.export file")


def cmd_classes(args):
    classifier = _load(args)
    for index, label in enumerate(classifier.labels):
        if not args.grep or args.grep.lower() in label.lower():
            print(f"{index:>5}  {label}")


def cmd_classify(args):
    classifier = _load(args)
    images = [load_image(path, classifier.input_size[0]) for path in args.images]
    for path, image in zip(args.images, images):
        probs = classifier.probs(image[None])[0]
        print(path)
        _print_top5(classifier, probs)


def cmd_evolve(args):
    check_writable(args.out, args.force)
    init = load_genome_dict(args.init) if args.init else None
    classifier = _load(args)
    target = classifier.class_index(args.target)
    if args.compile:
        classifier.compile(batch_size=args.pop)
        print(f"compiling {classifier.name} for batches of {args.pop} on the first generation ({COMPILE_PAUSE})",
              file=sys.stderr)
    budget = args.budget or None
    total = args.generations if budget is None else min(args.generations, -(-budget // args.pop))
    with _progress(total, f"evolving {classifier.labels[target]!r}") as bar:
        result = evolve_api(
            classifier, target, encoding=args.encoding, pop_size=args.pop, generations=args.generations,
            seed=args.seed, target_confidence=args.confidence, genome_size=args.genome_size,
            device=args.device, init=init, on_generation=bar, algorithm=args.algorithm, budget=budget,
            sigma=args.sigma, upsample=args.upsample, coordinate_scale=args.coordinate_scale,
            robust=args.robust, robust_samples=args.robust_samples,
        )
    save_result(result, args.out, force=args.force)
    print(f"{result.confidence:.4%} {result.target!r} after {result.generations} generations, "
          f"{result.evaluations} evaluations, {result.seconds:.1f} s ({result.config['algorithm']}, stopped by "
          f"{result.stopped_by}) -> {args.out}/best.png")
    if result.robust_confidence is not None:
        print(f"mean over {args.robust} views it was not evolved on: {result.robust_confidence:.4%}")


def cmd_render(args):
    if not MIN_SIZE <= args.size <= MAX_SIZE:
        raise ValueError(f"--size must be in {MIN_SIZE}..{MAX_SIZE}, got {args.size}")
    genome = load_genome_dict(args.genome)
    save_png(render_genome(genome, args.size), args.out)
    print(f"{args.genome} -> {args.out} ({args.size} x {args.size})")
    if args.model:
        classifier = _load(args)
        _, height, width = classifier.input_size
        image = quantize(render_genome(genome, height, width))
        probs = classifier.probs(image[None])[0]
        print(f"at {height} x {width}, {classifier.name} says:")
        _print_top5(classifier, probs)


def _print_top5(classifier, probs):
    for label, index, p in classifier.topk(probs):
        print(f"  {p:8.4%}  {label} ({index})")


def cmd_retrain(args):
    from .classifiers.datasets import fashion_mnist_available
    from .retrain import check_settings, retrain

    check_settings(args.rounds, args.per_class, args.epochs, args.budget)
    if args.model != "lenet_fmnist":
        raise ValueError(f"retrain trains on Fashion-MNIST and so works on lenet_fmnist only, not {args.model!r}")
    if not fashion_mnist_available():
        raise FileNotFoundError("retrain needs Fashion-MNIST: apt-get install dataset-fashion-mnist")
    out = check_writable(args.out, args.force, marker="retrain.json",
                         owned=("retrain.json", "retrain.md", "retrain.png", "round_1.pt"))
    print("round  outputs  test acc  fooled  median evals to 0.99  caught next round", flush=True)

    def show(row):
        caught = row.get("next_round_catches_these")
        print(f"{row['round']:>5}  {row['outputs']:>7}  {row['test_accuracy']:8.4f}  {row['fooled_to_0_99']:6.0%}  "
              f"{row['median_evaluations_to_0_99'] or '-':>20}  {'-' if caught is None else f'{caught:.0%}':>17}",
              flush=True)

    retrain(args.rounds, out, per_class=args.per_class, budget=args.budget, epochs=args.epochs, seed=args.seed,
            algorithm=args.algorithm, encoding=args.encoding, on_round=show)
    print(f"-> {out}/retrain.md, retrain.json, retrain.png, round_*.pt")


def cmd_fit(args):
    from .encodings.cppn.fit import fit_picture, save_fit

    out = check_writable(args.out, args.force, marker="fit.json",
                         owned=("fit.json", "fitted.png", "genome.json", "learning.gif"))
    picture = load_image(args.image, args.channels)
    if max(picture.shape[1:]) > args.size:
        scale = args.size / max(picture.shape[1:])
        size = [max(1, round(side * scale)) for side in picture.shape[1:]]
        picture = torch.nn.functional.interpolate(picture[None], size=size, mode="area")[0]
    result = fit_picture(picture, args.layers, args.width, args.epochs, lr=args.lr, activation=args.activation,
                         fourier=args.fourier, seed=args.seed)
    save_fit(result, out, dict(image=str(args.image), layers=args.layers, width=args.width, epochs=args.epochs,
                               activation=args.activation, fourier=args.fourier, lr=args.lr,
                               size=list(picture.shape), seed=args.seed))
    print(f"PSNR {result.psnr:.2f} dB after {args.epochs} epochs ({result.seconds:.1f} s) -> {out}/genome.json")


def cmd_layers(args):
    from .dreams import layer_names

    for name in layer_names(_load(args)):
        print(name)


def cmd_dream(args):
    from . import dreams

    deep = bool(args.layer or args.from_image)
    if args.steps is None:
        args.steps = 10 if deep else 500 if args.shallow else 100
    if args.jitter is None:
        args.jitter = 32 if deep else 0
    if args.steps < 1:
        raise ValueError(f"--steps must be at least 1, got {args.steps}")
    if deep:
        return _deepdream(args)
    check_writable(args.out, args.force)
    classifier = _load(args)
    if args.shallow:
        return _shallow_dream(args, classifier)
    if args.target is None:
        raise ValueError("a class dream needs --target (or --layer and --from for DeepDream)")
    start = args.start
    if start not in ("noise", "gray"):
        start = load_image(start, classifier.input_size[0])
    target = classifier.class_index(args.target)
    with _progress(args.steps, f"dreaming {classifier.labels[target]!r}", unit="step") as bar:
        result = dreams.dream(
            classifier, target, steps=args.steps, seed=args.seed, start=start, objective=args.objective,
            parameterization=args.param, lr=args.lr, l2=args.l2, tv=args.tv, jitter_pixels=args.jitter,
            max_scale=args.scale, max_degrees=args.rotate, target_confidence=args.confidence, on_step=bar,
        )
    save_result(result, args.out, force=args.force, image_name="dream.png")
    print(f"{result.confidence:.4%} {result.target!r} after {result.generations} steps "
          f"({result.evaluations} forward, {result.backward_passes} backward passes, {result.seconds:.1f} s) "
          f"-> {args.out}/dream.png")


def _shallow_dream(args, classifier):
    from .dreams import perceptron_dream

    result = perceptron_dream(classifier, steps=args.steps, seed=args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save_png(result.image, out / "dream.png")
    label = classifier.labels[result.fired[-1]]
    summary = dict(model=classifier.name, method="perceptron-dream", fired=label, steps=result.steps,
                   settled=result.settled, seed=args.seed)
    (out / "result.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"settled={result.settled} after {result.steps} steps on class {label!r} -> {out}/dream.png")


def _deepdream(args):
    from .dreams import deepdream_zoom

    if not (args.layer and args.from_image):
        raise ValueError("DeepDream needs both --layer and --from")
    if args.octaves < 1:
        raise ValueError(f"--octaves must be at least 1, got {args.octaves}")
    if not 0 < args.zoom < 1:
        raise ValueError(f"--zoom must be in (0, 1), got {args.zoom}")
    out = check_writable(args.out, args.force, marker="dream.json",
                         owned=("dream.json", "dream.png", "frames", "zoom.gif"))
    classifier = _load(args)
    photo = load_image(args.from_image, classifier.input_size[0])
    settings = dict(layer=args.layer, octaves=args.octaves, octave_scale=args.octave_scale, steps=args.steps,
                    step_size=args.step_size, jitter=args.jitter, seed=args.seed)
    with _progress(args.zoom_frames, "zoom frames", unit="frame") as bar:
        frames = deepdream_zoom(classifier, photo, args.zoom_frames, args.zoom, on_frame=lambda k: bar.bar.update(1),
                                **settings)
    out.mkdir(parents=True, exist_ok=True)
    save_png(frames[0], out / "dream.png")
    if args.zoom_frames:
        (out / "frames").mkdir(exist_ok=True)
        for k, frame in enumerate(frames):
            save_png(frame, out / "frames" / f"frame_{k:03d}.png")
        save_gif(frames, out / "zoom.gif")
    summary = dict(model=classifier.name, method="deepdream", source=str(args.from_image), zoom=args.zoom,
                   zoom_frames=args.zoom_frames, **settings)
    (out / "dream.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"dreamed {args.from_image} on {args.layer} -> {out}/dream.png")


def cmd_bench(args):
    from .compare import METHODS, compare, write_report

    methods = [m.strip() for m in args.methods.split(",")]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown methods {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    if args.budget < 2:
        raise ValueError(f"--budget must be at least 2, got {args.budget}")
    out = check_writable(args.out, args.force, marker="bench.json", owned=("bench.json", "bench.md"))
    classifier = _load(args)
    classes = [classifier.labels[classifier.class_index(c.strip())] for c in args.classes.split(",")]
    total = len(classes) * len(args.seeds) * len(methods)
    with _progress(total, "runs", unit="run") as bar:
        report = compare(classifier, classes, args.seeds, methods, args.budget, args.pop,
                         on_run=lambda run: bar(dict(gen=1, best=run["confidence"], evals=run["evaluations"])))
    write_report(report, out)
    print((out / "bench.md").read_text())


def cmd_transfer(args):
    from .transfer import transfer, transfer_markdown

    models = [classifiers.load_classifier(name.strip(), device=args.device, labels=args.labels)
              for name in args.models.split(",")]
    rows = transfer(args.directory, models)
    out = Path(args.directory)
    (out / "transfer.json").write_text(json.dumps(rows, indent=2) + "\n")
    table = transfer_markdown(rows)
    (out / "transfer.md").write_text(table)
    print(table)


# campaign options that are the campaign's configuration, with their defaults for a new campaign
CAMPAIGN_OPTIONS = dict(encoding="cppn", algorithm="map-elites", classes="all", generations=100, budget=None, pop=64,
                        search=None, emitters=0, genome_size=None, upsample=None, seeds=[0], checkpoint_every=10,
                        compile=False, labels=None)


def cmd_campaign(args):
    from .campaigns import CampaignConfig, StopRequested, load_campaign, run_campaign, start_campaign
    from .gallery import write_gallery

    given = {name: getattr(args, name) for name in ["model", *CAMPAIGN_OPTIONS]
             if getattr(args, name) is not None and getattr(args, name) is not False}
    if args.resume:
        out, config = Path(args.resume), load_campaign(args.resume)
        if given:
            print(f"evofool: a resume continues with the settings in {out}/campaign.json; ignoring "
                  f"{', '.join('--' + name.replace('_', '-') for name in given)}", file=sys.stderr)
        for name in ("jobs", "backend"):
            if getattr(args, name) is not None and getattr(args, name) != getattr(config, name):
                print(f"evofool: resuming with --{name} {getattr(args, name)} (started with {getattr(config, name)})",
                      file=sys.stderr)
                setattr(config, name, getattr(args, name))
    else:
        if not (args.model and args.out):
            raise ValueError("a new campaign needs --model and --out (or --resume DIR)")
        settings = {**CAMPAIGN_OPTIONS, **given}
        classes = settings["classes"]
        settings["classes"] = "all" if classes == "all" else [c.strip() for c in classes.split(",")]
        config = CampaignConfig(**settings, jobs=args.jobs or 1, backend=args.backend or "loky")
        out = start_campaign(config, args.out, force=args.force)
    args.jobs, args.backend = config.jobs, config.backend
    single = config.algorithm == "map-elites" and args.jobs == 1 and args.backend == "loky"
    total = config.generations * len(config.seeds) if single else None
    with _progress(total, f"campaign {out.name}", unit="gen" if single else "job") as bar:
        def on_job(status):
            if not single:
                bar.bar.update(1)
                bar.bar.set_postfix(last=status, refresh=False)
                bar.plain(f"{bar.bar.n} jobs finished (last: {status})")

        def on_generation(row):  # the archive's state, for in-process MAP-Elites
            bar.bar.update(1 if row["gen"] else 0)
            bar.bar.set_postfix(filled=int(row["filled"]), median=f"{row['median']:.3f}", max=f"{row['max']:.3f}",
                                refresh=False)
            bar.plain(f"generation {row['gen']}: {int(row['filled'])} cells, median {row['median']:.3f}")

        try:
            manifest = run_campaign(config, out, args.jobs, args.backend, args.scheduler, on_job,
                                    on_generation if single else None)
        except StopRequested as stop:
            print(f"stopped; checkpoints saved. Continue with: evofool campaign --resume {out}", file=sys.stderr)
            return 128 + (stop.args[0] if stop.args else signal.SIGINT)
    sheet, page = write_gallery(out)
    elites = manifest["elites"]
    at_99 = sum(e["confidence"] >= 0.99 for e in elites)
    print(f"{len(elites)} elites ({at_99} at 99% or more), {manifest['jobs_done']}/{manifest['jobs_total']} jobs done, "
          f"{manifest['failed']} failed -> {out}/manifest.json, {sheet.name}, {page.name}")
    if manifest["failed"]:
        failed = [f"{out}/jobs/{job}/error.txt" for job in manifest.get("failed_jobs", [])]
        print(f"evofool: {manifest['failed']} job(s) failed: {', '.join(failed)}; fix the cause and "
              f"evofool campaign --resume {out} retries them", file=sys.stderr)
        return 1
    return 0


def cmd_gallery(args):
    from .gallery import write_gallery

    sheet, page = write_gallery(args.directory)
    print(f"{sheet}\n{page}")


class _progress:
    """A tqdm bar over generations that shows the best confidence; called once per logbook row. When
    stderr is not a terminal (a log file, a pipe) it prints a plain line every ``PLAIN_EVERY`` seconds
    instead."""

    PLAIN_EVERY = 5.0

    def __init__(self, total, description, unit="gen"):
        import time

        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=description, unit=unit, file=sys.stderr, disable=None)
        self.description, self.unit, self.clock = description, unit, time.monotonic
        self.last_line = self.clock()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.bar.close()

    def __call__(self, row):
        if row["gen"]:
            self.bar.update(1)
        self.bar.set_postfix(best=f"{row['best']:.4f}", evals=row["evals"], refresh=False)
        self.plain(f"{self.unit} {row['gen']}, best {row['best']:.4f}, {row['evals']} evaluations")

    def plain(self, text: str) -> None:
        """``text`` on its own line if no bar is drawn and the last line is old enough."""
        if self.bar.disable and self.clock() - self.last_line >= self.PLAIN_EVERY:
            self.last_line = self.clock()
            print(f"{self.description}: {text}", file=sys.stderr, flush=True)


def _coordinate_scale(text: str) -> float | str:
    if text == "raw":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number or 'raw', not {text!r}") from None


def _load(args):
    return classifiers.load_classifier(args.model, device=getattr(args, "device", None), labels=args.labels)


def _add_model(parser, positional=False):
    if positional:
        parser.add_argument("model", help="model name (see `evofool models`), torchvision:<arch>, or a file")
    else:
        parser.add_argument("--model", default=classifiers.DEFAULT_MODEL, help="model name (default %(default)s)")
    parser.add_argument("--labels", help="labels file (.txt or .json) for a model file")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="evofool", description="Evolve fooling images for trained classifiers.")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("models", help="list the models evofool can load")
    p.set_defaults(run=cmd_models)

    p = commands.add_parser("classes", help="list a model's classes")
    _add_model(p, positional=True)
    p.add_argument("--grep", help="only classes whose name contains TEXT (case-insensitive)", metavar="TEXT")
    p.set_defaults(run=cmd_classes)

    p = commands.add_parser("classify", help="top-5 classes of image files")
    _add_model(p, positional=True)
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--device")
    p.set_defaults(run=cmd_classify)

    p = commands.add_parser("evolve", help="evolve one fooling image for a target class")
    _add_model(p)
    p.add_argument("--target", required=True, help="class name (case-insensitive) or index")
    p.add_argument("--encoding", default="direct", choices=ENCODINGS,
                   help="direct (pixels), dct (low frequencies), cppn (NEAT networks; GA only) or cppn-weights "
                        "(the weights of a fixed CPPN graph)")
    p.add_argument("--algorithm", choices=ALGORITHMS,
                   help=f"ga (the paper's GA) or an evolution strategy; default {DEFAULT_ALGORITHM} (ga for cppn)")
    p.add_argument("--pop", type=int, default=32, help="population size (default %(default)s)")
    p.add_argument("--generations", type=int, default=1000, help="generation limit (default %(default)s)")
    p.add_argument("--budget", type=int, default=10000,
                   help="stop after this many model evaluations (default %(default)s, about 75 s for "
                        "EfficientNet-Lite0 on 2 CPU cores; 0: no budget)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--confidence", type=float, default=0.9999, help="stop at this confidence (default %(default)s)")
    p.add_argument("--genome-size", type=int, help="evolve S x S pixels (direct) or K x K frequencies (dct), "
                                                   "rendered at the input size")
    p.add_argument("--upsample", choices=UPSAMPLING, help="direct encoding: how genome pixels are enlarged "
                                                          "(default: bilinear for strategies, nearest for ga)")
    p.add_argument("--sigma", type=float, help="strategies: initial step size in logit space (default 0.5)")
    p.add_argument("--coordinate-scale", type=_coordinate_scale, metavar="S",
                   help="cppn: stretch x, y, d by S before the network, or 'raw' for pixel indices as in the paper")
    p.add_argument("--robust", nargs="?", const="shift,scale,rotate", metavar="TRANSFORMS",
                   help="fitness = mean confidence over transformed views: crops (the paper's ten), or any of "
                        "shift[=0.08],scale[=0.1],rotate[=5] drawn anew each generation (bare --robust: all three)")
    p.add_argument("--robust-samples", type=int, default=8, help="random views per image (default %(default)s)")
    p.add_argument("--init", metavar="GENOME.json",
                   help="cppn: seed the population with this genome; cppn-weights: evolve this graph's weights")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    p.add_argument("--compile", action="store_true", help=COMPILE_HELP)
    p.add_argument("--out", required=True, help="result directory")
    p.add_argument("--force", action="store_true", help="overwrite a result already in --out")
    p.set_defaults(run=cmd_evolve)

    p = commands.add_parser("render", help="draw a CPPN genome (best.json) at any resolution")
    p.add_argument("genome", metavar="GENOME.json")
    p.add_argument("--size", type=int, default=1024, help=f"side in pixels, {MIN_SIZE}..{MAX_SIZE} (default %(default)s)")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--model", help="also report this model's verdict at its input size")
    p.add_argument("--labels", help="labels file for a model file")
    p.add_argument("--device")
    p.set_defaults(run=cmd_render)

    p = commands.add_parser("retrain", help="retrain lenet_fmnist with a fooling class, round after round (paper 3.7)")
    p.add_argument("--model", default="lenet_fmnist", help="only lenet_fmnist (its training data is here)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--per-class", type=int, default=10, help="fooling images evolved per class and round "
                   "(default %(default)s)")
    p.add_argument("--budget", type=int, default=5000, help="evaluations per search (default %(default)s)")
    p.add_argument("--epochs", type=int, default=3, help="training epochs per round (default %(default)s)")
    p.add_argument("--algorithm", choices=ALGORITHMS)
    p.add_argument("--encoding", default="direct", choices=ENCODINGS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--force", action="store_true", help="replace a retrain result already in --out")
    p.set_defaults(run=cmd_retrain)

    p = commands.add_parser("fit", help="train a coordinate network (a CPPN genome) to draw a picture")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--layers", type=int, default=3, help="hidden layers (default %(default)s)")
    p.add_argument("--width", type=int, default=256, help="units per layer (default %(default)s)")
    p.add_argument("--activation", choices=FIT_ACTIVATIONS, default="sine",
                   help="sine (a SIREN) or relu units (default %(default)s)")
    p.add_argument("--fourier", type=int, default=0, metavar="F",
                   help="F random sine and F cosine features of x and y before the layers (default %(default)s)")
    p.add_argument("--epochs", type=int, default=1000, help="full-batch Adam steps (default %(default)s)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate (default %(default)s)")
    p.add_argument("--size", type=int, default=128, help="train at most SIZE pixels per side (default %(default)s)")
    p.add_argument("--channels", type=int, choices=(1, 3), default=3, help="3 for colour models, 1 for gray")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--force", action="store_true")
    p.set_defaults(run=cmd_fit)

    p = commands.add_parser("layers", help="list a model's layer names (for DeepDream)")
    _add_model(p, positional=True)
    p.set_defaults(run=cmd_layers)

    p = commands.add_parser("dream", help="gradient ascent: a class dream, DeepDream, or the perceptron's dream",
                            description="With --target: class visualization. With --layer and --from: DeepDream. "
                                        "With --shallow (perceptron_digits): the perceptron's feedback loop.")
    _add_model(p)
    p.add_argument("--target", help="class to dream of (name or index)")
    p.add_argument("--steps", type=int, help="ascent steps (class dream 100, DeepDream 10 per octave)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", default="noise", help="noise, gray, or an image file (class dream)")
    p.add_argument("--objective", default="logit", choices=("logit", "logprob"))
    p.add_argument("--param", default="sigmoid", choices=("sigmoid", "fourier"), help="image parameterization")
    p.add_argument("--lr", type=float, default=0.1, help="Adam learning rate (default %(default)s)")
    p.add_argument("--l2", type=float, default=0.0, help="L2 decay around gray")
    p.add_argument("--tv", type=float, default=0.0, help="total-variation weight")
    p.add_argument("--jitter", type=int, help="random shift in pixels (class dream 0, DeepDream 32)")
    p.add_argument("--scale", type=float, default=0.0, help="random zoom, e.g. 0.05 for +-5%%")
    p.add_argument("--rotate", type=float, default=0.0, help="random rotation in degrees")
    p.add_argument("--confidence", type=float, default=0.9999, help="stop at this confidence (class dream)")
    p.add_argument("--layer", help="DeepDream: the layer whose activations are amplified")
    p.add_argument("--from", dest="from_image", metavar="PHOTO", help="DeepDream: the photo to dream on")
    p.add_argument("--octaves", type=int, default=4)
    p.add_argument("--octave-scale", type=float, default=1.4)
    p.add_argument("--step-size", type=float, default=1.5)
    p.add_argument("--zoom-frames", type=int, default=0, help="DeepDream: frames of zooming in and dreaming again")
    p.add_argument("--zoom", type=float, default=0.05, help="share cropped per zoom frame, in (0, 1)")
    p.add_argument("--shallow", action="store_true", help="the perceptron's dream (perceptron_digits)")
    p.add_argument("--device")
    p.add_argument("--out", required=True)
    p.add_argument("--force", action="store_true")
    p.set_defaults(run=cmd_dream)

    p = commands.add_parser("bench", help="evolution against gradient ascent: evaluations and seconds to 0.99/0.9999")
    _add_model(p)
    p.add_argument("--classes", required=True, help="comma-separated class names or indices")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--methods", default="direct,cppn,snes,gradient",
                   help="direct and cppn (the GA), snes, sep-cma, cma (strategies), gradient")
    p.add_argument("--budget", type=int, default=2000, help="forward passes per run (default %(default)s)")
    p.add_argument("--pop", type=int, default=32, help="GA population (default %(default)s)")
    p.add_argument("--device")
    p.add_argument("--out", required=True)
    p.add_argument("--force", action="store_true")
    p.set_defaults(run=cmd_bench)

    p = commands.add_parser("transfer", help="score a result or campaign directory's images with other models")
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--models", required=True, help="comma-separated model names or files sharing the label set")
    p.add_argument("--labels", help="labels file for the model files among --models")
    p.add_argument("--device")
    p.set_defaults(run=cmd_transfer)

    p = commands.add_parser("campaign", help="many searches: MAP-Elites over classes, or one run per class")
    p.add_argument("--model", help="model name or model file (new campaigns)")
    p.add_argument("--labels", help="labels file for a model file")
    p.add_argument("--encoding", choices=ENCODINGS, help="default cppn")
    p.add_argument("--algorithm", choices=("map-elites", "per-class"), help="default map-elites")
    p.add_argument("--classes", help="all (default), or comma-separated names or indices")
    p.add_argument("--generations", type=int, help="default 100")
    p.add_argument("--budget", type=int, help="model evaluations per job (default: none)")
    p.add_argument("--pop", type=int, help="default 64")
    p.add_argument("--search", choices=ALGORITHMS, help="per-class: evolve's algorithm (default as in evolve)")
    p.add_argument("--emitters", type=int,
                   help="map-elites: strategy emitters, each improving one cell at a time (direct or dct encoding)")
    p.add_argument("--genome-size", type=int, help="direct: S x S pixels; dct: K x K frequencies")
    p.add_argument("--upsample", choices=UPSAMPLING, help="direct encoding: how genome pixels are enlarged")
    p.add_argument("--seeds", type=int, nargs="+", help="default 0")
    p.add_argument("--jobs", type=int, help="parallel jobs (default 1; a resume keeps the campaign's)")
    p.add_argument("--backend", choices=("loky", "dask"), help="default loky")
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.1:8786")
    p.add_argument("--checkpoint-every", type=int, help="generations between checkpoints (default 10)")
    p.add_argument("--compile", action="store_true", help=COMPILE_HELP)
    p.add_argument("--out", help="campaign directory")
    p.add_argument("--resume", metavar="DIR", help="continue the campaign in DIR")
    p.add_argument("--force", action="store_true", help="overwrite an existing campaign in --out")
    p.set_defaults(run=cmd_campaign)

    p = commands.add_parser("gallery", help="contact sheet and HTML page of a campaign directory")
    p.add_argument("directory", metavar="DIR")
    p.set_defaults(run=cmd_gallery)
    return parser


def main(argv=None) -> int:
    """Run one command; bad input ends in one line and exit 2, Ctrl-C in exit 130, a closed pipe quietly.
    EVOFOOL_DEBUG=1 shows the traceback instead."""
    args = build_parser().parse_args(argv)
    try:
        code = args.run(args)
    except (classifiers.UnknownModelError, classifiers.UnknownClassError, UnknownLayerError, ValueError,
            FileNotFoundError, FileExistsError, PermissionError, classifiers.ModelUnavailableError,
            CorruptFileError) as error:
        # bad input (a value, a file, a model that is not there), found before anything was written
        if os.environ.get("EVOFOOL_DEBUG"):
            raise
        print(f"evofool: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # the reader (`evofool layers ... | head`) has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush cannot fail again
        return 0
    except KeyboardInterrupt:
        if os.environ.get("EVOFOOL_DEBUG"):
            raise
        print("evofool: stopped (Ctrl-C)", file=sys.stderr)
        return 130
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
