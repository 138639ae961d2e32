"""The strategy loop: DEAP's ``eaGenerateUpdate`` over a population held as one tensor.

Like ``deap.algorithms.eaGenerateUpdate`` it only calls toolbox aliases (``generate``, ``evaluate``,
``update``, ``centroid`` when the distribution's mean is scored too, and ``restart`` when progress stalls), so
any object with the ask/tell interface of ``deap.cma.Strategy`` (see ``strategies.py``) can be registered.
Every sample is new, so every sample is scored, all of a generation in one batch.
"""

from __future__ import annotations

import time
from typing import Callable

import torch
from deap import base, tools

from .ga import _record, stop_reason


def ea_generate_update(
    toolbox: base.Toolbox,
    ngen: int,
    stats: tools.Statistics | None = None,
    halloffame: tools.HallOfFame | None = None,
    target_fitness: float = float("inf"),
    budget: int | None = None,
    patience: int | None = None,
    score_centroid: bool = False,
    on_generation: Callable[[dict], None] | None = None,
    resume: dict | None = None,
    checkpoint: Callable[[dict], None] | None = None,
):
    """Run a strategy for up to ``ngen`` generations or ``budget`` evaluations.

    Pseudocode::

        for gen in 1 .. ngen:
            stop if best >= target_fitness or evals >= budget
            population = generate()                 # lambda x d samples of the search distribution
            candidates = population (+ centroid() with score_centroid)
            fitness = evaluate(candidates)          # one batch
            update(population, fitness of the samples)   # move the distribution toward the better samples
            record statistics and the hall of fame over the candidates
            if best has not improved for `patience` generations:
                restart(best genome so far)         # initial step sizes again, around the best genome

    ``budget`` stops the run before a generation once ``evals`` reached it, so a run spends at most one
    batch more. ``score_centroid`` scores the distribution's mean beside its samples (one evaluation more a
    generation, counted in ``evals``): the mean is the samples' average without their noise, and late in a
    run it is often fitter than any of them; it can enter the hall of fame, it does not reach ``update``.
    ``checkpoint`` receives the loop's state after every generation (gen, evals, logbook, seconds, the
    generation of the last improvement and the best fitness); passed back as ``resume`` with the strategy's
    own state restored, it continues the run. Returns ``(logbook, stopped_by)``, where
    ``stopped_by`` is "target", "budget" or "generations".
    """
    logbook = tools.Logbook()
    logbook.header = ["gen", "nevals", "evals", "seconds"] + (stats.fields if stats else [])
    start = time.perf_counter()
    evals, first_gen, best, improved_at = 0, 1, float("-inf"), 0
    if resume is not None:
        evals, first_gen, start = resume["evals"], resume["gen"] + 1, start - resume["seconds"]
        best, improved_at = resume["best"], resume["improved_at"]
        for row in resume["logbook"]:
            logbook.record(**row)

    for gen in range(first_gen, ngen + 1):
        if best >= target_fitness or (budget is not None and evals >= budget):
            break
        population = toolbox.generate()
        candidates = torch.cat([population, toolbox.centroid()[None]]) if score_centroid else population
        fitness = toolbox.evaluate(candidates)
        toolbox.update(population, fitness[: population.shape[0]])
        evals += candidates.shape[0]
        gen_best = _record(logbook, gen, candidates.shape[0], evals, start, fitness, stats, halloffame, candidates,
                           on_generation)
        if gen_best > best:
            best, improved_at = gen_best, gen
        elif patience is not None and gen - improved_at >= patience and halloffame is not None:
            toolbox.restart(halloffame[0].genome)
            improved_at = gen
        if checkpoint is not None:
            checkpoint(dict(gen=gen, evals=evals, logbook=list(logbook), seconds=time.perf_counter() - start,
                            best=best, improved_at=improved_at))
    return logbook, stop_reason(best, evals, target_fitness, budget)


def register_strategy(toolbox: base.Toolbox, strategy) -> base.Toolbox:
    """Register ``strategy``'s ask/tell methods under the aliases the loop calls."""
    toolbox.register("generate", strategy.generate)
    toolbox.register("update", strategy.update)
    toolbox.register("restart", strategy.restart)
    toolbox.register("centroid", strategy.centroid)
    toolbox.strategy = strategy
    return toolbox

