"""Variation and selection operators over a whole population tensor at once.

Each operator is the batched twin of a DEAP stock operator (same formulas, same parameters), working on
an N x ... tensor of genes with an explicit ``torch.Generator`` instead of Python's global ``random``.
Variation operators return the new genes and a boolean N-vector telling which rows changed, so that only
those are scored again.
"""

from __future__ import annotations

import torch


def _uniform(like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.rand(like.shape, generator=generator, device=like.device, dtype=like.dtype)


def polynomial_step(x: torch.Tensor, rand: torch.Tensor, eta: float, low: float, up: float) -> torch.Tensor:
    """Deb's bounded polynomial mutation of the genes ``x`` given uniform draws ``rand`` (the formula of DEAP)."""
    span = up - low
    mut_pow = 1.0 / (eta + 1.0)
    lower = rand < 0.5
    xy = torch.where(lower, 1.0 - (x - low) / span, 1.0 - (up - x) / span)
    val = torch.where(
        lower,
        2.0 * rand + (1.0 - 2.0 * rand) * xy.pow(eta + 1.0),
        2.0 * (1.0 - rand) + 2.0 * (rand - 0.5) * xy.pow(eta + 1.0),
    )
    delta_q = torch.where(lower, val.pow(mut_pow) - 1.0, 1.0 - val.pow(mut_pow))
    return (x + delta_q * span).clamp(low, up)


def mut_polynomial_bounded(genes, eta: float, indpb: float, low: float = 0.0, up: float = 1.0, generator=None,
                           where: torch.Tensor | None = None):
    """Bounded polynomial mutation (Deb), as ``deap.tools.mutPolynomialBounded``, on every row.

    Each gene mutates with probability ``indpb`` (only genes where ``where`` is true, when given);
    eta is the crowding degree (high eta, small steps). Returns (mutated genes, changed rows).
    """
    flat = genes.reshape(genes.shape[0], -1)
    mask = _uniform(flat, generator) < indpb
    if where is not None:
        mask &= where.reshape(mask.shape)
    rows, cols = mask.nonzero(as_tuple=True)
    x = flat[rows, cols]
    out = flat.clone()
    out[rows, cols] = polynomial_step(x, _uniform(x, generator), eta, low, up)
    return out.view_as(genes), mask.any(1)


def cx_uniform(first, second, indpb: float, generator=None):
    """Uniform crossover, as ``deap.tools.cxUniform``: each gene swaps between the two parents with prob indpb.

    Returns (child 1, child 2, changed pairs).
    """
    swap = _uniform(first, generator) < indpb
    changed = swap.reshape(swap.shape[0], -1).any(1)
    return torch.where(swap, second, first), torch.where(swap, first, second), changed


def cx_simulated_binary_bounded(first, second, eta: float, low: float = 0.0, up: float = 1.0, generator=None):
    """Simulated binary crossover (Deb), as ``deap.tools.cxSimulatedBinaryBounded``, pair by pair.

    Each gene takes part with probability 0.5 (as in DEAP) when the parents differ there.
    Returns (child 1, child 2, changed pairs).
    """
    take = (_uniform(first, generator) <= 0.5) & ((first - second).abs() > 1e-14)
    x1, x2 = torch.minimum(first, second), torch.maximum(first, second)
    rand = _uniform(first, generator)
    diff = (x2 - x1).clamp_min(1e-14)

    def child(beta_base):
        alpha = 2.0 - beta_base.pow(-(eta + 1.0))
        beta_q = torch.where(
            rand <= 1.0 / alpha,
            (rand * alpha).pow(1.0 / (eta + 1.0)),
            (1.0 / (2.0 - rand * alpha)).pow(1.0 / (eta + 1.0)),
        )
        return beta_q

    beta_q1 = child(1.0 + 2.0 * (x1 - low) / diff)
    c1 = 0.5 * (x1 + x2 - beta_q1 * (x2 - x1))
    beta_q2 = child(1.0 + 2.0 * (up - x2) / diff)
    c2 = 0.5 * (x1 + x2 + beta_q2 * (x2 - x1))
    c1, c2 = c1.clamp(low, up), c2.clamp(low, up)
    flip = _uniform(first, generator) <= 0.5  # DEAP hands the children back in random order
    new_first = torch.where(take, torch.where(flip, c2, c1), first)
    new_second = torch.where(take, torch.where(flip, c1, c2), second)
    changed = take.reshape(take.shape[0], -1).any(1)
    return new_first, new_second, changed


def sel_tournament(fitness: torch.Tensor, k: int, tournsize: int, generator=None) -> torch.Tensor:
    """Tournament selection, as ``deap.tools.selTournament``: indices of the k winners of k tournaments."""
    entrants = torch.randint(fitness.shape[0], (k, tournsize), generator=generator, device=fitness.device)
    winners = fitness[entrants].argmax(1)
    return entrants.gather(1, winners[:, None]).squeeze(1)


def sel_best(fitness: torch.Tensor, k: int) -> torch.Tensor:
    """Truncation, as ``deap.tools.selBest``: indices of the k fittest, best first."""
    return fitness.topk(k).indices
