"""The ``evofool`` command: argument parsing and exit codes only; ``commands.py`` does the work."""

from __future__ import annotations

import argparse
import os
import sys

from . import classifiers, commands
from .algorithms.map_elites import PARENT_DRAWS
from .campaigns.checkpoint import CorruptFileError
from .commands import COMPILE_PAUSE, MIN_SIZE, MAX_SIZE
from .dreams import UnknownLayerError
from .encodings import ENCODINGS
from .encodings.cppn.fit import ACTIVATIONS as FIT_ACTIVATIONS
from .encodings.cppn.render import COLOR_MODES, DEFAULT_COLOR_MODE
from .encodings.direct import UPSAMPLING
from .defaults import DEFAULT_ALGORITHM
from .evolve import ALGORITHMS

EXIT_USAGE = 2

COMPILE_HELP = ("score through torch.compile: ~1.07x faster EfficientNet-Lite0 on a 2-core CPU, after "
                f"{COMPILE_PAUSE}; worth it only for long runs")
COLOR_MODE_HELP = (f"cppn, colour models: read the three outputs as hue, lightness, saturation (hls) or as red, green, "
                   f"blue (rgb); default {DEFAULT_COLOR_MODE}")


def _coordinate_scale(text: str) -> float | str:
    if text == "raw":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number or 'raw', not {text!r}") from None


def _add_model(parser, positional=False):
    if positional:
        parser.add_argument("model", help="model name (see `evofool models`), torchvision:<arch>, or a file")
    else:
        parser.add_argument("--model", default=classifiers.DEFAULT_MODEL, help="model name (default %(default)s)")
    parser.add_argument("--labels", help="labels file (.txt or .json) for a model file")


