"""The baseline evofool is measured against: a GA written the way DEAP's tutorials write it.

Individuals are Python lists of floats, variation uses DEAP's stock operators gene by gene, and
``toolbox.map`` scores one individual at a time. Used by the benchmarks only.
"""

import random
import time

import numpy as np
import torch
from deap import algorithms, base, creator, tools

creator.create("NaiveFitness", base.Fitness, weights=(1.0,))
creator.create("NaiveIndividual", list, fitness=creator.NaiveFitness)


def naive_toolbox(classifier, target_index, seed=0):
    random.seed(seed)
    shape = classifier.input_size
    toolbox = base.Toolbox()
    toolbox.register("attr", random.random)
    toolbox.register("individual", tools.initRepeat, creator.NaiveIndividual, toolbox.attr, n=int(np.prod(shape)))
    toolbox.register("population", tools.initRepeat, list, toolbox.individual)

    def evaluate(individual):
        image = torch.tensor(individual, dtype=torch.float32).view(1, *shape)
        return (classifier.probs(image.mul(255).round().div(255))[0, target_index].item(),)

    toolbox.register("evaluate", evaluate)
    toolbox.register("mate", tools.cxSimulatedBinaryBounded, eta=10.0, low=0.0, up=1.0)
    toolbox.register("mutate", tools.mutPolynomialBounded, eta=15.0, low=0.0, up=1.0, indpb=0.1)
    toolbox.register("select", tools.selTournament, tournsize=3)
    return toolbox


class NaiveGA:
    """eaSimple-style loop with the tutorial's bookkeeping, one generation per ``step()`` call, so that a
    benchmark can time it in turns with evofool's loop (both then see the same machine drift)."""

    def __init__(self, classifier, target_index, pop_size, seed=0):
        self.toolbox = naive_toolbox(classifier, target_index, seed)
        self.population = self.toolbox.population(n=pop_size)
        self._score(self.population)
        self.evaluations = len(self.population)
        self.generations, self.seconds = 0, 0.0

    def _score(self, individuals):
        for ind, fit in zip(individuals, self.toolbox.map(self.toolbox.evaluate, individuals)):
            ind.fitness.values = fit

    def step(self):
        """One generation, timed into ``seconds``; returns the best fitness."""
        start = time.perf_counter()
        offspring = algorithms.varAnd(self.toolbox.select(self.population, len(self.population)), self.toolbox,
                                      cxpb=0.5, mutpb=0.2)
        invalid = [ind for ind in offspring if not ind.fitness.valid]
        self._score(invalid)
        self.population[:] = offspring
        self.seconds += time.perf_counter() - start
        self.evaluations += len(invalid)
        self.generations += 1
        return max(ind.fitness.values[0] for ind in self.population)
