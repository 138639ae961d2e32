"""MAP-Elites with one cell per class, as in the original fooling experiments.

One forward pass gives every class's probability, so each child competes for every cell at once: it
replaces the elite of each class where it scores higher. One run yields an elite for every class.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from deap import base, tools

from ..classifiers import Classifier
from ..encodings import make_encoding, saved_images
from .ga import vary


@dataclass
class Archive:
    """Elite genomes (K x ...), their confidences, and the generation each was found, one row per class."""

    classes: list[int]
    genomes: torch.Tensor
    confidence: torch.Tensor
    found: torch.Tensor

    def state(self) -> dict:
        return dict(classes=self.classes, genomes=self.genomes, confidence=self.confidence, found=self.found)


@dataclass
class MapElitesResult:
    archive: Archive
    images: torch.Tensor  # K x C x H x W, 8-bit elites
    genome_dicts: list[dict | None]
    logbook: list[dict] = field(default_factory=list)
    evaluations: int = 0
    seconds: float = 0.0


def archive_statistics() -> tools.Statistics:
    """Filled cells, cells at 0.99 or more, and the minimum, median and maximum elite confidence
    (compiled over a one-element list holding the confidence array)."""
    stats = tools.Statistics()
    stats.register("filled", lambda values: int(np.sum(np.asarray(values) > 0)))
    stats.register("at_0_99", lambda values: int(np.sum(np.asarray(values) >= 0.99)))
    stats.register("min", np.min)
    stats.register("median", np.median)
    stats.register("max", np.max)
    return stats


def map_elites(
    classifier: Classifier,
    encoding: str = "cppn",
    classes: list[int | str] | None = None,
    pop_size: int = 64,
    generations: int = 100,
    seed: int = 0,
    genome_size: int | None = None,
    cxpb: float = 1.0,
    on_generation: Callable[[dict], None] | None = None,
    checkpoint: Callable[[dict], None] | None = None,
    resume: dict | None = None,
) -> MapElitesResult:
    """Fill an archive with a cell per class (all classes by default) for ``generations`` generations.

    Each generation draws ``pop_size`` parents uniformly from the filled cells, varies them with the
    encoding's operators, scores the children in one batch and lets each child take every cell it beats.
    ``checkpoint`` receives the state after every generation; passing it back as ``resume`` continues.
    """
    if pop_size < 2 or generations < 1:
        raise ValueError("population must be at least 2 and generations at least 1")
    indices = [classifier.class_index(c) for c in classes] if classes else list(range(classifier.num_classes))
    device = classifier.device
    genome_encoding = make_encoding(encoding, classifier.input_size, genome_size)
    generator = torch.Generator(device=device).manual_seed(seed)
    target = torch.tensor(indices, device=device)

    toolbox = base.Toolbox()
    toolbox.generator = generator
    toolbox.register("select", lambda n: torch.randint(len(indices), (n,), generator=generator, device=device))
    toolbox.register("mutate", genome_encoding.mutate, generator=generator)
    if genome_encoding.mate is not None:
        toolbox.register("mate", genome_encoding.mate, generator=generator)
    else:
        cxpb = 0.0
    toolbox.register("evaluate", lambda g: classifier.probs(saved_images(genome_encoding, g))[:, target])

    stats = archive_statistics()
    logbook = tools.Logbook()
    logbook.header = ["gen", "nevals", "evals", "seconds"] + stats.fields
    start = time.perf_counter()
    if resume is None:
        population = genome_encoding.random(pop_size, generator, device)
        scores = toolbox.evaluate(population)
        best, winner = scores.max(0)
        archive = Archive(indices, population[winner].clone(), best.clone(), torch.zeros(len(indices), dtype=torch.long))
        evals, first_gen = pop_size, 1
        _record(logbook, 0, pop_size, evals, start, archive, stats, on_generation)
    else:
        archive = Archive(**{k: resume[k] for k in ("classes", "genomes", "confidence", "found")})
        generator.set_state(resume["generator"])
        evals, first_gen, start = resume["evals"], resume["gen"] + 1, start - resume["seconds"]
        for row in resume["logbook"]:
            logbook.record(**row)

    for gen in range(first_gen, generations + 1):
        children, _ = vary(archive.genomes[toolbox.select(pop_size)], toolbox, cxpb, 1.0, generator)
        scores = toolbox.evaluate(children)
        evals += pop_size
        best, winner = scores.max(0)
        better = best > archive.confidence
        archive.genomes[better] = children[winner[better]]
        archive.confidence[better] = best[better]
        archive.found[better.cpu()] = gen
        _record(logbook, gen, pop_size, evals, start, archive, stats, on_generation)
        if checkpoint is not None:
            checkpoint(dict(archive.state(), gen=gen, evals=evals, logbook=list(logbook),
                            seconds=time.perf_counter() - start, generator=generator.get_state()))

    images = saved_images(genome_encoding, archive.genomes).cpu()
    return MapElitesResult(archive, images, [genome_encoding.to_dict(g) for g in archive.genomes], list(logbook),
                           evals, time.perf_counter() - start)


def _record(logbook, gen, nevals, evals, start, archive, stats, on_generation):
    record = {k: float(v) for k, v in stats.compile([archive.confidence.cpu().numpy()]).items()}
    logbook.record(gen=gen, nevals=nevals, evals=evals, seconds=time.perf_counter() - start, **record)
    if on_generation is not None:
        on_generation(logbook[-1])
