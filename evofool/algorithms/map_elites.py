"""MAP-Elites with one cell per class, as in the original fooling experiments.

One forward pass gives every class's probability, so each child competes for every cell at once: it
replaces the elite of each class where it scores higher. One run yields an elite for every class.
Parents are drawn from the archive weighted toward its weakest cells (or uniformly, as in the paper);
beside them, strategy emitters (``emitters.py``) can each run an evolution strategy toward one cell; their
samples compete for every cell too.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from deap import base, tools

from ..classifiers import Classifier
from ..encodings import make_encoding, saved_images
from .confirm import ConfirmedRecords
from .emitters import StrategyEmitters
from .ga import stop_reason, vary

# how parents are drawn from the archive: "uniform" (the paper's) or "unsolved" (weighted by 1 - confidence)
PARENT_DRAWS = ("uniform", "unsolved")
DEFAULT_PARENT_DRAW = "unsolved"  # by measurement (README): the median elite rises faster than under "uniform"
# the weight a solved cell (confidence 1) keeps under "unsolved", so that every filled cell stays a parent
UNSOLVED_FLOOR = 0.01


def check_parent_draw(rule: str) -> None:
    """Refuse, in one line, a parent draw that is not one of ``PARENT_DRAWS``."""
    if rule not in PARENT_DRAWS:
        raise ValueError(f"unknown parent draw {rule!r}; choose one of {', '.join(PARENT_DRAWS)}")


def draw_parents(confidence: torch.Tensor, n: int, rule: str, generator: torch.Generator) -> torch.Tensor:
    """Indices of ``n`` archive cells to breed from, drawn with replacement: uniformly, or with ``rule``
    "unsolved" in proportion to ``1 - confidence + UNSOLVED_FLOOR``, so a cell at 0.99 gets a fiftieth of
    the children of an empty one and the effort goes where the archive is weakest."""
    check_parent_draw(rule)
    if rule == "uniform":
        return torch.randint(len(confidence), (n,), generator=generator, device=confidence.device)
    weights = (1 - confidence.float()).clamp_min(0) + UNSOLVED_FLOOR
    return torch.multinomial(weights, n, replacement=True, generator=generator)


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
    stopped_by: str = "generations"


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
    budget: int | None = None,
    emitters: int = 0,
    emitter_pop: int = 16,
    emitter_algorithm: str = "snes",
    emitter_objective: str = "cell",
    sigma: float = 0.5,
    upsample: str | None = None,
    render_side: int | None = None,
    color_mode: str | None = None,
    parents: str = DEFAULT_PARENT_DRAW,
) -> MapElitesResult:
    """Fill an archive with a cell per class (all classes by default) for ``generations`` generations or
    ``budget`` evaluations (checked before a generation, so at most one batch more).

    Pseudocode::

        archive = best of a random population, per class
        for gen in 1 .. generations:
            children = vary(pop_size parents drawn from the archive)   # weighted to weak cells, or uniformly
            children += ask(emitters)              # each emitter's strategy samples around its cell
            scores = evaluate(children)            # one batch: every child's probability of every class
            tell(emitters, scores)                 # each strategy ranks its samples on its own cell
            each child takes every cell it beats

    ``emitters`` strategy emitters (``emitter_algorithm``, ``emitter_pop`` samples each, step size
    ``sigma``, ranking by ``emitter_objective``: "cell" or "improvement", see ``emitters.py``) search around
    elites in the encoding's local space (genes in logit space; a CPPN's weights, its graph fixed).
    ``genome_size`` and ``upsample`` shape the direct encoding's genome, ``render_side`` the grid a CPPN is
    drawn on and ``color_mode`` how its outputs make a colour (None: the encoding's defaults). ``parents`` is
    how parents are drawn (``draw_parents``): "unsolved" (the default, chosen by measurement: see the README)
    or the paper's "uniform". ``checkpoint`` receives the state after every generation; passing it back as
    ``resume`` continues.
    """
    if pop_size < 2 or generations < 1:
        raise ValueError("population must be at least 2 and generations at least 1")
    if budget is not None and budget < pop_size:
        raise ValueError(f"the budget ({budget} evaluations) must cover at least one population ({pop_size})")
    check_parent_draw(parents)  # before the first population is scored
    indices = [classifier.class_index(c) for c in classes] if classes else list(range(classifier.num_classes))
    device = classifier.device
    genome_encoding = make_encoding(encoding, classifier.input_size, genome_size, upsample=upsample,
                                    render_side=render_side, color_mode=color_mode)
    generator = torch.Generator(device=device).manual_seed(seed)
    target = torch.tensor(indices, device=device)
    emitter_set = (StrategyEmitters(emitters, emitter_pop, genome_encoding, emitter_algorithm, sigma, generator,
                                    objective=emitter_objective) if emitters else None)

    toolbox = base.Toolbox()
    toolbox.generator = generator
    toolbox.register("select", lambda n: draw_parents(archive.confidence, n, parents, generator))
    toolbox.register("mutate", genome_encoding.mutate, generator=generator)
    if genome_encoding.mate is not None:
        toolbox.register("mate", genome_encoding.mate, generator=generator)
    else:
        cxpb = 0.0
    archive = None
    toolbox.register("evaluate", _scores(classifier, genome_encoding, target, lambda: archive.confidence if archive is not None
                                         else -math.inf))

    stats = archive_statistics()
    logbook = tools.Logbook()
    logbook.header = ["gen", "nevals", "evals", "seconds"] + stats.fields
    start = time.perf_counter()
    if resume is None:
        population = genome_encoding.random(pop_size, generator, device)
        scores = toolbox.evaluate(population)
        best, winner = scores.max(0)
        found = torch.zeros(len(indices), dtype=torch.long)
        archive = Archive(indices, population[winner].clone(), best.clone(), found)
        evals, first_gen = pop_size, 1
        _record(logbook, 0, pop_size, evals, start, archive, stats, on_generation)
    else:
        archive = Archive(**{k: resume[k] for k in ("classes", "genomes", "confidence", "found")})
        generator.set_state(resume["generator"])
        if emitter_set is not None:
            emitter_set.load_state(resume["emitters"])
        evals, first_gen, start = resume["evals"], resume["gen"] + 1, start - resume["seconds"]
        for row in resume["logbook"]:
            logbook.record(**row)

    for gen in range(first_gen, generations + 1):
        if budget is not None and evals >= budget:
            break
        children, _ = vary(archive.genomes[toolbox.select(pop_size)], toolbox, cxpb, 1.0, generator)
        if emitter_set is not None:
            children = torch.cat([children, emitter_set.ask(archive.genomes, archive.confidence)])
        scores = toolbox.evaluate(children)
        evals += children.shape[0]
        best, winner = scores.max(0)
        better = best > archive.confidence
        before = archive.confidence.clone() if emitter_set is not None else None
        archive.genomes[better] = children[winner[better]]
        archive.confidence[better] = best[better]
        archive.found[better.cpu()] = gen
        if emitter_set is not None:
            emitter_set.tell(scores[pop_size:], before, archive.confidence)
        _record(logbook, gen, children.shape[0], evals, start, archive, stats, on_generation)
        if checkpoint is not None:
            checkpoint(dict(archive.state(), gen=gen, evals=evals, logbook=list(logbook),
                            seconds=time.perf_counter() - start, generator=generator.get_state(),
                            emitters=emitter_set.state() if emitter_set is not None else None))

    images = saved_images(genome_encoding, archive.genomes).cpu()
    return MapElitesResult(archive, images, [genome_encoding.to_dict(g) for g in archive.genomes], list(logbook),
                           evals, time.perf_counter() - start, stop_reason(0.0, evals, 1.0, budget))


def _scores(classifier, encoding, target, record):
    """Genomes -> each one's probability of every archive class; with a classifier in reduced precision the
    genomes that would take a cell are scored again in fp32, so the archive holds exact confidences."""
    def score(genomes, precise=False):
        return classifier.probs(saved_images(encoding, genomes), precise=precise)[:, target]

    return ConfirmedRecords(score, lambda genomes: score(genomes, precise=True), record) if classifier.approximate \
        else score


def _record(logbook, gen, nevals, evals, start, archive, stats, on_generation):
    record = {k: float(v) for k, v in stats.compile([archive.confidence.cpu().numpy()]).items()}
    logbook.record(gen=gen, nevals=nevals, evals=evals, seconds=time.perf_counter() - start, **record)
    if on_generation is not None:
        on_generation(logbook[-1])
