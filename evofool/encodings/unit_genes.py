"""Shared by the encodings whose genes are plain numbers in [0, 1]: pixels, pyramid levels, frequencies, CPPN weights."""

from __future__ import annotations

from typing import Callable

import torch

from ..algorithms.operators import cx_uniform, mut_polynomial_bounded


class UnitGenes:
    """Uniform random genomes, bounded polynomial mutation (eta ``mutation_eta``, per-gene rate
    ``mutation_indpb``) and uniform crossover, as the direct encoding's defaults; the search of a strategy
    starts from ``center()``."""

    mutation_eta: float
    mutation_indpb: float

    def random(self, n: int, generator: torch.Generator, device) -> torch.Tensor:
        """n genomes drawn uniformly in [0, 1] (for pixels, as in the paper)."""
        return torch.rand((n, *self.genome_shape), generator=generator, device=device)

    def to_dict(self, genome: torch.Tensor) -> None:
        """No graph form: the saved PNG is the result (a checkpoint holds the genes)."""
        return None

    def mutate(self, genomes: torch.Tensor, generator: torch.Generator):
        return mut_polynomial_bounded(genomes, self.mutation_eta, self.mutation_indpb, 0.0, 1.0, generator)

    def mate(self, first: torch.Tensor, second: torch.Tensor, generator: torch.Generator):
        return cx_uniform(first, second, 0.5, generator)

    def local_space(self, genome: torch.Tensor) -> tuple[torch.Tensor, Callable]:
        """Where a strategy searches around ``genome``: its genes in logit space, and the map back
        (sigmoid), so that any real vector is a valid genome (what MAP-Elites' emitters use)."""
        start = torch.logit(genome.reshape(-1).clamp(1e-3, 1 - 1e-3))
        return start, lambda vectors: torch.sigmoid(vectors).view(-1, *genome.shape)

    def center(self) -> torch.Tensor:
        """Genes of the strategies' starting point: 0.5 everywhere (a gray image, or zero weights)."""
        return torch.full(self.genome_shape, 0.5)
