"""The batched operators keep their bounds and behave like DEAP's stock operators."""

import random

import numpy as np
import pytest
import torch
from deap import tools

from evofool.algorithms.operators import (
    _power, cx_simulated_binary_bounded, cx_uniform, mut_polynomial_bounded, sel_best, sel_best_distinct,
    sel_tournament,
)


@pytest.mark.parametrize("exponent", [16.0, 11.0, 1.0, 1 / 16, 1 / 11, 0.5, 2.5, 1 / 256, 0.75])
def test_fast_power_paths_agree_with_pow_and_leave_the_input_alone(exponent):
    x = torch.rand(1000, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) + 0.01
    before = x.clone()
    assert torch.allclose(_power(x, exponent), x**exponent, rtol=1e-12, atol=0)
    assert torch.equal(x, before)


def test_polynomial_mutation_keeps_genes_in_bounds():
    genes = torch.rand(64, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    genes[0] = 0.0
    genes[1] = 1.0
    mutated, changed = mut_polynomial_bounded(genes.clone(), eta=1.0, indpb=0.5, generator=torch.Generator().manual_seed(1))
    assert mutated.shape == genes.shape
    assert mutated.min() >= 0.0 and mutated.max() <= 1.0
    assert changed.all()
    assert torch.equal(mutated[~changed], genes[~changed])


def test_polynomial_mutation_touches_the_expected_share_of_genes():
    genes = torch.full((200, 1000), 0.5)
    mutated, _ = mut_polynomial_bounded(genes.clone(), eta=15.0, indpb=0.1, generator=torch.Generator().manual_seed(0))
    share = (mutated != genes).float().mean().item()
    assert 0.095 < share < 0.105


@pytest.mark.parametrize("start", [0.05, 0.5, 0.9])
def test_polynomial_mutation_matches_deap_distribution(start):
    """Two-sample Kolmogorov-Smirnov distance between our steps and DEAP's mutPolynomialBounded."""
    n = 20000
    random.seed(0)
    theirs = np.array([tools.mutPolynomialBounded([start], eta=15.0, low=0.0, up=1.0, indpb=1.0)[0][0] for _ in range(n)])
    ours = mut_polynomial_bounded(torch.full((n, 1), start, dtype=torch.float64), eta=15.0, indpb=1.0,
                                  generator=torch.Generator().manual_seed(0))[0].squeeze(1).numpy()
    grid = np.sort(np.concatenate([ours, theirs]))
    cdf = lambda sample: np.searchsorted(np.sort(sample), grid, side="right") / n
    ks = np.abs(cdf(ours) - cdf(theirs)).max()
    assert ks < 1.63 * np.sqrt(2 / n)  # 1% level


def test_sbx_matches_deap_distribution_and_bounds():
    n = 20000
    random.seed(0)
    theirs = np.array([tools.cxSimulatedBinaryBounded([0.2], [0.7], eta=10.0, low=0.0, up=1.0)[0][0] for _ in range(n)])
    first, second = torch.full((n, 1), 0.2, dtype=torch.float64), torch.full((n, 1), 0.7, dtype=torch.float64)
    child, other, changed = cx_simulated_binary_bounded(first, second, eta=10.0, generator=torch.Generator().manual_seed(0))
    ours = child.squeeze(1).numpy()
    assert child.min() >= 0 and other.max() <= 1
    grid = np.sort(np.concatenate([ours, theirs]))
    cdf = lambda sample: np.searchsorted(np.sort(sample), grid, side="right") / n
    assert np.abs(cdf(ours) - cdf(theirs)).max() < 1.63 * np.sqrt(2 / n)
    assert 0.45 < changed.double().mean() < 0.55


def test_uniform_crossover_only_swaps_genes():
    g = torch.Generator().manual_seed(0)
    first, second = torch.zeros(10, 500), torch.ones(10, 500)
    a, b, changed = cx_uniform(first.clone(), second.clone(), indpb=0.3, generator=g)
    assert torch.equal(a + b, torch.ones(10, 500))
    assert 0.25 < a.mean() < 0.35
    assert changed.all()


def test_variation_changes_contiguous_genes_in_place_as_deap_does():
    g = torch.Generator().manual_seed(0)
    genes = torch.rand(8, 100, generator=g)
    mutated, _ = mut_polynomial_bounded(genes, eta=15.0, indpb=0.5, generator=g)
    assert mutated is genes
    pairs = torch.rand(8, 100, generator=g)
    first, second = pairs[0::2], pairs[1::2]  # strided views, as the GA hands them over
    a, b, _ = cx_uniform(first, second, generator=g)
    assert a is first and b is second
    before = pairs.clone()
    a, b, _ = cx_simulated_binary_bounded(first, second, eta=10.0, generator=g)
    assert a is not first and torch.equal(pairs, before)  # strided parents: new children, parents untouched


def test_tournament_prefers_the_fitter_and_best_sorts():
    fitness = torch.arange(100, dtype=torch.float32)
    winners = sel_tournament(fitness, 10000, tournsize=3, generator=torch.Generator().manual_seed(0))
    # expected winner of a 3-tournament over uniform ranks is at the 3/4 quantile
    assert 70 < fitness[winners].mean() < 78
    assert sel_best(fitness, 3).tolist() == [99, 98, 97]


def test_distinct_survival_keeps_one_copy_of_each_value_before_any_second_copy():
    # parents [0.9, 0.9, 0.5], children [0.9, 0.7, 0.5, 0.2]: plain truncation keeps three copies of 0.9
    pool = torch.tensor([0.9, 0.9, 0.5, 0.9, 0.7, 0.5, 0.2])
    assert sorted(sel_best(pool, 4).tolist()) == [0, 1, 3, 4]
    assert sel_best_distinct(pool, 4).tolist() == [0, 4, 2, 6]  # of equal values the first (a parent) stays
    assert sel_best_distinct(pool, 6).tolist() == [0, 4, 2, 6, 1, 3]  # then copies, best first
    assert sel_best_distinct(pool, 7).sort().values.tolist() == list(range(7))
