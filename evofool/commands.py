"""What each ``evofool`` command does, given its parsed arguments: every command calls the public Python API.

Commands raise ValueError, FileNotFoundError and the like for bad input (``cli.main`` turns them into one
line and exit 2) and return an exit code or None.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import torch

from . import classifiers, evolve as evolve_api
from .encodings.cppn import load_genome_dict, render_genome
from .images import load_image, quantize, save_gif, save_png
from .results import check_writable, save_result


MIN_SIZE, MAX_SIZE = 8, 8192

COMPILE_PAUSE = "a one-off compile of 9-50 s on a CPU, cached on disk"


def cmd_models(args):
    print(f"{'name':<20} {'data set':<20} {'classes':>7}  {'input':<11} weights")
    for info in classifiers.MODELS.values():
        size = "x".join(map(str, info.input_size))
        print(f"{info.name:<20} {info.dataset:<20} {info.num_classes:>7}  {size:<11} {info.weights}")
    print(f"{'torchvision:<arch>':<20} {'ImageNet':<20} {1000:>7}  {'3x224x224':<11} torchvision DEFAULT weights (cache or download)")
    print(f"{'PATH (--labels F)':<20} {'yours':<20} {'':>7}  {'':<11} TorchScript or torch.export file")
    from .classifiers import backends

    usable = [name for name in classifiers.BACKENDS[1:] if backends.installed(name)]
    missing = [name for name in classifiers.BACKENDS[1:] if name not in usable]
    print(f"\nbackends: {', '.join(usable)}" + (f" (for {', '.join(missing)}: {backends.EXTRA})" if missing else ""))
    picks = backends.remembered_choices()
    print("auto picks the fastest that agrees with torch on the first batch" +
          (", so far:" if picks else " (none picked yet)"))
    for key, name in sorted(picks.items()):
        print(f"  {key}: {name}")


def cmd_classes(args):
    classifier = _load(args)
    for index, label in enumerate(classifier.labels):
        if not args.grep or args.grep.lower() in label.lower():
            print(f"{index:>5}  {label}")


def cmd_classify(args):
    classifier = _load(args)
    images = [load_image(path, classifier.input_size[0]) for path in args.images]
    for path, image in zip(args.images, images):
        probs = classifier.probs(image[None], precise=True)[0]
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
    total = args.generations if budget is None else min(args.generations, -(-budget // max(args.pop, 1)))
    with _progress(total, f"evolving {classifier.labels[target]!r}") as bar:
        result = evolve_api(
            classifier, target, encoding=args.encoding, pop_size=args.pop, generations=args.generations,
            seed=args.seed, target_confidence=args.confidence, genome_size=args.genome_size,
            device=args.device, init=init, on_generation=bar, algorithm=args.algorithm, budget=budget,
            sigma=args.sigma, upsample=args.upsample, refine_after=args.refine_after, tournsize=args.tournsize,
            coordinate_scale=args.coordinate_scale,
            render_side=args.render_side, color_mode=args.color_mode,
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
        image = quantize(render_genome(genome, height, width, for_model=True))  # as the search scored it
        probs = classifier.probs(image[None], precise=True)[0]
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

    models = [_load(args, name.strip()) for name in args.models.split(",")]
    rows = transfer(args.directory, models)
    out = Path(args.directory)
    (out / "transfer.json").write_text(json.dumps(rows, indent=2) + "\n")
    table = transfer_markdown(rows)
    (out / "transfer.md").write_text(table)
    print(table)


# campaign options that are the campaign's configuration (their defaults are CampaignConfig's)
CAMPAIGN_OPTIONS = ("encoding", "algorithm", "classes", "generations", "budget", "pop", "search", "emitters", "parents",
                    "genome_size", "upsample", "refine_after", "tournsize", "render_side", "color_mode", "seeds",
                    "checkpoint_every", "compile", "labels", "backend", "precision")


def cmd_campaign(args):
    from .campaigns import CampaignConfig, StopRequested, load_campaign, run_campaign, start_campaign
    from .campaigns.campaign import check_scheduler
    from .gallery import write_gallery

    given = {name: getattr(args, name) for name in ["model", *CAMPAIGN_OPTIONS]
             if getattr(args, name) is not None and getattr(args, name) is not False}
    if args.resume:
        out, config = Path(args.resume), load_campaign(args.resume)
        if given:
            print(f"evofool: a resume continues with the settings in {out}/campaign.json; ignoring "
                  f"{', '.join('--' + name.replace('_', '-') for name in given)}", file=sys.stderr)
        for name in ("jobs", "executor"):
            if getattr(args, name) is not None and getattr(args, name) != getattr(config, name):
                print(f"evofool: resuming with --{name} {getattr(args, name)} (started with {getattr(config, name)})",
                      file=sys.stderr)
                setattr(config, name, getattr(args, name))
    else:
        if not (args.model and args.out):
            raise ValueError("a new campaign needs --model and --out (or --resume DIR)")
        settings = {**{name: getattr(CampaignConfig(model=""), name) for name in CAMPAIGN_OPTIONS}, **given}
        classes = settings["classes"]
        settings["classes"] = "all" if classes == "all" else [c.strip() for c in classes.split(",")]
        if settings["compile"] and settings["backend"] not in ("auto", "torch"):
            raise ValueError(f"--compile optimizes torch's graph; --backend {settings['backend']} compiles its own")
        if settings["compile"]:
            settings["backend"] = "torch"
        config = CampaignConfig(**settings, jobs=1 if args.jobs is None else args.jobs,
                                executor=args.executor or "loky")
        if config.executor == "dask":
            check_scheduler(args.scheduler)
        out = start_campaign(config, args.out, force=args.force)
    args.jobs, args.executor = config.jobs, config.executor
    single = config.algorithm == "map-elites" and args.jobs == 1 and args.executor == "loky"
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
            manifest = run_campaign(config, out, args.jobs, args.executor, args.scheduler, on_job,
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


def _load(args, model=None):
    """The classifier the command's options name, on its device and scoring backend."""
    backend, precision = getattr(args, "backend", None) or "auto", getattr(args, "precision", None) or "fp32"
    if getattr(args, "compile", False) and backend not in ("auto", "torch"):
        raise ValueError(f"--compile optimizes torch's graph; --backend {backend} compiles its own (drop one)")
    return classifiers.load_classifier(model or args.model, device=getattr(args, "device", None), labels=args.labels,
                                       backend="torch" if getattr(args, "compile", False) else backend,
                                       precision=precision)
