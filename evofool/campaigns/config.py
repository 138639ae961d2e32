"""A campaign's configuration: what campaign.json holds, and the checks that refuse a bad one in one line."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..algorithms.map_elites import check_parent_draw
from ..algorithms.operators import check_tournsize
from ..algorithms.speciation import check_species
from ..classifiers import BACKENDS, PRECISIONS
from ..encodings.cppn import check_grown_start, check_new_node_wiring, check_weight_ranges
from ..encodings.cppn.render import check_color_mode, check_render_side
from ..encodings.direct import check_refine_after

ALGORITHMS = ("map-elites", "per-class")
EXECUTORS = ("loky", "dask")


@dataclass
class CampaignConfig:
    model: str
    encoding: str = "cppn"
    algorithm: str = "map-elites"
    classes: list[str] | str = "all"
    generations: int = 100
    pop: int = 64
    seeds: list[int] = field(default_factory=lambda: [0])
    checkpoint_every: int = 10
    target_confidence: float = 0.9999
    compile: bool = False  # score through torch.compile (see Classifier.compile)
    budget: int | None = None  # model evaluations per job
    search: str | None = None  # per-class jobs: evolve's algorithm (None: its default for the encoding)
    emitters: int = 0  # map-elites: strategy emitters beside the parent draw
    parents: str | None = None  # map-elites: how parents are drawn (a new campaign stores the default it used)
    genome_size: int | None = None
    upsample: str | None = None
    refine_after: int | None = None  # per-class direct jobs: generations on the grid's cells, 0 never (stored)
    tournsize: int | None = None  # per-class direct GA jobs: the tournament size (stored)
    render_side: int | None = None  # cppn: the grid it is drawn on (a new campaign stores the default it used)
    color_mode: str | None = None  # cppn: how its outputs make a colour (a new campaign stores the default it used)
    grown_start: int | None = None  # per-class cppn jobs: mutation rounds that grow each new genome (stored, too)
    new_weight_range: float | None = None  # per-class cppn jobs: +-range of a new connection's weight (stored, too)
    split_weight_range: float | None = None  # per-class cppn jobs: that of a new node's incoming weight (stored, too)
    new_node_inputs: float | None = None  # per-class cppn jobs: chance a new node is wired from each input (stored)
    new_node_outputs: float | None = None  # per-class cppn jobs: and to each output (stored)
    distinct_survivors: bool | None = None  # per-class cppn jobs: distinct fitness values survive first (stored)
    species: int | None = None  # per-class cppn jobs: NEAT species kept apart, 0 none (stored)
    jobs: int = 1  # how it was run, so that a resume runs it the same way
    executor: str = "loky"
    labels: str | None = None  # labels file of a model file
    backend: str = "auto"  # what scores; a new campaign stores the backend auto picked, so every job uses it
    precision: str = "fp32"

    def validate(self):
        from ..defaults import GA_CPPN_DEFAULTS
        from ..evolve import ALGORITHMS as SEARCHES

        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {self.algorithm!r}; choose from {', '.join(ALGORITHMS)}")
        if self.pop < 2 or self.generations < 1 or not self.seeds:
            raise ValueError("population must be at least 2, generations at least 1, and one seed given")
        if self.checkpoint_every < 1:
            raise ValueError(f"--checkpoint-every must be at least 1, got {self.checkpoint_every}")
        if self.jobs < 1 or self.executor not in EXECUTORS:
            raise ValueError(f"--jobs must be at least 1 and --executor one of {', '.join(EXECUTORS)}")
        if self.backend not in BACKENDS or self.precision not in PRECISIONS:
            raise ValueError(f"--backend must be one of {', '.join(BACKENDS)} and --precision one of "
                             f"{', '.join(PRECISIONS)}")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds {self.seeds} repeat: each seed would run the same job twice")
        if self.budget is not None and self.budget < self.pop:
            raise ValueError(f"the budget ({self.budget} evaluations) must cover at least one population ({self.pop})")
        if self.search is not None and self.search not in SEARCHES:
            raise ValueError(f"unknown search {self.search!r}; choose one of {', '.join(SEARCHES)}")
        if self.genome_size is not None and self.encoding.startswith("cppn"):
            raise ValueError("--genome-size sizes the direct and dct genomes; a CPPN draws at any size")
        if self.upsample is not None and self.encoding != "direct":
            raise ValueError(f"--upsample enlarges the direct encoding's pixels; the {self.encoding} encoding has none")
        if self.refine_after is not None:
            check_refine_after(self.refine_after)
        if self.tournsize is not None:
            check_tournsize(self.tournsize)
        if (self.refine_after or self.tournsize is not None) and (self.algorithm, self.encoding) != ("per-class",
                                                                                                   "direct"):
            raise ValueError("--refine-after and --tournsize set the per-class GA's direct search")
        if self.render_side is not None and not self.encoding.startswith("cppn"):
            raise ValueError(f"--render-side sets the grid a CPPN is drawn on; the {self.encoding} encoding has none")
        check_render_side(self.render_side)
        if self.color_mode is not None and self.encoding != "cppn":
            raise ValueError(f"--color-mode sets how a CPPN's outputs make a colour; the {self.encoding} encoding has none")
        if self.color_mode is not None:
            check_color_mode(self.color_mode)
        if self.emitters < 0:
            raise ValueError(f"--emitters must be 0 or more, got {self.emitters}")
        if self.parents is not None:
            check_parent_draw(self.parents)
        if self.grown_start is not None:
            check_grown_start(self.grown_start)
        check_weight_ranges(self.new_weight_range, self.split_weight_range)
        check_new_node_wiring(self.new_node_inputs, self.new_node_outputs)
        if self.distinct_survivors is not None and not isinstance(self.distinct_survivors, bool):
            raise ValueError(f"distinct_survivors is true or false, got {self.distinct_survivors!r}")
        if self.species is not None:
            check_species(self.species)
        ga_cppn = [name for name in GA_CPPN_DEFAULTS if getattr(self, name) is not None]
        if ga_cppn and (self.encoding != "cppn" or self.algorithm != "per-class"):
            raise ValueError(f"{' and '.join(ga_cppn)} set how the GA evolves the CPPNs of per-class jobs; "
                             f"{self.algorithm} jobs on the {self.encoding} encoding have none")
        if self.parents is not None and self.algorithm != "map-elites":
            raise ValueError("--parents sets how MAP-Elites draws parents from its archive; per-class jobs have none")
