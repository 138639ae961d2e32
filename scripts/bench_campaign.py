"""MAP-Elites campaigns: LeNet with every class at 0.99 in one run, and EfficientNet-Lite0 over all 1000
classes within a CPU time budget (median elite confidence and elites at 0.99 against evaluations).

    python scripts/bench_campaign.py [--parts lenet imagenet emitters] [--imagenet-minutes 30] [--precision bf16] [--seed 1]
                                     [--render-side 56] [--color-mode rgb] [--save-state archive.pt]

`imagenet` is the paper's MAP-Elites (CPPN GA; parents drawn toward weak cells, the default), run for ``--imagenet-minutes`` of wall clock;
`emitters` adds strategy emitters (``--emitters``, 16 samples each) beside the uniform parents, on the direct
encoding's 16 x 16 bilinear genome or on CPPNs (``--emitter-encoding cppn``: a strategy tunes an elite's
weights). ``--render-side N`` draws the ImageNet campaign's CPPNs on another grid (key suffix ``_sideN``),
``--color-mode rgb`` reads their outputs as red, green, blue instead of the default HLS (suffix ``_rgb``);
``--save-state`` keeps its final checkpoint (torch.save), from which a generation can be timed on a grown
archive. ``--precision bf16`` scores in bf16 (the archive still holds fp32 confidences, see
``algorithms/confirm.py``) and reports under a ``_bf16`` key.

The LeNet run is a real campaign directory (results/sample-gallery: manifest, elites, contact sheet,
index.html), made with the same code path as `evofool campaign`. Every ImageNet trajectory in the JSON is
plotted (median elite against evaluations) in a PNG beside it.
"""

import argparse
import json
import os
import shutil
import time

import torch

import evofool
from evofool.algorithms.map_elites import map_elites
from evofool.campaigns import CampaignConfig, run_campaign, start_campaign
from evofool.encodings.cppn.render import COLOR_MODES, DEFAULT_COLOR_MODE
from evofool.gallery import write_gallery
from evofool.campaigns.checkpoint import write_json


def bench_lenet(out, generations, pop):
    config = CampaignConfig(model="lenet_fmnist", encoding="cppn", algorithm="map-elites", generations=generations,
                            pop=pop, seeds=[0], checkpoint_every=50)
    start = time.perf_counter()
    manifest = run_campaign(config, start_campaign(config, out, force=True))
    seconds = time.perf_counter() - start
    write_gallery(out)
    shutil.rmtree(os.path.join(out, "jobs"))  # checkpoints and per-job copies: not needed in the repository
    confidences = [e["confidence"] for e in manifest["elites"]]
    return dict(generations=generations, pop=pop, seconds=round(seconds, 1), classes=len(confidences),
                at_least_0_99=sum(c >= 0.99 for c in confidences), min_confidence=min(confidences),
                elites={e["label"]: round(e["confidence"], 6) for e in manifest["elites"]})


