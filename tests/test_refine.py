"""Coarse to fine: the direct GA varies a grid's cells, then single pixels, and resumes exactly across the switch."""

import pytest
import torch

import evofool
from evofool.algorithms.operators import cx_uniform_cells, mut_polynomial_cells
from evofool.defaults import direct_defaults, direct_settings
from evofool.encodings import make_encoding


def _cells_uniform(images: torch.Tensor, block: int = 2) -> bool:
    """Whether every block x block cell of N x C x H x W images holds one value."""
    n, c, h, w = images.shape
    cells = images.reshape(n, c, h // block, block, w // block, block)
    return bool((cells.amax((3, 5)) == cells.amin((3, 5))).all())


def test_cell_mutation_moves_whole_cells_at_the_given_rate():
    encoding = make_encoding("direct", (1, 28, 28), 14, upsample="nearest", refine_after=5)
    generator = torch.Generator().manual_seed(0)
    genomes = encoding.random(200, generator, "cpu")
    assert genomes.shape == (200, 1, 28, 28) and _cells_uniform(genomes)
    before = genomes.clone()
    mutated, changed = mut_polynomial_cells(genomes, encoding.cells, 196, 15.0, 0.1, generator=generator)
    assert mutated is genomes and _cells_uniform(mutated) and changed.all()
    moved = (mutated != before).reshape(200, 14, 2, 14, 2)[:, :, 0, :, 0]
    assert 0.08 < moved.float().mean() < 0.12  # a tenth of the cells, each as one
    assert mutated.min() >= 0 and mutated.max() <= 1


def test_fine_mutation_moves_single_pixels_as_many_a_child():
    encoding = make_encoding("direct", (1, 28, 28), 14, upsample="nearest", refine_after=5)
    generator = torch.Generator().manual_seed(1)
    genomes = encoding.random(200, generator, "cpu")
    coarse = (encoding.mutate(genomes.clone(), generator)[0] != genomes).sum() / 200
    fine = encoding.mutate(genomes.clone(), generator, fine=True)[0]
    assert not _cells_uniform(fine)
    assert 0.8 < (fine != genomes).sum() / 200 / (coarse / 4) < 1.2  # a cell is 4 pixels


def test_cell_crossover_swaps_whole_cells_only():
    encoding = make_encoding("direct", (3, 28, 28), 14, upsample="nearest", refine_after=5)
    first, second = torch.zeros(6, 3, 28, 28), torch.ones(6, 3, 28, 28)
    a, b, changed = cx_uniform_cells(first, second, encoding.cells, 3 * 196,
                                       torch.Generator().manual_seed(0))
    assert torch.equal(a + b, torch.ones(6, 3, 28, 28)) and changed.all()
    assert _cells_uniform(a) and 0.4 < a.mean() < 0.6
    assert not torch.equal(a[:, 0], a[:, 1])  # each channel's cells are their own


def test_the_ga_refines_after_the_coarse_generations_and_resumes_exactly(lenet):
    kwargs = dict(algorithm="ga", pop_size=16, seed=2, target_confidence=None, genome_size=14, refine_after=4)
    coarse = evofool.evolve(lenet, "Coat", generations=4, **kwargs)
    assert coarse.genome.shape == (1, 28, 28) and _cells_uniform(coarse.image[None])
    whole = evofool.evolve(lenet, "Coat", generations=10, **kwargs)
    assert not _cells_uniform(whole.image[None])
    saved = {}
    evofool.evolve(lenet, "Coat", generations=3, checkpoint=lambda state: saved.update(state), **kwargs)
    resumed = evofool.evolve(lenet, "Coat", generations=10, resume=saved, **kwargs)
    assert torch.equal(whole.image, resumed.image)
    assert [row["best"] for row in whole.logbook] == [row["best"] for row in resumed.logbook]


def test_refining_and_tournament_defaults_depend_on_the_grid_and_the_input(lenet):
    assert direct_defaults("ga", (1, 28, 28))["refine_after"] == 60
    assert direct_settings("ga", (1, 28, 28)) == dict(genome_size=14, upsample="nearest", refine_after=60, tournsize=3)
    assert direct_settings("ga", (1, 28, 28), upsample="bilinear")["refine_after"] == 0
    assert direct_settings("ga", (1, 8, 8)) == dict(genome_size=8, upsample="nearest", refine_after=0, tournsize=3)
    assert direct_settings("ga", (3, 224, 224)) == dict(genome_size=16, upsample="bilinear", refine_after=0,
                                                        tournsize=2)
    assert direct_settings("snes", (1, 28, 28))["tournsize"] is None
    assert direct_settings("ga", (1, 28, 28), robust=True) == dict(genome_size=14, upsample="nearest",
                                                                   refine_after=0, tournsize=2)
    result = evofool.evolve(lenet, "Coat", algorithm="ga", pop_size=8, generations=1, genome_size=28)
    assert result.config["encoding_params"]["refine_after"] == 0 and result.genome.shape == (1, 28, 28)


@pytest.mark.parametrize("options, message", [
    (dict(refine_after=-1), "whole number of generations"),
    (dict(refine_after=2.5), "whole number of generations"),
    (dict(refine_after=5, upsample="bilinear"), "nearest grid smaller"),
    (dict(refine_after=5, genome_size=28), "nearest grid smaller"),
    (dict(refine_after=5, algorithm="snes"), "snes on direct has none"),
    (dict(tournsize=0), "whole number >= 1"),
    (dict(tournsize=3, algorithm="snes"), "snes draws none"),
])
def test_bad_refining_or_tournament_settings_are_refused_in_one_line(lenet, options, message):
    with pytest.raises(ValueError, match=message):
        evofool.evolve(lenet, "Coat", **{"algorithm": "ga", "encoding": "direct", "pop_size": 8, "generations": 1,
                                         **options})
