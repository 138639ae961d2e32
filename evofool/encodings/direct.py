"""Direct encoding: the genome is the image's pixels, possibly at a lower resolution than the model's input."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..algorithms.operators import cx_simulated_binary_bounded, cx_uniform
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
    """

    channels: int
    image_size: tuple[int, int]
    genome_size: int | None = None
    mutation_eta: float = 15.0
    mutation_indpb: float = 0.1
    crossover_eta: float = 10.0
    crossover: str = "uniform"
    upsample: str = "nearest"

    name = "direct"

    def __post_init__(self):
        if self.genome_size is not None and not 1 <= self.genome_size <= min(self.image_size):
            raise ValueError(f"--genome-size must be in 1..{min(self.image_size)} (the model's input is "
                             f"{self.image_size[0]} x {self.image_size[1]}; more pixels than it sees are wasted), "
                             f"got {self.genome_size}")
        if self.upsample not in UPSAMPLING:
            raise ValueError(f"unknown upsampling {self.upsample!r}; choose one of {', '.join(UPSAMPLING)}")

    @property
    def genome_shape(self) -> tuple[int, int, int]:
        height, width = self.image_size
        if self.genome_size is None:
            return (self.channels, height, width)
        return (self.channels, self.genome_size, self.genome_size)

    def params(self) -> dict:
        return dict(genome_shape=list(self.genome_shape), upsample=self.upsample, mutation_eta=self.mutation_eta,
                    mutation_indpb=self.mutation_indpb, crossover_eta=self.crossover_eta)

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
        if self.crossover == "uniform":
            return cx_uniform(first, second, 0.5, generator)
        return cx_simulated_binary_bounded(first, second, self.crossover_eta, 0.0, 1.0, generator)

