"""The evolutionary loop: DEAP's (mu + lambda) algorithm over a population held as one tensor.

Like ``deap.algorithms.eaMuPlusLambda`` it only calls toolbox aliases (``select``, ``mate``, ``mutate``,
``evaluate``, ``survive``), so operators are swapped by registering other functions. Unlike it, the
population is an N x ... tensor, variation is applied to all selected parents at once, and ``evaluate``
receives every changed child in one batch.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import torch
from deap import base, tools


class Confidence(base.Fitness):
    """A single objective to maximize: the classifier's probability of the target class."""

    weights = (1.0,)


class Individual:
    """One genome row with its DEAP fitness: the form kept by ``tools.HallOfFame``."""

    __slots__ = ("genome", "fitness")

    def __init__(self, genome: torch.Tensor, fitness: float):
        self.genome = genome
        self.fitness = Confidence((fitness,))

    def __deepcopy__(self, memo):
        """The hall of fame deep-copies what it keeps: copy just this genome, since deepcopy of a row view
        would copy (and keep alive) the whole population's storage."""
        return Individual(self.genome.clone(), self.fitness.values[0])


def fitness_statistics() -> tools.Statistics:
    """Per-generation best, mean and median of a fitness vector, as a DEAP ``Statistics``.

    It is compiled over a one-element list holding the whole fitness array, so numpy sees one array.
    """
    stats = tools.Statistics()
    stats.register("best", np.max)
    stats.register("mean", np.mean)
    stats.register("median", np.median)
    return stats


def new_hall_of_fame(size: int = 1) -> tools.HallOfFame:
    """DEAP's hall of fame over :class:`Individual` rows; two rows are the same when their genes are."""
    return tools.HallOfFame(size, similar=lambda a, b: torch.equal(a.genome, b.genome))


def ea_mu_plus_lambda(
    population: torch.Tensor,
    toolbox: base.Toolbox,
    lambda_: int,
    cxpb: float,
    mutpb: float,
    ngen: int,
    stats: tools.Statistics | None = None,
    halloffame: tools.HallOfFame | None = None,
    target_fitness: float = float("inf"),
    on_generation: Callable[[dict], None] | None = None,
    resume: dict | None = None,
    checkpoint: Callable[[dict], None] | None = None,
    budget: int | None = None,
):
    """Evolve ``population`` (an N x ... tensor) for up to ``ngen`` generations or ``budget`` evaluations.

    Pseudocode::

        fitness = evaluate(population)
        for gen in 1 .. ngen:
            schedule(gen)                                           # optional: operators that change in a run
            parents  = population[select(fitness, lambda_)]
            children = parents, pairs mated with probability cxpb, each mutated with probability mutpb
            score only the children that changed (the others keep their parent's fitness)
            population = survive(population + children, mu)        # the mu fittest live on
                                                                    # (with a toolbox `species`: assigned first)
            record statistics; stop once the best fitness reaches target_fitness
            or once evals reached the budget (checked before a generation: at most one batch more)

    ``survive`` must return mu indices into the pool (population, then children). A toolbox ``schedule``, when
    registered, is called with each generation's number before its variation and may register other operators
    (the direct encoding's coarse-to-fine mutation; the number, not a count of calls, so a resume is exact).
    A toolbox ``species``
    (:class:`~evofool.algorithms.speciation.Speciation`) is given the initial population and every pool
    to assign before ``survive``. ``checkpoint``, when given, receives the loop's state after every
    generation (population, fitness, gen, evals, logbook, seconds, and the species'); passing such a
    state back as ``resume`` continues from it. Returns
    ``(population, fitness, logbook, stopped_by)``, the population sorted best first, ``stopped_by`` one of
    "target", "budget", "generations".
    """
    mu = population.shape[0]
    generator = getattr(toolbox, "generator", None)
    species = getattr(toolbox, "species", None)
    schedule = getattr(toolbox, "schedule", None)
    logbook = tools.Logbook()
    logbook.header = ["gen", "nevals", "evals", "seconds"] + (stats.fields if stats else [])
    start = time.perf_counter()

    if resume is None:
        population = population.clone()  # survivors are written over it in place
        fitness = toolbox.evaluate(population)
        evals, first_gen = mu, 1
        if species is not None:
            species.assign(population, fitness)
        best = _record(logbook, 0, mu, evals, start, fitness, stats, halloffame, population, on_generation)
    else:
        population, fitness = resume["population"].clone(), resume["fitness"].clone()
        evals, first_gen, start = resume["evals"], resume["gen"] + 1, start - resume["seconds"]
        for row in resume["logbook"]:
            logbook.record(**row)
        best = fitness.max().item()
        if species is not None:
            species.load_state(resume["species"])
        if halloffame is not None:
            _remember(halloffame, population, fitness, best)

    for gen in range(first_gen, ngen + 1):
        if best >= target_fitness or (budget is not None and evals >= budget):
            break
        if schedule is not None:
            schedule(gen)
        chosen = toolbox.select(fitness, lambda_)
        children, changed = vary(population.index_select(0, chosen), toolbox, cxpb, mutpb, generator)
        child_fitness = fitness.index_select(0, chosen)
        invalid = changed.nonzero().squeeze(1)
        if len(invalid) == lambda_:
            child_fitness = toolbox.evaluate(children)
        elif len(invalid):
            child_fitness[invalid] = toolbox.evaluate(children[invalid])
        evals += len(invalid)

        pool_fitness = torch.cat([fitness, child_fitness])
        if species is not None:
            species.assign(torch.cat([population, children]), pool_fitness)
        survivors = toolbox.survive(pool_fitness, mu)
        _replace(population, fitness, children, child_fitness, survivors)
        best = _record(logbook, gen, len(invalid), evals, start, fitness, stats, halloffame, population,
                       on_generation)
        if checkpoint is not None:
            state = dict(population=population, fitness=fitness, gen=gen, evals=evals, logbook=list(logbook),
                         seconds=time.perf_counter() - start)
            checkpoint(state if species is None else dict(state, species=species.state()))

    order = fitness.argsort(descending=True)
    return population[order], fitness[order], logbook, stop_reason(best, evals, target_fitness, budget)


