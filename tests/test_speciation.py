"""NEAT speciation: distances, species shares of the offspring, protected members, stagnation."""

import pytest
import torch

from evofool.algorithms.ga import _replace
from evofool.algorithms.speciation import Speciation, check_species, compatibility


def _genes(genomes):
    """Test genomes: 6 connection flags, then their 6 weights."""
    return genomes[:, :6], genomes[:, 6:]


def _genome(enabled, weight):
    return torch.tensor([*enabled, *weight], dtype=torch.float32)


def test_compatibility_counts_unshared_connections_and_the_mean_weight_difference_of_shared_ones():
    a = _genome([1, 1, 1, 0, 0, 0], [1.0, 2.0, 3.0, 0, 0, 0])
    b = _genome([0, 1, 1, 1, 0, 0], [0, 2.5, 1.0, 4.0, 0, 0])
    distance = compatibility(*_genes(a[None]), *_genes(torch.stack([a, b])), weight_coefficient=0.5)
    assert distance.tolist() == [[0.0, 2 + 0.5 * (0.5 + 2.0) / 2]]


def _two_lineages(n=8):
    """n genomes of a strong lineage (connections 0-2) and n of a weak one (connections 3-5)."""
    strong = _genome([1, 1, 1, 0, 0, 0], [1, 1, 1, 0, 0, 0]).repeat(n, 1)
    weak = _genome([0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1]).repeat(n, 1)
    strong[:, 6] += torch.arange(n) * 0.01  # near copies within each lineage
    weak[:, 9] += torch.arange(n) * 0.01
    fitness = torch.cat([0.9 + 0.001 * torch.arange(n), 0.1 + 0.001 * torch.arange(n)])
    return torch.cat([strong, weak]), fitness


def test_each_species_gets_its_share_of_parents_and_keeps_its_best_members():
    genomes, fitness = _two_lineages()
    species = Speciation(_genes, torch.Generator().manual_seed(0), target=2, share=0.5, keep=2)
    species.assign(genomes, fitness)
    assert species.members.tolist() == [0] * 8 + [1] * 8  # the fittest lineage founds species 0
    parents = species.select(fitness, 16)
    assert (parents[:4] < 8).all() and (parents[4:8] >= 8).all()  # half the parents split between the species
    # without speciation the weak lineage would die: the 16 survivors of 32 would all be strong
    pool = torch.cat([genomes, genomes])
    pool_fitness = torch.cat([fitness, fitness + 0.0001])
    species.assign(pool, pool_fitness)
    survivors = species.survive(pool_fitness, 16)
    kept = species.pool[survivors]
    assert (kept == 1).sum() == 2 and set(survivors[kept == 1].tolist()) == {31, 15}  # the weak species' best two
    assert len(set(pool_fitness[survivors].tolist())) == 16  # distinct values, best first
    population, population_fitness = genomes.clone(), fitness.clone()
    _replace(population, population_fitness, genomes, fitness + 0.0001, survivors)  # as the GA's loop places them
    assert torch.equal(species.members == 1, population[:, 3] == 1)  # each row's species follows it into place


def test_a_stagnant_species_loses_its_share_and_protection_unless_it_holds_the_best():
    genomes, fitness = _two_lineages()
    species = Speciation(_genes, torch.Generator().manual_seed(0), target=2, stagnation=3)
    species.assign(genomes, fitness)
    for _ in range(3):  # neither improves
        species.assign(genomes, fitness)
    assert species.stale.tolist() == [3, 3]
    parents = species.select(fitness, 16)
    assert (parents[:8] < 8).all() and len(parents) == 16  # only the leader's species keeps a share: 8 of 16
    survivors = species.survive(fitness, 8)
    assert (survivors < 8).all()  # the weak species is no longer protected


def test_species_counts_are_whole_numbers():
    check_species(0)
    for bad in (-1, 2.5, True, "6"):
        with pytest.raises(ValueError, match="species must be a whole number >= 0"):
            check_species(bad)
