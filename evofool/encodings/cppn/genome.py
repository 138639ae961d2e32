"""CPPN genomes packed into fixed-size rows, so that a population is one N x D tensor.

A genome has node slots: 4 inputs (x, y, d, bias), ``max_hidden`` hidden slots and 1 or 3 outputs.
Each row holds, for S = 4 + max_hidden + outputs slots:

- ``weight`` (S x S): weight[j, i] is the weight of the connection i -> j, 0 where there is none;
- ``enabled`` (S x S): 1 where the connection i -> j exists;
- ``key`` (S): the node's place in a topological order, 0 for inputs, 1 for outputs, strictly between
  for hidden nodes; connections only run from a lower key to a higher one, so every genome is acyclic;
- ``activation`` (S): the id of a hidden node's function (see ``activations.NAMES``);
- ``alive`` (S): 1 for inputs, outputs and hidden slots in use.

Padding to a common size is what lets mutation and rendering treat the whole population at once, the
idea of neat-python's GPU padding.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .activations import IDS, MUTABLE

INPUTS = ("x", "y", "d", "bias")


@dataclass(frozen=True)
class CPPNLayout:
    """Sizes of the packed genome, and views of a population tensor's parts."""

    max_hidden: int = 24
    outputs: int = 3

    @property
    def slots(self) -> int:
        return len(INPUTS) + self.max_hidden + self.outputs

    @property
    def hidden(self) -> slice:
        return slice(len(INPUTS), len(INPUTS) + self.max_hidden)

    @property
    def output(self) -> slice:
        return slice(len(INPUTS) + self.max_hidden, self.slots)

    @property
    def size(self) -> int:
        return 2 * self.slots * self.slots + 3 * self.slots

    def views(self, population: torch.Tensor) -> dict[str, torch.Tensor]:
        """Named views (no copies) into an N x D population: weight, enabled, key, activation, alive."""
        n, s = population.shape[0], self.slots
        parts = population.split([s * s, s * s, s, s, s], dim=1)
        names = ("weight", "enabled", "key", "activation", "alive")
        shapes = ((n, s, s), (n, s, s), (n, s), (n, s), (n, s))
        return {name: part.view(shape) for name, part, shape in zip(names, parts, shapes)}

    def initial(self, n: int, generator: torch.Generator, device, weight_range: float = 2.0) -> torch.Tensor:
        """n genomes without hidden nodes, every input wired to every output with a uniform random weight."""
        population = torch.zeros(n, self.size, device=device)
        parts = self.views(population)
        inputs, outputs = slice(0, len(INPUTS)), self.output
        parts["key"][:, outputs] = 1.0
        parts["alive"][:, inputs] = 1.0
        parts["alive"][:, outputs] = 1.0
        parts["activation"][:] = IDS[MUTABLE[0]]
        parts["enabled"][:, outputs, inputs] = 1.0
        shape = (n, self.outputs, len(INPUTS))
        parts["weight"][:, outputs, inputs] = (
            torch.rand(shape, generator=generator, device=device) * 2 - 1
        ) * weight_range
        return population

    def hidden_counts(self, population: torch.Tensor) -> torch.Tensor:
        return self.views(population)["alive"][:, self.hidden].sum(1)
