"""Frequency encoding: the genome is the lowest K x K cosine (DCT-II) coefficients of each channel."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .unit_genes import UnitGenes


def cosine_basis(size: int, frequencies: int, device=None) -> torch.Tensor:
    """size x frequencies matrix of cos(pi k (i + 1/2) / size): the DCT-II basis, lowest frequencies first."""
    i = torch.arange(size, dtype=torch.float32, device=device)[:, None] + 0.5
    k = torch.arange(frequencies, dtype=torch.float32, device=device)[None]
    return torch.cos(math.pi * k * i / size)


@dataclass
class DCTEncoding(UnitGenes):
    """Genes in [0, 1], one per channel and low frequency (u, v) < K: a smooth image whatever the genes.

    A gene g sets the coefficient (2g - 1) * amplitude / (1 + sqrt(u^2 + v^2)): low frequencies get the
    most room, as natural images have most of their energy there. The image is the sigmoid of the
    cosine sum, so it stays in [0, 1] without clipping. The search is K^2 per channel whatever the input
    size, and each gene changes the whole image, the opposite of the pixel grid's local genes.
    """

    channels: int
    image_size: tuple[int, int]
    genome_size: int | None = None
    amplitude: float = 4.0
    mutation_eta: float = 15.0
    mutation_indpb: float = 0.1

    name = "dct"

    def __post_init__(self):
        if self.genome_size is None:
            self.genome_size = min(16, *self.image_size)
        if not 1 <= self.genome_size <= min(self.image_size):
            raise ValueError(f"--genome-size: the frequency genome needs 1 <= K <= {min(self.image_size)} (the "
                             f"model's input is {self.image_size[0]} x {self.image_size[1]}), got {self.genome_size}")

    @property
    def genome_shape(self) -> tuple[int, int, int]:
        return (self.channels, self.genome_size, self.genome_size)

    def params(self) -> dict:
        return dict(genome_shape=list(self.genome_shape), amplitude=self.amplitude, mutation_eta=self.mutation_eta,
                    mutation_indpb=self.mutation_indpb)

    def render(self, genomes: torch.Tensor) -> torch.Tensor:
        k, device = self.genome_size, genomes.device
        u = torch.arange(k, dtype=torch.float32, device=device)
        scale = self.amplitude / (1 + (u[:, None] ** 2 + u[None] ** 2).sqrt())
        coefficients = (2 * genomes - 1) * scale
        height, width = self.image_size
        rows, cols = cosine_basis(height, k, device), cosine_basis(width, k, device)
        return torch.sigmoid(rows @ coefficients @ cols.T)
