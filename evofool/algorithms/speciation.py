"""NEAT's speciation for the (mu + lambda) GA over CPPN genomes: several lineages kept apart.

Without it the CPPN GA's population collapses onto one lineage within ~20 generations (the images are near
copies), and a run whose lineage climbs slowly stays slow. As in NEAT (Stanley & Miikkulainen, 2002),
genomes fall into species by a compatibility distance over their connection genes; each species is given
a share of the offspring and keeps its best members, so that a new structure has time to tune its weights
before it competes with the whole population; a species that has not improved for ``stagnation``
generations loses both, unless it holds the best genome.

Registered in a toolbox as ``species`` (this object), ``select`` and ``survive`` (its methods); the loop
calls ``assign`` with the population at the start and with parents + children before every survival.
"""

from __future__ import annotations

from typing import Callable

import torch

from .ga import placement
from .operators import sel_best_distinct, sel_tournament


def check_species(count) -> None:
    """Refuse, in one line, a species count that is not a whole number >= 0 (0: no speciation)."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"species must be a whole number >= 0 (0: none), got {count!r}")


def compatibility(enabled: torch.Tensor, weight: torch.Tensor, ref_enabled: torch.Tensor, ref_weight: torch.Tensor,
                  weight_coefficient: float) -> torch.Tensor:
    """NEAT's distance of N genomes to K reference genomes (N x K): connections present in only one of the
    two, plus ``weight_coefficient`` times the mean absolute weight difference over those in both.

    Genes are matched by their place in the packed genome (a connection between the same two node slots),
    which stands in for NEAT's innovation numbers. Only places some genome uses are compared (a CPPN uses a
    few dozen of its slots^2)."""
    used = (enabled.any(0) | ref_enabled.any(0)).nonzero().squeeze(1)
    enabled, weight = enabled[:, used], weight[:, used]
    ref_enabled, ref_weight = ref_enabled[:, used], ref_weight[:, used]
    shared = enabled[:, None, :] * ref_enabled[None, :, :]
    matching = shared.sum(2)
    disjoint = enabled.sum(1)[:, None] + ref_enabled.sum(1)[None, :] - 2 * matching
    difference = ((weight[:, None, :] - ref_weight[None, :, :]).abs() * shared).sum(2) / matching.clamp(min=1)
    return disjoint + weight_coefficient * difference


class Speciation:
    """Species of a GA population, their offspring shares and their protected members.

    Pseudocode, per generation::

        live      = species improved within `stagnation` generations, or holding the best genome
        parents   = for each live species, share * lambda / |live| tournament winners among its members;
                    the rest tournament winners over the whole population
        children  = vary(parents), scored
        assign(parents + children): each joins the species of its nearest representative within the
                    threshold, or founds one (fittest first); representatives become each species' best
        survivors = the best `keep` members of each live species, then the best of the rest (both by `truncate`)

    The threshold starts where the first population falls into ``target`` species and moves by 5% a
    generation toward that count (within a factor 4 of its start). ``genes(genomes)`` gives the connection
    genes (enabled, weight), each N x C; ``truncate(fitness, k)`` the k best indices (the GA's own truncation,
    ``sel_best_distinct`` by default: distinct values before copies).
    """

    def __init__(self, genes: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]], generator=None,
                 target: int = 6, share: float = 0.5, keep: int = 2, weight_coefficient: float = 0.5,
                 stagnation: int = 20, tournsize: int = 2,
                 truncate: Callable[[torch.Tensor, int], torch.Tensor] = sel_best_distinct):
        self.genes, self.generator, self.truncate = genes, generator, truncate
        self.target, self.share, self.keep = target, share, keep
        self.weight_coefficient, self.stagnation, self.tournsize = weight_coefficient, stagnation, tournsize
        self.threshold = self.start_threshold = None
        self.representatives = None  # one genome a species
        self.best = torch.empty(0)  # per species: its best fitness so far
        self.stale = torch.empty(0, dtype=torch.long)  # per species: generations since that improved
        self.members = None  # the species of each population row
        self.pool = None  # the species of each row of the last pool assigned

    def assign(self, genomes: torch.Tensor, fitness: torch.Tensor) -> None:
        """Put every row of ``genomes`` into a species; the first call (the initial population) also
        sets the threshold, and its species are the population's."""
        enabled, weight = self.genes(genomes)
        first = self.threshold is None
        if first:
            self.threshold = self.start_threshold = self._threshold_for(enabled, weight, fitness)
        species = torch.full((genomes.shape[0],), -1, dtype=torch.long, device=genomes.device)
        if self.representatives is not None:
            ref_enabled, ref_weight = self.genes(self.representatives)
            nearest, index = self._distance(enabled, weight, ref_enabled, ref_weight).min(1)
            close = nearest < self.threshold
            species[close] = index[close]
        known = count = 0 if self.representatives is None else len(self.representatives)
        order = fitness.argsort(descending=True)
        while bool((species < 0).any()):  # the fittest unplaced genome founds a species
            founder = order[species[order] < 0][0]
            near = self._distance(enabled, weight, enabled[founder, None], weight[founder, None])[:, 0]
            species[(species < 0) & (near < self.threshold)] = count
            species[founder] = count
            count += 1
        species = self._renumber(species, count, count - known)
        self._nudge_threshold(len(self.best))
        self._update_representatives(genomes, fitness, species)
        self.pool = species
        if first:
            self.members = species

    def select(self, fitness: torch.Tensor, k: int) -> torch.Tensor:
        """k parent indices: each live species' share by tournaments among its members, the rest over all."""
        live = self._live(self.members, fitness)
        each = int(self.share * k) // len(live)
        chosen = []
        for s in live:
            members = (self.members == s).nonzero().squeeze(1)
            chosen.append(members[sel_tournament(fitness[members], each, self.tournsize, self.generator)])
        chosen.append(sel_tournament(fitness, k - each * len(live), self.tournsize, self.generator))
        return torch.cat(chosen)

    def survive(self, fitness: torch.Tensor, mu: int) -> torch.Tensor:
        """mu indices into the pool last assigned: each live species' best ``keep``, then the best of the rest."""
        protected = []
        for s in self._live(self.pool, fitness):
            members = (self.pool == s).nonzero().squeeze(1)
            protected.append(members[self.truncate(fitness[members], min(self.keep, len(members)))])
        protected = torch.cat(protected)[:mu]
        others = torch.ones(len(fitness), dtype=torch.bool, device=fitness.device)
        others[protected] = False
        others = others.nonzero().squeeze(1)
        survivors = torch.cat([protected, others[self.truncate(fitness[others], mu - len(protected))]])
        self.members = self._placed(survivors, mu)
        return survivors

    def state(self) -> dict:
        """What a checkpoint keeps, so that a resumed run goes on exactly."""
        return dict(threshold=self.threshold, start_threshold=self.start_threshold,
                    representatives=self.representatives, best=self.best, stale=self.stale, members=self.members)

    def load_state(self, state: dict) -> None:
        for name in ("threshold", "start_threshold", "representatives", "best", "stale", "members"):
            setattr(self, name, state[name])

    def _distance(self, enabled, weight, ref_enabled, ref_weight):
        return compatibility(enabled, weight, ref_enabled, ref_weight, self.weight_coefficient)

    def _threshold_for(self, enabled, weight, fitness) -> float:
        """The threshold (by bisection, on a log scale) at which these genomes form at most ``target`` species."""
        distance = self._distance(enabled, weight, enabled, weight)
        order = fitness.argsort(descending=True)

        def count(threshold):
            free, founded = torch.ones(len(order), dtype=torch.bool, device=order.device), 0
            while bool(free.any()):
                founder = order[free[order]][0]
                free &= distance[founder] >= threshold
                free[founder] = False
                founded += 1
            return founded

        low, high = 0.1, 1000.0
        for _ in range(30):
            middle = (low * high) ** 0.5
            low, high = (middle, high) if count(middle) > self.target else (low, middle)
        return high

    def _renumber(self, species, count, founded):
        """Drop the species left empty, number the rest 0.., and extend the per-species records for new ones."""
        present = torch.zeros(count, dtype=torch.bool, device=species.device)
        present[species] = True
        self.best = torch.cat([self.best.to(species.device), torch.full((founded,), -1.0, device=species.device)])
        self.stale = torch.cat([self.stale.to(species.device),
                                torch.zeros(founded, dtype=torch.long, device=species.device)])
        self.best, self.stale = self.best[present], self.stale[present]
        return (present.long().cumsum(0) - 1)[species]

    def _nudge_threshold(self, count):
        """5% toward ``target`` species, within a factor 4 of the starting threshold."""
        step = 1.05 if count > self.target else 1 / 1.05 if count < self.target else 1.0
        self.threshold = min(4 * self.start_threshold, max(self.start_threshold / 4, self.threshold * step))

    def _update_representatives(self, genomes, fitness, species):
        """Each species' fittest member represents it; its best fitness and staleness are updated."""
        count = len(self.best)
        top = torch.stack([(species == s).nonzero().squeeze(1)[fitness[species == s].argmax()] for s in range(count)])
        self.representatives = genomes[top].clone()
        improved = fitness[top] > self.best
        self.best = torch.where(improved, fitness[top], self.best)
        self.stale = torch.where(improved, torch.zeros_like(self.stale), self.stale + 1)

    def _live(self, species, fitness):
        """Species that still get offspring and protection: improved lately, or holding the best genome."""
        leader = int(species[fitness.argmax()])
        present = torch.zeros(len(self.best), dtype=torch.bool, device=species.device)
        present[species] = True
        live = present & (self.stale < self.stagnation)
        live[leader] = True
        return live.nonzero().squeeze(1).tolist()

    def _placed(self, survivors, mu):
        """The species of each population row once the loop has put the survivors in place."""
        slots, newcomers = placement(survivors, mu, len(self.pool))
        members = self.pool[:mu].clone()
        members[slots] = self.pool[mu + newcomers]
        return members