def _add_backend(parser, default="auto"):
    parser.add_argument("--backend", choices=classifiers.BACKENDS, default=default,
                        help="what scores images: auto (the fastest installed that agrees with torch; default), "
                             "torch, onnxruntime or openvino (pip install 'evofool[fast]')")
    parser.add_argument("--precision", choices=classifiers.PRECISIONS, default=None if default is None else "fp32",
                        help="fp32 (default) or bf16: faster on CPUs with bf16 units; records are confirmed in fp32")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="evofool", description="Evolve fooling images for trained classifiers.")
    subcommands = parser.add_subparsers(dest="command", required=True)

    p = subcommands.add_parser("models", help="list the models evofool can load")
    p.set_defaults(run=commands.cmd_models)

    p = subcommands.add_parser("classes", help="list a model's classes")
    _add_model(p, positional=True)
    p.add_argument("--grep", help="only classes whose name contains TEXT (case-insensitive)", metavar="TEXT")
    p.set_defaults(run=commands.cmd_classes)

    p = subcommands.add_parser("classify", help="top-5 classes of image files")
    _add_model(p, positional=True)
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--device")
    _add_backend(p)
    p.set_defaults(run=commands.cmd_classify)

    p = subcommands.add_parser("evolve", help="evolve one fooling image for a target class")
    _add_model(p)
    p.add_argument("--target", required=True, help="class name (case-insensitive) or index")
    p.add_argument("--encoding", choices=ENCODINGS,
                   help="direct (pixels), pyramid (grids of 2 to S pixels summed: the strategies' default), dct "
                        "(low frequencies), cppn (NEAT networks; GA only) or cppn-weights (the weights of a fixed "
                        "CPPN graph); default pyramid for the strategies, direct for the GA")
    p.add_argument("--algorithm", choices=ALGORITHMS,
                   help=f"ga (the paper's GA) or an evolution strategy; default {DEFAULT_ALGORITHM} (ga for cppn)")
    p.add_argument("--pop", type=int, default=32, help="population size (default %(default)s)")
    p.add_argument("--generations", type=int, default=1000, help="generation limit (default %(default)s)")
    p.add_argument("--budget", type=int, default=10000,
                   help="stop after this many model evaluations (default %(default)s, about 75 s for "
                        "EfficientNet-Lite0 on 2 CPU cores; 0: no budget)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--confidence", type=float, default=0.9999, help="stop at this confidence (default %(default)s)")
    p.add_argument("--genome-size", type=int, help="evolve S x S pixels (direct, default 16; the GA's on inputs up to "
                                                   "64 px 14), grids of 2 to S "
                                                   "(pyramid, default 16) or K x K frequencies (dct), rendered at "
                                                   "the input size")
    p.add_argument("--upsample", choices=UPSAMPLING, help="direct encoding: how genome pixels are enlarged "
                                                          "(default bilinear; the GA's on inputs up to 64 px "
                                                          "nearest; the paper's grid: --genome-size "
                                                          "<input side> --upsample nearest)")
    p.add_argument("--refine-after", type=int, metavar="N",
                   help="direct, GA: the genome is the input's pixels, varied in the grid's cells for N generations "
                        "and pixel by pixel after (default 60 on inputs up to 64 px unless --robust, else 0: "
                        "the grid is the genome)")
    p.add_argument("--tournsize", type=int, metavar="K",
                   help="GA: tournament size for parents (default 3 for direct on inputs up to 64 px unless --robust, "
                        "else 2)")
    p.add_argument("--sigma", type=float, help="strategies: initial step size in logit space (default 0.5)")
    p.add_argument("--coordinate-scale", type=_coordinate_scale, metavar="S",
                   help="cppn: stretch x, y, d by S before the network (default: 2 for inputs up to 64 px, else 8), "
                        "or 'raw' for pixel indices as in the paper")
    p.add_argument("--render-side", type=int, metavar="N",
                   help="cppn: draw the network on an N-pixel grid (longest side) and upsample it bilinearly to "
                        "the input (default 112: 4x cheaper at 224 px; 0: every input pixel)")
    p.add_argument("--color-mode", choices=COLOR_MODES, help=COLOR_MODE_HELP)
    p.add_argument("--robust", nargs="?", const="shift,scale,rotate", metavar="TRANSFORMS",
                   help="fitness = mean confidence over transformed views: crops (the paper's ten), or any of "
                        "shift[=0.08],scale[=0.1],rotate[=5] drawn anew each generation (bare --robust: all three)")
    p.add_argument("--robust-samples", type=int, default=8, help="random views per image (default %(default)s)")
    p.add_argument("--init", metavar="GENOME.json",
                   help="cppn: seed the population with this genome; cppn-weights: evolve this graph's weights")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    _add_backend(p)
    p.add_argument("--compile", action="store_true", help=COMPILE_HELP)
    p.add_argument("--out", required=True, help="result directory")
    p.add_argument("--force", action="store_true", help="overwrite a result already in --out")
    p.set_defaults(run=commands.cmd_evolve)

    p = subcommands.add_parser("render", help="draw a CPPN genome (best.json) at any resolution")
    p.add_argument("genome", metavar="GENOME.json")
    p.add_argument("--size", type=int, default=1024, help=f"side in pixels, {MIN_SIZE}..{MAX_SIZE} (default %(default)s)")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--model", help="also report this model's verdict at its input size")
    p.add_argument("--labels", help="labels file for a model file")
    p.add_argument("--device")
    _add_backend(p)
    p.set_defaults(run=commands.cmd_render)

    p = subcommands.add_parser("retrain", help="retrain lenet_fmnist with a fooling class, round after round (paper 3.7)")
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
    p.set_defaults(run=commands.cmd_retrain)

    p = subcommands.add_parser("fit", help="train a coordinate network (a CPPN genome) to draw a picture")
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
    p.set_defaults(run=commands.cmd_fit)

    p = subcommands.add_parser("layers", help="list a model's layer names (for DeepDream)")
    _add_model(p, positional=True)
    p.set_defaults(run=commands.cmd_layers)

    p = subcommands.add_parser("dream", help="gradient ascent: a class dream, DeepDream, or the perceptron's dream",
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
    p.set_defaults(run=commands.cmd_dream)

    p = subcommands.add_parser("bench", help="evolution against gradient ascent: evaluations and seconds to 0.99/0.9999")
    _add_model(p)
    p.add_argument("--classes", required=True, help="comma-separated class names or indices")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--methods", default="direct,cppn,snes,gradient",
                   help="direct and cppn (the GA), snes, sep-cma, cma (strategies), gradient")
    p.add_argument("--budget", type=int, default=2000, help="forward passes per run (default %(default)s)")
    p.add_argument("--pop", type=int, default=32, help="GA population (default %(default)s)")
    p.add_argument("--device")
    _add_backend(p)
    p.add_argument("--out", required=True)
    p.add_argument("--force", action="store_true")
    p.set_defaults(run=commands.cmd_bench)

    p = subcommands.add_parser("transfer", help="score a result or campaign directory's images with other models")
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--models", required=True, help="comma-separated model names or files sharing the label set")
    p.add_argument("--labels", help="labels file for the model files among --models")
    p.add_argument("--device")
    _add_backend(p)
    p.set_defaults(run=commands.cmd_transfer)

    p = subcommands.add_parser("campaign", help="many searches: MAP-Elites over classes, or one run per class")
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
                   help="map-elites: strategy emitters, each improving one cell at a time (a CPPN's weights, or the genes)")
    p.add_argument("--parents", choices=PARENT_DRAWS,
                   help="map-elites: draw parents weighted to weak cells (unsolved, the default) or uniformly (the paper)")
    p.add_argument("--genome-size", type=int, help="direct: S x S pixels; dct: K x K frequencies")
    p.add_argument("--upsample", choices=UPSAMPLING, help="direct encoding: how genome pixels are enlarged")
    p.add_argument("--refine-after", type=int, metavar="N", help="per-class direct GA: as in evolve")
    p.add_argument("--tournsize", type=int, metavar="K", help="per-class direct GA: as in evolve")
    p.add_argument("--render-side", type=int, metavar="N",
                   help="cppn: the grid the networks are drawn on before upsampling (default 112; 0: every pixel)")
    p.add_argument("--color-mode", choices=COLOR_MODES, help=COLOR_MODE_HELP)
    p.add_argument("--seeds", type=int, nargs="+", help="default 0")
    p.add_argument("--jobs", type=int, help="parallel jobs (default 1; a resume keeps the campaign's)")
    p.add_argument("--executor", choices=("loky", "dask"), help="how parallel jobs run (default loky)")
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.1:8786")
    _add_backend(p, default=None)
    p.add_argument("--checkpoint-every", type=int, help="generations between checkpoints (default 10)")
    p.add_argument("--compile", action="store_true", help=COMPILE_HELP)
    p.add_argument("--out", help="campaign directory")
    p.add_argument("--resume", metavar="DIR", help="continue the campaign in DIR")
    p.add_argument("--force", action="store_true", help="overwrite an existing campaign in --out")
    p.set_defaults(run=commands.cmd_campaign)

    p = subcommands.add_parser("gallery", help="contact sheet and HTML page of a campaign directory")
    p.add_argument("directory", metavar="DIR")
    p.set_defaults(run=commands.cmd_gallery)
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
