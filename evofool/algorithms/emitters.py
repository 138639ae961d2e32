"""Strategy emitters for MAP-Elites (after CMA-ME, Fontaine et al. 2020): each emitter runs an evolution
strategy toward improving one cell of the archive, then moves on to another.

An emitter starts on a cell still below ``target``, with its strategy centred on that cell's elite in the
encoding's local space (``encoding.local_space``: genes in logit space, as ``evolve`` runs strategies, or a
CPPN's connection weights with its graph fixed). With ``objective="cell"`` it ranks its samples by their
probability of that cell's class, and leaves the cell once the elite reaches ``target`` or when
``patience`` generations pass without the elite improving. With ``objective="improvement"`` (CMA-ME's
improvement emitter) it ranks them by how much they would raise the whole archive, the sum over cells of
max(0, log p - log elite), and restarts from another elite after ``patience`` generations in which no
sample improved any cell. Either way its samples compete for every cell: the loop puts them in the
archive like any child.
"""

from __future__ import annotations

import torch

from .strategies import make_strategy

OBJECTIVES = ("cell", "improvement")


class StrategyEmitters:
    """``count`` emitters of ``lambda_`` samples each, searching around elites of ``encoding``."""

    def __init__(self, count: int, lambda_: int, encoding, algorithm: str, sigma: float,
                 generator: torch.Generator, target: float = 0.99, patience: int = 20, objective: str = "cell"):
        if count < 1:
            raise ValueError(f"emitters must be at least 1, got {count}")
        if objective not in OBJECTIVES:
            raise ValueError(f"unknown emitter objective {objective!r}; choose one of {', '.join(OBJECTIVES)}")
        self.count, self.lambda_, self.encoding, self.generator = count, lambda_, encoding, generator
        self.algorithm, self.sigma = algorithm, sigma
        self.target, self.patience, self.objective = target, patience, objective
        self.strategies, self.decoders = [None] * count, [None] * count
        self.origins = [None] * count  # the elite each emitter started from: its space, and its resume
        self.cells = [-1] * count  # the archive row each emitter improves; -1: not started
        self.best = [float("-inf")] * count
        self.stalled = [0] * count

    @property
    def batch(self) -> int:
        return self.count * self.lambda_

    def ask(self, archive_genomes: torch.Tensor, archive_confidence: torch.Tensor) -> torch.Tensor:
        """The emitters' samples as genomes, count * lambda_ of them (emitters without a cell get one)."""
        for k, cell in enumerate(self.cells):
            if cell < 0:
                self._start(k, archive_genomes, archive_confidence)
        self._vectors = [strategy.generate() for strategy in self.strategies]
        return torch.cat([decode(vectors) for decode, vectors in zip(self.decoders, self._vectors)])

    def tell(self, scores: torch.Tensor, before: torch.Tensor, after: torch.Tensor) -> None:
        """Update each strategy with its samples' scores (``scores``: batch x cells); ``before`` and ``after``
        are the archive's confidences before and after this batch. Emitters whose cell reached the target,
        or that stalled, give their cell up."""
        gains = (scores.clamp_min(1e-30).log() - before.clamp_min(1e-30).log()).clamp_min(0).sum(1)
        for k, strategy in enumerate(self.strategies):
            rows, cell = slice(k * self.lambda_, (k + 1) * self.lambda_), self.cells[k]
            if self.objective == "cell":
                fitness, elite = scores[rows, cell], after[cell].item()
                improved, done = elite > self.best[k], elite >= self.target
                self.best[k] = max(self.best[k], elite)
            else:
                fitness = gains[rows]
                improved, done = bool(fitness.max() > 0), False
            strategy.update(self._vectors[k], fitness)
            self.stalled[k] = 0 if improved else self.stalled[k] + 1
            if done or self.stalled[k] >= self.patience:
                self.cells[k] = -1

    def _start(self, k: int, archive_genomes: torch.Tensor, archive_confidence: torch.Tensor) -> None:
        """Point emitter k at a random cell below the target (any cell when all are there), from its elite."""
        open_cells = (archive_confidence < self.target).nonzero().squeeze(1)
        taken = torch.tensor([c for c in self.cells if c >= 0], dtype=torch.long, device=open_cells.device)
        free = open_cells[~torch.isin(open_cells, taken)] if len(taken) else open_cells
        pool = free if len(free) else torch.arange(len(archive_confidence), device=archive_confidence.device)
        cell = int(pool[torch.randint(len(pool), (1,), generator=self.generator, device=pool.device)])
        self._aim(k, archive_genomes[cell].clone())
        self.cells[k], self.best[k], self.stalled[k] = cell, archive_confidence[cell].item(), 0

    def _aim(self, k: int, origin: torch.Tensor) -> None:
        """A fresh strategy for emitter k in the local space around ``origin``."""
        start, self.decoders[k] = self.encoding.local_space(origin)
        self.strategies[k] = make_strategy(self.algorithm, start, self.sigma, self.lambda_, self.generator)
        self.origins[k] = origin

    def state(self) -> dict:
        return dict(cells=list(self.cells), best=list(self.best), stalled=list(self.stalled), origins=self.origins,
                    strategies=[s.state() if s is not None else None for s in self.strategies])

    def load_state(self, state: dict) -> None:
        if "origins" not in state:  # saved before emitters kept their origin: each starts on a new cell
            return
        self.cells, self.best, self.stalled = list(state["cells"]), list(state["best"]), list(state["stalled"])
        for k, (origin, saved) in enumerate(zip(state["origins"], state["strategies"])):
            if origin is not None:
                self._aim(k, origin)
                self.strategies[k].load_state(saved)