def stop_reason(best: float, evals: int, target_fitness: float, budget: int | None) -> str:
    """Why a loop ended: "target" reached, "budget" spent, or its "generations" run out."""
    if best >= target_fitness:
        return "target"
    if budget is not None and evals >= budget:
        return "budget"
    return "generations"


def vary(children, toolbox, cxpb, mutpb, generator=None):
    """varAnd over a tensor: mate pairs (2i, 2i + 1) with probability cxpb, then mutate each child with
    probability mutpb. Returns the children and which of them changed.

    ``children`` is a fresh copy that is changed in place. Operators may change the rows they are given in
    place and return them, as DEAP's do, or return new tensors. When every pair (or every child) takes part,
    rows are handed over as views, so in-place operators write straight into ``children``.
    """
    n, device = children.shape[0], children.device
    changed = torch.zeros(n, dtype=torch.bool, device=device)
    pairs = _chosen(n // 2, cxpb, generator, device)
    if len(pairs) == n // 2:
        firsts, seconds = slice(0, 2 * len(pairs), 2), slice(1, 2 * len(pairs), 2)
    else:
        firsts, seconds = 2 * pairs, 2 * pairs + 1
    if len(pairs):
        crossed = _apply(toolbox.mate, children, firsts, seconds)
        changed[firsts] |= crossed
        changed[seconds] |= crossed
    mutants = _chosen(n, mutpb, generator, device)
    if len(mutants):
        rows = slice(None) if len(mutants) == n else mutants
        changed[rows] |= _apply(toolbox.mutate, children, rows)
    return children, changed


def _chosen(n: int, probability: float, generator, device) -> torch.Tensor:
    """Indices of the items out of n picked each with ``probability``; no draw when the outcome is certain."""
    if probability >= 1.0:
        return torch.arange(n, device=device)
    return (torch.rand(n, generator=generator, device=device) < probability).nonzero().squeeze(1)


def _apply(operator, children, *rows):
    """Run a variation operator on ``children[rows]`` (one row set per argument) and write its output back,
    unless it changed the given views in place. Returns the operator's changed-row mask."""
    given = [children[r] if isinstance(r, slice) else children.index_select(0, r) for r in rows]
    *outputs, changed = operator(*given)
    for r, before, after in zip(rows, given, outputs):
        if not isinstance(r, slice):
            children.index_copy_(0, r, after)
        elif after is not before:
            children[r] = after
    return changed


def placement(survivors: torch.Tensor, mu: int, pool_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Where survivors go: children that survive (``newcomers``, indices among the children) take the
    population rows (``slots``) of the parents that do not, in order, so no row is copied twice."""
    kept = torch.zeros(pool_size, dtype=torch.bool, device=survivors.device)
    kept[survivors] = True
    newcomers = kept[mu:].nonzero().squeeze(1)
    slots = kept[:mu].logical_not_().nonzero().squeeze(1)  # as many parents die as children survive
    return slots, newcomers


def _replace(population, fitness, children, child_fitness, survivors):
    """Make ``survivors`` (indices into population + children) the population, in place (see ``placement``)."""
    slots, newcomers = placement(survivors, population.shape[0], population.shape[0] + children.shape[0])
    population.index_copy_(0, slots, children.index_select(0, newcomers))
    fitness.index_copy_(0, slots, child_fitness.index_select(0, newcomers))


def _remember(halloffame, population, fitness, best):
    """Offer the fittest rows (``best`` is the top fitness) to the hall of fame; nothing to do, and nothing
    copied, when none beats it."""
    if len(halloffame) == halloffame.maxsize and best <= halloffame[-1].fitness.values[0]:
        return
    order = fitness.topk(min(halloffame.maxsize, len(fitness))).indices.tolist()
    values = fitness.tolist()
    halloffame.update([Individual(population[i], values[i]) for i in order])


def _record(logbook, gen, nevals, evals, start, fitness, stats, halloffame, population, on_generation) -> float:
    """Log the generation, update the hall of fame and return the best fitness (read once per generation)."""
    best = fitness.max().item()
    if halloffame is not None:
        _remember(halloffame, population, fitness, best)
    # one array in a list: numpy reduces it at once, with no per-element key calls
    record = {k: float(v) for k, v in stats.compile([fitness.cpu().numpy()]).items()} if stats else {}
    logbook.record(gen=gen, nevals=nevals, evals=evals, seconds=time.perf_counter() - start, **record)
    if on_generation is not None:
        on_generation(logbook[-1])
    return best
