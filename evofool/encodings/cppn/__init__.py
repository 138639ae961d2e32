"""CPPN encoding: a genome is a small network from pixel coordinates to colour, evolved NEAT-style."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .genome import CPPNLayout
from .io import GenomeError, dict_to_genome, genome_to_dict, load_genome_dict
from .mutations import CPPNMutationRates, check_new_node_wiring, check_weight_ranges, mutate_cppn
from .render import (DEFAULT_COLOR_MODE, DEFAULT_RENDER_SIDE, check_color_mode, check_render_side, coordinate_map,
                     render_for_model, render_population)

IDENTITY = coordinate_map(1.0, 1)  # genomes saved before coordinate scales rendered on [-1, 1]
LOCAL_WEIGHT_UNIT = 2.0  # a strategy's step of 1 around a CPPN moves a weight by 2 (the range is [-10, 10])


# The coordinate scale by input size, measured at both ends (README Benchmarks; the 64-pixel line between
# them is a guess). Small inputs (28-pixel Fashion-MNIST; scripts/tune_coordinate_scale.py: the GA, population
# 128, 200 generations, 10 classes x 2 seeds on the shipped LeNet to 0.9999 and on two tuning CNNs to 0.999):
# scale 2 reached 56 of 60 runs, scale 8 53; LeNet MAP-Elites, 300 generations of 64, 12 seeds: 120/120 cells
# at 0.99 with either. Large inputs (224-pixel ImageNet, 1000-class MAP-Elites at 40,000 evaluations): scale
# 8 0.082, 16 0.086, 32 0.064.
SMALL_INPUT = 64
SMALL_INPUT_SCALE, LARGE_INPUT_SCALE = 2.0, 8.0


def small_input(side: int) -> bool:
    """Whether a model whose input's longest side is ``side`` pixels gets the small-input CPPN defaults."""
    return side <= SMALL_INPUT


def default_coordinate_scale(side: int) -> float:
    """The coordinate scale of a CPPN for a model whose input's longest side is ``side`` pixels."""
    return SMALL_INPUT_SCALE if small_input(side) else LARGE_INPUT_SCALE


def check_grown_start(rounds) -> None:
    """Refuse, in one line, a grown start that is not a whole number of mutation rounds (0 to 1000)."""
    if isinstance(rounds, bool) or not isinstance(rounds, int) or not 0 <= rounds <= 1000:
        raise ValueError(f"a grown start is a whole number of mutation rounds from 0 to 1000, got {rounds!r}")