def bench_imagenet(minutes, pop, encoding="cppn", precision="fp32", seed=0, state_out=None, **options):
    """MAP-Elites over all 1000 classes for ``minutes`` of wall clock: run in chunks, each resuming the last
    (exactly, from its checkpoint), until the time is spent. A chunk ends by rendering all 1000 elites
    (seconds), so after a first chunk of 20 generations each is sized from the rate measured so far to the
    time left (at most 1,000 generations), not a fixed 20 (which spent 29% of the clock on chunk ends)."""
    classifier = evofool.load_classifier("efficientnet_lite0", precision=precision)
    map_elites(classifier, encoding, pop_size=pop, generations=1, seed=0, **options)  # warm-up: first calls are slow
    rows, state = [], None
    started = time.perf_counter()
    while (left := minutes * 60 - (time.perf_counter() - started)) > 0:
        rate = state["gen"] / (time.perf_counter() - started) if state else None  # generations a second
        generations = (state["gen"] if state else 0) + (20 if rate is None else max(1, min(1000, int(left * rate))))
        saved = {}
        result = map_elites(classifier, encoding, pop_size=pop, generations=generations, seed=seed, resume=state,
                            on_generation=rows.append, checkpoint=saved.update, **options)
        state = saved
    if state_out:
        torch.save(state, state_out)
    every = max(1, len(rows) // 60)
    curve = [dict(evals=r["evals"], median=round(r["median"], 5), at_0_99=r["at_0_99"], seconds=round(r["seconds"], 1))
             for r in rows[::every] + [rows[-1]]]
    return dict(device=str(classifier.device), backend=classifier.backend, precision=precision, encoding=encoding,
                options=options, pop=pop,
                color_mode=options.get("color_mode", DEFAULT_COLOR_MODE) if encoding == "cppn" else None,
                minutes=minutes, wall_seconds=round(time.perf_counter() - started, 1), generations=state["gen"],
                evaluations=result.evaluations,
                seconds=round(result.seconds, 1), final=curve[-1], curve=curve,
                paper=dict(median=0.8811, evaluations="2 million (pop 400 x 5000 generations)"))


def plot_trajectories(report: dict, path: str) -> None:
    """Median elite confidence against evaluations for every 1000-class run in ``report``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key, run in report.items():
        if "curve" in run:  # the ImageNet runs (the LeNet gallery has none)
            ax.plot([r["evals"] for r in run["curve"]], [r["median"] for r in run["curve"]],
                    label=f"{key} ({run['evaluations']:,} evaluations)",
                    linestyle="-" if run.get("color_mode") == "hls" else "--")
    ax.axhline(0.5, color="gray", linewidth=0.5)
    ax.set_xlabel("model evaluations (forward passes)")
    ax.set_ylabel("median elite confidence, 1000 classes")
    ax.set_title("EfficientNet-Lite0 MAP-Elites on a 2-core CPU")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", default=["lenet", "imagenet"])
    parser.add_argument("--imagenet-minutes", type=float, default=30.0)
    parser.add_argument("--emitters", type=int, default=4)
    parser.add_argument("--emitter-objective", default="cell", choices=("cell", "improvement"))
    parser.add_argument("--emitter-encoding", default="direct", choices=("direct", "cppn"))
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    parser.add_argument("--seed", type=int, default=0, help="the ImageNet campaign's seed (another trajectory)")
    parser.add_argument("--render-side", type=int, default=None, help="the ImageNet campaign's CPPN grid")
    parser.add_argument("--color-mode", default=None, choices=COLOR_MODES, help="the ImageNet campaign's CPPN colours")
    parser.add_argument("--save-state", default=None, help="write the ImageNet campaign's final checkpoint here")
    parser.add_argument("--out", default="results/bench_campaign.json")
    args = parser.parse_args()
    report = json.load(open(args.out)) if os.path.exists(args.out) else {}
    if "lenet" in args.parts:
        report["lenet_fmnist"] = bench_lenet("results/sample-gallery", generations=300, pop=64)
    if "imagenet" in args.parts:
        key = ("efficientnet_lite0" + ("" if args.precision == "fp32" else "_" + args.precision)
               + ("" if args.seed == 0 else f"_seed{args.seed}"))
        key += "" if args.render_side is None else f"_side{args.render_side}"
        key += "" if args.color_mode in (None, DEFAULT_COLOR_MODE) else f"_{args.color_mode}"
        cppn = {name: value for name, value in (("render_side", args.render_side), ("color_mode", args.color_mode))
                if value is not None}
        report[key] = bench_imagenet(args.imagenet_minutes, pop=64, precision=args.precision, seed=args.seed,
                                     state_out=args.save_state, **cppn)
    if "emitters" in args.parts:
        key = ("efficientnet_lite0_emitters" + ("" if args.precision == "fp32" else "_" + args.precision) + ("" if args.emitter_encoding == "direct" else "_cppn")
               + ("" if args.emitter_objective == "cell" else "_improvement"))
        grid = dict(genome_size=16, upsample="bilinear") if args.emitter_encoding == "direct" else {}
        report[key] = bench_imagenet(args.imagenet_minutes, pop=32 if grid else 64, encoding=args.emitter_encoding,
                                     precision=args.precision,
                                     emitters=args.emitters, emitter_pop=16, emitter_objective=args.emitter_objective,
                                     **grid)
    write_json(args.out, report)
    plot_trajectories(report, os.path.splitext(args.out)[0] + ".png")
    print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "curve"} for k, v in report.items()}, indent=2))


if __name__ == "__main__":
    main()
