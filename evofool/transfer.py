"""Do fooling images generalize across networks? Score a directory's images with other classifiers.

Every ``result.json`` under the directory (from evolve or dream) names its model, its target class and
its image; every ``manifest.json`` (from a campaign) lists elites. Each image is scored by each given
classifier, which must share the source model's label set.
"""

from __future__ import annotations

import json
from pathlib import Path

from .campaigns.manifest import read_manifest
from .classifiers import MODELS, Classifier
from .images import load_image

IMAGE_NAMES = ("best.png", "dream.png")


def find_images(directory: str | Path) -> list[dict]:
    """(image path, source model, target label) for every result and campaign elite under ``directory``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory} is not a directory")
    found = []
    for result_file in sorted(directory.rglob("result.json")):
        result = _read_json(result_file)
        if "target" not in result:
            continue
        for name in IMAGE_NAMES:
            if (result_file.parent / name).exists():
                found.append(dict(image=result_file.parent / name, model=result["model"], target=result["target"]))
    for manifest_file in sorted(directory.rglob("manifest.json")):
        manifest = read_manifest(manifest_file.parent)
        for elite in manifest["elites"]:
            found.append(dict(image=manifest_file.parent / elite["image"], model=manifest.get("model"),
                              target=elite["label"]))
    if not found:
        raise FileNotFoundError(f"no result.json or manifest.json with images under {directory}")
    return found


def transfer(directory, classifiers: list[Classifier]) -> list[dict]:
    """One row per image: its source and, per classifier, the target's probability and the top-1 class."""
    items = find_images(directory)
    for item in items:  # every image checked before any is scored
        for classifier in classifiers:
            if item["target"] not in classifier.labels:
                raise ValueError(f"{classifier.name} ({label_set(classifier.name, classifier.labels)}) has no class "
                                 f"{item['target']!r} of {item['model']} ({label_set(item['model'])}): transfer needs "
                                 f"models that share the source model's label set")
    rows = []
    for item in items:
        row = dict(image=str(item["image"]), source_model=item["model"], target=item["target"], scores={})
        for classifier in classifiers:
            image = load_image(item["image"], classifier.input_size[0])
            probs = classifier.probs(image[None], precise=True)[0]
            label, _, p = classifier.topk(probs, 1)[0]
            row["scores"][classifier.name] = dict(
                target_confidence=float(probs[classifier.labels.index(item["target"])]), top1=label, top1_confidence=p)
        rows.append(row)
    return rows


def label_set(model: str, labels: list[str] | None = None) -> str:
    """A label set named for a message: the registered model's data set, else its size and first labels."""
    if model in MODELS:
        return f"{MODELS[model].dataset} labels, {MODELS[model].num_classes} classes"
    if labels is None:
        return "labels unknown"
    return f"{len(labels)} classes: {', '.join(labels[:3])}{', ...' if len(labels) > 3 else ''}"


def transfer_markdown(rows: list[dict]) -> str:
    models = list(rows[0]["scores"]) if rows else []
    lines = ["| image | source | target | " + " | ".join(models) + " |", "|---" * (3 + len(models)) + "|"]
    for row in rows:
        cells = [f"{row['scores'][m]['target_confidence']:.4f} (top-1 {row['scores'][m]['top1']})" for m in models]
        lines.append(f"| {row['image']} | {row['source_model']} | {row['target']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None
