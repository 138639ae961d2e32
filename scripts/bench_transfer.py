"""Do fooling images transfer between real ImageNet networks? (Nguyen et al. 2015, section 3.4.)

Evolves (or dreams) one fooling image per (source model, method, class) on EfficientNet-Lite0 and on
EfficientNet-Lite1, saves it as evofool saves any result (an 8-bit PNG), and scores the saved file with
both models through ``evofool.transfer``. Per method and direction: the fraction of images that keep >= 0.5
and >= 0.99 on the other model, and the median confidence on each. Runs are appended to the JSON as they
finish and skipped when it already has them, so an interrupted benchmark continues where it stopped.

    python scripts/bench_transfer.py [--classes ...] [--models efficientnet_lite0 efficientnet_lite1]
"""

import argparse
import json
import statistics
from pathlib import Path

import evofool
from evofool.campaigns.checkpoint import write_json
from evofool.gallery.contact_sheet import contact_sheet
from evofool.transfer import transfer

# Classes that no other benchmark or default was chosen on
CLASSES = ["jellyfish", "strawberry", "fire engine", "golden retriever", "mushroom", "accordion"]
# method -> how one image is made, with its evaluation budget
METHODS = {
    "ga-direct": dict(algorithm="ga", encoding="direct", budget=3000),
    "ga-cppn": dict(algorithm="ga", encoding="cppn", budget=3000),
    "snes": dict(algorithm="snes", encoding="direct", budget=5000),
    "gradient": dict(steps=200),
}


def make_image(classifier, method: str, target: str, seed: int, out: Path) -> dict:
    """Run one search and save its result into ``out`` as the CLI would."""
    settings = METHODS[method]
    if method == "gradient":
        result = evofool.dream(classifier, target, steps=settings["steps"], seed=seed)
    else:
        result = evofool.evolve(classifier, target, seed=seed, generations=settings["budget"], **settings)
    evofool.save_result(result, out, force=True, image_name="dream.png" if method == "gradient" else "best.png")
    return dict(confidence=result.confidence, evaluations=result.evaluations, seconds=round(result.seconds, 1))


def summarize(rows: list[dict], models: list[str]) -> list[dict]:
    """Per (source, method, scoring model): fraction >= 0.5 and >= 0.99, and median confidence."""
    table = []
    for source in models:
        for method in METHODS:
            group = [r for r in rows if r["source_model"] == source and r["method"] == method]
            if not group:
                continue
            for model in models:
                values = [r["scores"][model]["target_confidence"] for r in group]
                table.append(dict(source=source, method=method, scored_by=model, images=len(values),
                                  at_least_0_5=sum(v >= 0.5 for v in values) / len(values),
                                  at_least_0_99=sum(v >= 0.99 for v in values) / len(values),
                                  median=statistics.median(values),
                                  top1_is_target=sum(r["scores"][model]["top1"] == r["target"] for r in group)
                                  / len(values)))
    return table


def markdown(table: list[dict]) -> str:
    lines = ["| evolved on | method | scored by | images | >= 0.5 | >= 0.99 | median | top-1 is target |",
             "|---|---|---|---|---|---|---|---|"]
    for t in table:
        lines.append(f"| {t['source']} | {t['method']} | {t['scored_by']} | {t['images']} | {t['at_least_0_5']:.0%} "
                     f"| {t['at_least_0_99']:.0%} | {t['median']:.4f} | {t['top1_is_target']:.0%} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["efficientnet_lite0", "efficientnet_lite1"])
    parser.add_argument("--classes", nargs="+", default=CLASSES)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default="runs/bench-transfer", help="where the images are written")
    parser.add_argument("--out", default="results/bench_transfer.json")
    args = parser.parse_args()

    out, work = Path(args.out), Path(args.work)
    report = json.loads(out.read_text()) if out.exists() else dict(models=args.models, seed=args.seed, runs=[])
    done = {(r["source_model"], r["method"], r["target"]) for r in report["runs"]}
    classifiers = [evofool.load_classifier(name, device="cpu") for name in args.models]
    for source in classifiers:
        for method in args.methods:
            for target in args.classes:
                label = source.labels[source.class_index(target)]
                if (source.name, method, label) in done:
                    continue
                run_dir = work / source.name / method / label.replace(" ", "_")
                run = make_image(source, method, label, args.seed, run_dir)
                row, = transfer(run_dir, classifiers)
                row.update(method=method, image=str(Path(row["image"]).relative_to(work)), **run)
                report["runs"].append(row)
                scores = {m: round(s["target_confidence"], 4) for m, s in row["scores"].items()}
                print(f"{source.name} {method:>9} {label:>16}: {scores} ({run['evaluations']} evals, "
                      f"{run['seconds']} s)", flush=True)
                report["summary"] = summarize(report["runs"], args.models)
                write_json(out, report)
    report["summary"] = summarize(report["runs"], args.models)
    write_json(out, report)
    out.with_suffix(".md").write_text(markdown(report["summary"]))
    tiles = [dict(image=r["image"], label=f"{r['method']}: {r['target']}", confidence=r["confidence"])
             for r in report["runs"] if (work / r["image"]).exists()]
    if tiles:  # one row per (source, method), one column per class
        contact_sheet(tiles, work, tile=112, columns=len(args.classes)).save(out.with_suffix(".jpg"), quality=85)
    print(markdown(report["summary"]))


if __name__ == "__main__":
    main()
