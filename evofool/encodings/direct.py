"""Direct encoding: the genome is the image's pixels, possibly at a lower resolution than the model's input."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..algorithms.operators import (cx_simulated_binary_bounded, cx_uniform, cx_uniform_cells,
                                    mut_polynomial_bounded, mut_polynomial_cells)
from .unit_genes import UnitGenes
from .upsample import bilinear

UPSAMPLING = ("nearest", "bilinear", "tile")


@dataclass
class DirectEncoding(UnitGenes):
    """Genes in [0, 1], one per pixel and channel of a C x S x S genome image.

    ``render`` upsamples the genome to the model's input size, by nearest neighbour (each gene stays a
    visible block, as in the paper), bilinearly (a smooth image, whose genes each move a neighbourhood) or
    by tiling (the S x S patch repeated: a texture at full resolution, what convnets respond to most);
    a genome smaller than the input makes the search space smaller and the search faster. Variation
    follows the original fooling code: polynomial mutation (eta 15) and SBX crossover (eta 10).

    ``refine_after`` N >= 1 searches coarse to fine (0, the default: the grid stays the genome). The genome is
    then the image at the input's resolution, the S x S grid's nearest-neighbour blocks its cells: the first
    population is drawn on the grid, uniform crossover swaps whole cells, and for N generations mutation moves
    whole cells (one polynomial step each) - the S x S search exactly - then single pixels, as many a child
    on average (``mutate(fine=True)``; the GA's ``schedule`` switches). A coarse grid is fast to climb but
    caps some classes below their ceiling; the fine phase lifts the cap (README, ``defaults.py``).
    """

    channels: int
    image_size: tuple[int, int]
    genome_size: int | None = None
    mutation_eta: float = 15.0
    mutation_indpb: float = 0.1
    crossover_eta: float = 10.0
    crossover: str = "uniform"
    upsample: str = "nearest"
    refine_after: int = 0

    name = "direct"

    def __post_init__(self):
        if self.genome_size is not None and not 1 <= self.genome_size <= min(self.image_size):
            raise ValueError(f"--genome-size must be in 1..{min(self.image_size)} (the model's input is "
                             f"{self.image_size[0]} x {self.image_size[1]}; more pixels than it sees are wasted), "
                             f"got {self.genome_size}")
        if self.upsample not in UPSAMPLING:
            raise ValueError(f"unknown upsampling {self.upsample!r}; choose one of {', '.join(UPSAMPLING)}")
        check_refine_after(self.refine_after)
        if self.refine_after and (self.upsample != "nearest" or self.genome_size is None
                                  or self.genome_size >= min(self.image_size)):
            raise ValueError(f"--refine-after refines the blocks of a nearest grid smaller than the input "
                             f"({self.image_size[0]} x {self.image_size[1]}); got --genome-size {self.genome_size} "
                             f"--upsample {self.upsample}")
        self.cells = self._cells() if self.refine_after else None
        self.cell_count = self.channels * self.genome_size ** 2 if self.refine_after else None

    def _cells(self) -> torch.Tensor:
        """For every gene of a full-resolution genome (C x H x W, flat), the index of its grid cell (C x S x S)."""
        side, (height, width) = self.genome_size, self.image_size
        grid = torch.arange(self.channels * side * side, dtype=torch.float64).view(1, self.channels, side, side)
        return F.interpolate(grid, size=(height, width), mode="nearest").long().view(-1)

    @property
    def genome_shape(self) -> tuple[int, int, int]:
        height, width = self.image_size
        if self.genome_size is None or self.refine_after:
            return (self.channels, height, width)
        return (self.channels, self.genome_size, self.genome_size)

    def params(self) -> dict:
        return dict(genome_shape=list(self.genome_shape), upsample=self.upsample, mutation_eta=self.mutation_eta,
                    mutation_indpb=self.mutation_indpb, crossover_eta=self.crossover_eta,
                    refine_after=self.refine_after)

    def random(self, n: int, generator: torch.Generator, device) -> torch.Tensor:
        """n genomes drawn uniformly in [0, 1], on the grid when refining (each cell's pixels alike)."""
        if not self.refine_after:
            return super().random(n, generator, device)
        grid = torch.rand((n, self.cell_count), generator=generator, device=device)
        return grid.index_select(1, self.cells.to(device)).view(n, *self.genome_shape)

    def mutate(self, genomes: torch.Tensor, generator: torch.Generator, fine: bool = False):
        """Polynomial mutation of genes; when refining, of whole cells until ``fine``, then of single pixels
        at the rate that changes as many genes a child."""
        if not self.refine_after:
            return super().mutate(genomes, generator)
        if fine:
            rate = self.mutation_indpb * self.cell_count / self.cells.numel()
            return mut_polynomial_bounded(genomes, self.mutation_eta, rate, 0.0, 1.0, generator)
        return mut_polynomial_cells(genomes, self.cells.to(genomes.device), self.cell_count, self.mutation_eta,
                                    self.mutation_indpb, 0.0, 1.0, generator)

    def render(self, genomes: torch.Tensor) -> torch.Tensor:
        """Images N x C x H x W in [0, 1] at the model's input size."""
        if genomes.shape[-2:] == tuple(self.image_size):
            return genomes
        height, width = self.image_size
        if self.upsample == "tile":
            rows, cols = -(-height // genomes.shape[-2]), -(-width // genomes.shape[-1])
            return genomes.repeat(1, 1, rows, cols)[..., :height, :width]
        if self.upsample == "nearest":
            return F.interpolate(genomes, size=tuple(self.image_size), mode="nearest")
        return bilinear(genomes, (height, width))

    def mate(self, first: torch.Tensor, second: torch.Tensor, generator: torch.Generator):
        if self.crossover == "uniform" and self.refine_after:  # whole cells, so the coarse phase stays coarse
            return cx_uniform_cells(first, second, self.cells.to(first.device), self.cell_count, generator)
        if self.crossover == "uniform":
            return cx_uniform(first, second, 0.5, generator)
        return cx_simulated_binary_bounded(first, second, self.crossover_eta, 0.0, 1.0, generator)


def check_refine_after(refine_after) -> None:
    """``refine_after`` must be a whole number of generations, 0 (never) or more."""
    if isinstance(refine_after, bool) or not isinstance(refine_after, int) or refine_after < 0:
        raise ValueError(f"--refine-after must be a whole number of generations >= 0 (0: never), "
                         f"got {refine_after!r}")
