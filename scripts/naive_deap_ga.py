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


def run_naive(classifier, target_index, pop_size, generations, seed=0, target=0.9999):
    """eaSimple-style loop with the tutorial's bookkeeping; returns (best fitness per generation, seconds,
    evaluations)."""
    toolbox = naive_toolbox(classifier, target_index, seed)
    start = time.perf_counter()
    population = toolbox.population(n=pop_size)
    for ind, fit in zip(population, toolbox.map(toolbox.evaluate, population)):
        ind.fitness.values = fit
    best = [max(ind.fitness.values[0] for ind in population)]
    evaluations = len(population)
    for _ in range(generations):
        offspring = algorithms.varAnd(toolbox.select(population, len(population)), toolbox, cxpb=0.5, mutpb=0.2)
        invalid = [ind for ind in offspring if not ind.fitness.valid]
        for ind, fit in zip(invalid, toolbox.map(toolbox.evaluate, invalid)):
            ind.fitness.values = fit
        evaluations += len(invalid)
        population[:] = offspring
        best.append(max(ind.fitness.values[0] for ind in population))
        if best[-1] >= target:
            break
    return best, time.perf_counter() - start, evaluations
