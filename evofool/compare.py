"""Evolution against gradient ascent on the same classifier and classes: ``evofool bench``.

Every method is given the same budget of forward passes (model evaluations); gradient ascent's backward
passes are counted beside them. Each run's confidence-against-evaluations curve comes from its logbook.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np

from .dreams import dream
from .algorithms.strategies import STRATEGIES
from .evolve import evolve
from .results import MILESTONES

# the paper's GA on pixels and on CPPNs, the evolution strategies (default genome), gradient ascent
METHODS = ("direct", "cppn", *STRATEGIES, "gradient")


def run_method(classifier, target, method, budget, seed, pop_size):
    """One run of ``method`` on ``target`` with at most ``budget`` forward passes; returns a record."""
    if method == "gradient":
        result = dream(classifier, target, steps=max(1, (budget - 1) // 2), seed=seed, target_confidence=0.9999)
    elif method in METHODS:
        ga = method in ("direct", "cppn")  # the GA scores its first population before generation 1
        result = evolve(classifier, target, algorithm="ga" if ga else method, encoding=method if ga else None,
                        pop_size=pop_size, generations=max(1, budget // pop_size - ga), seed=seed,
                        target_confidence=0.9999)
    else:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    return dict(
        method=method, target=result.target, seed=seed, confidence=result.confidence,
        steps=result.generations, evaluations=result.evaluations, backward_passes=result.backward_passes,
        seconds=round(result.seconds, 3),
        milestones={str(k): v for k, v in result.milestones.items()},
        curve=[[row["evals"], row["best"]] for row in result.logbook],
    )


def compare(classifier, classes, seeds, methods=METHODS, budget=2000, pop_size=32, on_run=None) -> dict:
    """Run every method on every class and seed; returns the runs and a per-method summary."""
    runs = []
    for target in classes:
        for seed in seeds:
            for method in methods:
                runs.append(run_method(classifier, target, method, budget, seed, pop_size))
                if on_run:
                    on_run(runs[-1])
    summary = {method: summarize([r for r in runs if r["method"] == method]) for method in methods}
    return dict(model=classifier.name, classes=list(classes), seeds=list(seeds), budget=budget,
                pop_size=pop_size, summary=summary, runs=runs)


def summarize(runs) -> dict:
    """Medians over runs: evaluations, steps and seconds to each milestone (runs that got there), and the
    confidence reached within the budget."""
    out = dict(runs=len(runs), median_confidence=statistics.median(r["confidence"] for r in runs))
    for threshold in (0.99, 0.9999):
        reached = [r["milestones"][str(threshold)] for r in runs if r["milestones"][str(threshold)]]
        out[f"reached_{threshold}"] = len(reached)
        for key, name in (("evals", "evaluations"), ("gen", "steps"), ("seconds", "seconds")):
            out[f"median_{name}_to_{threshold}"] = statistics.median(m[key] for m in reached) if reached else None
    return out


def write_report(report: dict, out: str | Path) -> Path:
    """bench.json, bench.md (a table) and bench.png (confidence against evaluations, median and spread)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "bench.md").write_text(markdown_table(report))
    plot_curves(report, out / "bench.png")
    return out


def markdown_table(report: dict) -> str:
    def fmt(value, digits=0):
        return "-" if value is None else f"{value:.{digits}f}"

    lines = [f"{report['model']}, {len(report['classes'])} classes x {len(report['seeds'])} seeds, "
             f"budget {report['budget']} forward passes (GA population {report['pop_size']})", "",
             "| method | reached 0.99 | evals to 0.99 | steps to 0.99 | reached 0.9999 | evals to 0.9999 | "
             "steps to 0.9999 | s to 0.9999 | median confidence at budget |",
             "|---|---|---|---|---|---|---|---|---|"]
    for method, s in report["summary"].items():
        lines.append(
            f"| {method} | {s['reached_0.99']}/{s['runs']} | {fmt(s['median_evaluations_to_0.99'])} | "
            f"{fmt(s['median_steps_to_0.99'], 1)} | {s['reached_0.9999']}/{s['runs']} | "
            f"{fmt(s['median_evaluations_to_0.9999'])} | {fmt(s['median_steps_to_0.9999'], 1)} | "
            f"{fmt(s['median_seconds_to_0.9999'], 2)} | {s['median_confidence']:.4f} |")
    return "\n".join(lines) + "\n\nSteps are generations for the GA and ascent steps for gradient ascent (each " \
        "costs one forward and one backward pass on the ascent, and one forward pass on the saved 8-bit image).\n"


def plot_curves(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.unique(np.geomspace(1, report["budget"], 200).round())
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method in report["summary"]:
        curves = np.array([_step_curve(r["curve"], grid) for r in report["runs"] if r["method"] == method])
        ax.plot(grid, np.median(curves, 0), label=method)
        ax.fill_between(grid, curves.min(0), curves.max(0), alpha=0.2)
    for threshold in MILESTONES[1:]:
        ax.axhline(threshold, color="gray", lw=0.5, ls=":")
    ax.set(xscale="log", xlabel="forward passes (model evaluations)", ylabel="target confidence (best so far)",
           title=f"{report['model']}: median and range over classes and seeds", ylim=(0, 1.01))
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _step_curve(curve, grid):
    evals, best = np.array(curve).T
    index = np.searchsorted(evals, grid, side="right") - 1
    return np.where(index >= 0, best[np.clip(index, 0, None)], 0.0)
