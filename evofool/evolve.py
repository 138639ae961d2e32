"""``evolve``: search for one image that a classifier assigns to a target class with near certainty."""

from __future__ import annotations

from typing import Callable

import torch
from deap import base

from .algorithms.ga import ea_mu_plus_lambda, fitness_statistics, new_hall_of_fame
from .algorithms.operators import sel_best, sel_tournament
from .classifiers import Classifier
from .encodings import make_encoding, saved_images
from .results import EvolutionResult, milestones_from_logbook


def make_toolbox(classifier: Classifier, target_index: int, encoding, generator: torch.Generator,
                 tournsize: int = 2) -> base.Toolbox:
    """The DEAP toolbox the GA runs on; register other functions under the same names to change operators.

    ``evaluate`` renders the genomes, rounds them to 8 bits (the fitness is that of the image as saved)
    and returns the target class's probability for each.
    """
    toolbox = base.Toolbox()
    toolbox.generator = generator
    toolbox.register("select", sel_tournament, tournsize=tournsize, generator=generator)
    if encoding.mate is not None:
        toolbox.register("mate", encoding.mate, generator=generator)
    toolbox.register("mutate", encoding.mutate, generator=generator)
    toolbox.register("survive", sel_best)
    toolbox.register("evaluate", lambda genomes: classifier.probs(saved_images(encoding, genomes))[:, target_index])
    return toolbox


def evolve(
    classifier: Classifier,
    target: int | str,
    encoding: str = "direct",
    pop_size: int = 32,
    generations: int = 200,
    seed: int = 0,
    target_confidence: float | None = 0.9999,
    genome_size: int | None = None,
    device=None,
    cxpb: float = 1.0,
    mutpb: float = 1.0,
    init: dict | None = None,
    toolbox: base.Toolbox | None = None,
    on_generation: Callable[[dict], None] | None = None,
    checkpoint: Callable[[dict], None] | None = None,
    resume: dict | None = None,
) -> EvolutionResult:
    """Evolve an image that ``classifier`` labels ``target`` with probability ``target_confidence``.

    Stops at that confidence (None: never) or after ``generations``. The same seed gives the same result on the CPU.
    ``genome_size`` (direct encoding) evolves S x S pixels upsampled to the model's input; ``init`` (CPPN
    encoding) is a genome dict that seeds the population. An encoding without crossover ignores ``cxpb``.
    ``toolbox``, when given, replaces the one :func:`make_toolbox` builds (its ``generator`` attribute,
    if any, drives the loop's own draws). ``checkpoint`` receives the loop's state (with the generator's)
    after every generation; that state passed back as ``resume`` continues the run exactly.
    Returns an :class:`EvolutionResult`.
    """
    if pop_size < 2:
        raise ValueError(f"population must be at least 2, got {pop_size}")
    if generations < 1:
        raise ValueError(f"generations must be at least 1, got {generations}")
    if target_confidence is not None and not 0 < target_confidence < 1:
        raise ValueError(f"target confidence must be in (0, 1), got {target_confidence}")
    device = torch.device(device) if device is not None else classifier.device
    target_index = classifier.class_index(target)
    genome_encoding = make_encoding(encoding, classifier.input_size, genome_size, init)
    if genome_encoding.mate is None:
        cxpb = 0.0
    generator = torch.Generator(device=device).manual_seed(seed)
    toolbox = toolbox or make_toolbox(classifier, target_index, genome_encoding, generator)
    hall_of_fame = new_hall_of_fame()

    if checkpoint is not None:
        loop_checkpoint = checkpoint
        checkpoint = lambda state: loop_checkpoint(dict(state, generator=generator.get_state()))  # noqa: E731
    if resume is not None:
        generator.set_state(resume["generator"])
    population = genome_encoding.random(pop_size, generator, device) if resume is None else resume["population"]
    _, _, logbook = ea_mu_plus_lambda(
        population, toolbox, lambda_=pop_size, cxpb=cxpb, mutpb=mutpb, ngen=generations,
        stats=fitness_statistics(), halloffame=hall_of_fame,
        target_fitness=float("inf") if target_confidence is None else target_confidence,
        on_generation=on_generation, checkpoint=checkpoint, resume=resume,
    )
    seconds = logbook[-1]["seconds"]  # counts the time before a resume too

    genome = hall_of_fame[0].genome
    image = saved_images(genome_encoding, genome[None])[0]
    probs = classifier.probs(image[None])[0]
    config = dict(encoding=encoding, pop_size=pop_size, generations=generations, seed=seed,
                  target_confidence=target_confidence, genome_size=genome_size, cxpb=cxpb, mutpb=mutpb,
                  device=str(device), encoding_params=genome_encoding.params())
    return EvolutionResult(
        model=classifier.name, target=classifier.labels[target_index], target_index=target_index,
        method=encoding, image=image.cpu(), genome=genome.cpu(), confidence=float(probs[target_index]),
        genome_dict=genome_encoding.to_dict(genome),
        top5=classifier.topk(probs), generations=logbook[-1]["gen"], evaluations=logbook[-1]["evals"],
        seconds=seconds, seed=seed, config=config, logbook=list(logbook),
        milestones=milestones_from_logbook(logbook),
    )