@dataclass
class CPPNEncoding:
    """Packed CPPN genomes (see ``genome.py``) rendered at the model's input size: evaluated on a grid
    whose longest side is ``render_side`` (None: the input's) and upsampled bilinearly where that is smaller.

    New genomes have no hidden nodes, as in the paper, unless ``init`` (a genome dict) seeds them:
    then the first genome is ``init`` itself and the others are mutants of it. With ``grown_start`` R, new
    genomes are instead grown by R rounds of mutation without selection (15 rounds: 4.8 hidden nodes and 8
    connections on average), so a population starts spread over many small graphs rather than one graph with
    random weights. There is no crossover: without NEAT's innovation numbers, slots of two genomes do not
    correspond, and the original fooling code evolved its CPPNs by mutation alone.
    """

    channels: int
    image_size: tuple[int, int]
    max_hidden: int = 24
    color_mode: str = DEFAULT_COLOR_MODE  # three outputs read as hue, lightness, saturation ("rgb": one a channel)
    rates: CPPNMutationRates = field(default_factory=CPPNMutationRates)
    init: dict | None = None
    coordinate_scale: float | str | None = None  # None: default_coordinate_scale of the input
    render_side: int | None = DEFAULT_RENDER_SIDE
    grown_start: int = 0  # rounds of mutation that grow each new genome (not a seeded one)

    name = "cppn"
    mate = None

    def __post_init__(self):
        check_color_mode(self.color_mode)
        if self.coordinate_scale is None:
            self.coordinate_scale = default_coordinate_scale(max(self.image_size))
        self.coordinates = coordinate_map(self.coordinate_scale, max(self.image_size))
        check_render_side(self.render_side)
        check_grown_start(self.grown_start)
        if self.init is not None:
            self.color_mode = self.init.get("color_mode", "rgb")  # a genome dict without one was drawn in rgb
            self.coordinates = self.init.get("coordinates", IDENTITY)
            if len(self.init["outputs"]) != self.channels:
                raise GenomeError(f"the genome draws {len(self.init['outputs'])} channels; the model takes {self.channels}")
            self.max_hidden = max(self.max_hidden, len(self.init["nodes"]) + 8)

    @property
    def layout(self) -> CPPNLayout:
        return CPPNLayout(self.max_hidden, self.channels)

    def params(self) -> dict:
        return dict(max_hidden=self.max_hidden, color_mode=self.color_mode, rates=vars(self.rates),
                    init=self.init is not None, coordinates=self.coordinates, render_side=self.render_side,
                    grown_start=self.grown_start)

    def random(self, n: int, generator: torch.Generator, device) -> torch.Tensor:
        if self.init is None:
            population = self.layout.initial(n, generator, device)
            for _ in range(self.grown_start):
                population = self.mutate(population, generator)[0]
            return population
        seed = dict_to_genome(self.init, self.layout).to(device)
        population = seed.expand(n, -1).clone()
        population[1:] = self.mutate(population[1:], generator)[0]
        return population

    def render(self, genomes: torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
        """The model's images, or with ``size`` the networks drawn at that size (every pixel evaluated)."""
        if size is not None:
            return render_population(genomes, self.layout, *size, self.color_mode, coordinates=self.coordinates)
        return render_for_model(genomes, self.layout, self.image_size, self.color_mode, self.coordinates,
                                self.render_side)

    def mutate(self, genomes: torch.Tensor, generator: torch.Generator):
        return mutate_cppn(genomes, self.layout, self.rates, generator)

    def connection_genes(self, genomes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(enabled, weight), each N x slots^2: the connection genes NEAT's speciation compares."""
        parts = self.layout.views(genomes)
        return parts["enabled"].flatten(1), parts["weight"].flatten(1)

    def to_dict(self, genome: torch.Tensor) -> dict:
        return dict(genome_to_dict(genome, self.layout, self.color_mode), coordinates=self.coordinates,
                    render_side=self.render_side)

    def local_space(self, genome: torch.Tensor):
        """Where a strategy searches around ``genome``: the weights of its enabled connections (its graph
        fixed), in units of ``LOCAL_WEIGHT_UNIT``, and the map back to packed genomes (weights clipped to
        the mutation's range). NEAT mutations explore graphs; a strategy then tunes one graph's weights."""
        positions = self.layout.views(genome[None])["enabled"][0].flatten().nonzero().squeeze(1)
        weights = genome[: self.layout.slots**2]
        limit = self.rates.weight_range

        def decode(vectors: torch.Tensor) -> torch.Tensor:
            rows = genome.expand(vectors.shape[0], -1).clone()
            rows[:, positions] = (vectors * LOCAL_WEIGHT_UNIT).clamp(-limit, limit)
            return rows

        return weights[positions] / LOCAL_WEIGHT_UNIT, decode


def render_genome(genome: dict, height: int, width: int | None = None, device=None,
                  for_model: bool = False) -> torch.Tensor:
    """Draw one genome dict (as saved in best.json) at any resolution: C x H x W in [0, 1]. ``for_model``
    draws it as the model saw it during the search (on the genome's ``render_side`` grid, upsampled)."""
    layout = CPPNLayout(max(1, len(genome["nodes"])), len(genome["outputs"]))
    row = dict_to_genome(genome, layout).to(device or "cpu")
    color_mode, coordinates = genome.get("color_mode", "rgb"), genome.get("coordinates", IDENTITY)
    if for_model:
        return render_for_model(row[None], layout, (height, width or height), color_mode, coordinates,
                                genome.get("render_side"))[0]
    return render_population(row[None], layout, height, width or height, color_mode, coordinates=coordinates)[0]


__all__ = ["render_genome", "CPPNEncoding", "CPPNLayout", "CPPNMutationRates", "GenomeError", "dict_to_genome", "genome_to_dict",
           "load_genome_dict", "render_population"]
