"""A fixed-topology CPPN whose connection weights are the genome: what a strategy evolves.

NEAT mutations change a CPPN's graph; a strategy needs a fixed vector instead. This encoding takes one
graph (a genome dict, ``--init``, or a default layered network of mixed Picbreeder activations) and makes
its enabled connections' weights the genes: a gene g in [0, 1] is the weight (2g - 1) * ``weight_range``.
Rendering scatters each genome's weights into the packed base genome and uses the batched CPPN renderer,
so best.json is an ordinary CPPN genome that renders at any size.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..unit_genes import UnitGenes
from .genome import INPUTS, CPPNLayout
from .io import dict_to_genome, genome_to_dict, output_names
from .render import DEFAULT_RENDER_SIDE, check_render_side, coordinate_map, render_for_model

LAYER_ACTIVATIONS = ("sine", "gaussian", "tanh", "sigmoid", "cosine", "abs", "linear")


def layered_genome(channels: int, layers: int = 2, width: int = 8) -> dict:
    """A genome dict of ``layers`` fully connected layers of ``width`` hidden nodes, activations cycling
    through ``LAYER_ACTIVATIONS``; every weight 0 (the genes set them)."""
    nodes, previous, connections = [], list(INPUTS), []
    for layer in range(layers):
        current = [f"h{layer}_{k}" for k in range(width)]
        nodes += [{"id": node, "activation": LAYER_ACTIVATIONS[(layer * width + k) % len(LAYER_ACTIVATIONS)]}
                  for k, node in enumerate(current)]
        connections += [{"from": a, "to": b, "weight": 0.0} for b in current for a in previous]
        previous = current + ["bias"]
    connections += [{"from": a, "to": b, "weight": 0.0} for b in output_names(channels) for a in previous]
    return {"color_mode": "rgb", "inputs": list(INPUTS), "outputs": output_names(channels), "nodes": nodes,
            "connections": connections}


@dataclass
class CPPNWeightsEncoding(UnitGenes):
    """Genes in [0, 1], one per enabled connection of a fixed CPPN graph."""

    channels: int
    image_size: tuple[int, int]
    init: dict | None = None
    weight_range: float = 10.0
    coordinate_scale: float | str = 1.0
    mutation_eta: float = 15.0
    mutation_indpb: float = 0.1
    render_side: int | None = DEFAULT_RENDER_SIDE

    name = "cppn-weights"

    def __post_init__(self):
        graph = self.init or layered_genome(self.channels)
        self.color_mode = graph.get("color_mode", "rgb")
        self.coordinates = graph.get("coordinates") or coordinate_map(self.coordinate_scale, max(self.image_size))
        check_render_side(self.render_side)
        self.layout = CPPNLayout(max(1, len(graph["nodes"])), len(graph["outputs"]))
        if self.layout.outputs != self.channels:
            raise ValueError(f"the genome draws {self.layout.outputs} channels; the model takes {self.channels}")
        self.base = dict_to_genome(graph, self.layout)
        parts = self.layout.views(self.base[None])
        # flat positions (in the packed row) of the enabled connections' weights
        self.positions = parts["enabled"][0].flatten().nonzero().squeeze(1)
        self.start = self.layout.views(self.base[None])["weight"][0].flatten()[self.positions] / self.weight_range

    @property
    def genome_shape(self) -> tuple[int]:
        return (len(self.positions),)

    def params(self) -> dict:
        return dict(genes=len(self.positions), weight_range=self.weight_range, coordinates=self.coordinates,
                    hidden=self.layout.max_hidden, render_side=self.render_side)

    def weights(self, genomes: torch.Tensor) -> torch.Tensor:
        return (2 * genomes - 1) * self.weight_range

    def packed(self, genomes: torch.Tensor) -> torch.Tensor:
        """The packed CPPN rows (N x D) of genomes: the base graph with each genome's weights."""
        rows = self.base.to(genomes.device).expand(genomes.shape[0], -1).clone()
        rows[:, : self.layout.slots**2].index_copy_(1, self.positions.to(genomes.device), self.weights(genomes))
        return rows

    def random(self, n: int, generator: torch.Generator, device) -> torch.Tensor:
        """Genomes around the base graph's weights, each moved uniformly by up to weight_range / 2."""
        noise = (torch.rand(n, len(self.positions), generator=generator, device=device) - 0.5) / 2
        return (self.center().to(device) + noise).clamp(0, 1)

    def render(self, genomes: torch.Tensor) -> torch.Tensor:
        return render_for_model(self.packed(genomes), self.layout, self.image_size, self.color_mode,
                                self.coordinates, self.render_side)

    def to_dict(self, genome: torch.Tensor) -> dict:
        row = self.packed(genome[None])[0]
        return dict(genome_to_dict(row, self.layout, self.color_mode), coordinates=self.coordinates,
                    render_side=self.render_side)

    def center(self) -> torch.Tensor:
        """The base graph's own weights (zero for the default network, a seed genome's for ``init``)."""
        return ((self.start + 1) / 2).clamp(0, 1)
