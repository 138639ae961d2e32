"""Variation and selection operators over a whole population tensor at once.

Each operator is the batched twin of a DEAP stock operator (same formulas, same parameters), working on
an N x ... tensor of genes with an explicit ``torch.Generator`` instead of Python's global ``random``;
``sel_best_distinct`` is ``selBest`` that keeps copies last.
Variation operators change the genes they are given in place where they can (as DEAP's change their
individuals) and return them with a boolean N-vector telling which rows changed, so that only those are
scored again.
"""

from __future__ import annotations

import math

import torch


def _uniform(like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.rand(like.shape, generator=generator, device=like.device, dtype=like.dtype)


_SHIFTS = 31 - torch.arange(32, dtype=torch.int32)
_SAME_WIDTH_INT = {2: torch.int16, 4: torch.int32, 8: torch.int64}


def coin_masks(n: int, generator=None, device=None) -> torch.Tensor:
    """n fair coin flips as int32 masks, all ones (heads) or all zeros, 32 flips per random 32-bit word.

    A generator call costs the same for one bit as for 64 on the CPU; each bit is shifted to the sign
    position and spread over its word by an arithmetic right shift.
    """
    words = torch.empty((n + 63) // 64, dtype=torch.int64, device=device).random_(-(2**63), None, generator=generator)
    return ((words.view(torch.int32)[:, None] << _SHIFTS.to(words.device)) >> 31).view(-1)[:n]


def bernoulli_sites(rows: int, length: int, p: float, generator=None, device=None) -> torch.Tensor:
    """Flat indices (row * length + column), ascending, of the cells of a rows x length grid chosen
    independently with probability p.

    Exactly a Bernoulli draw per cell, but sampled as geometric gaps between chosen cells, so the cost
    grows with the number chosen (p * rows * length), not with the grid: mutation at rate 0.1 draws a
    tenth of the random numbers a full mask would.
    """
    total = rows * length
    if p >= 1.0:
        return torch.arange(total, device=device)
    if p <= 0.0 or total == 0:
        return torch.empty(0, dtype=torch.long, device=device)
    mean = p * total
    width = int(mean + 6.0 * (mean * (1.0 - p)) ** 0.5 + 8)
    inv_log_q = 1.0 / math.log1p(-p)
    blocks, last = [], torch.full((1,), -1, dtype=torch.long, device=device)
    while int(last) < total:  # almost always one block; another only when the draws fall short
        u = torch.rand(width, generator=generator, device=device)
        # geometric: failures before a success, + 1 (long() truncates, which floors these positive values)
        gaps = u.neg_().log1p_().mul_(inv_log_q).add_(1.0).long()
        positions = gaps.cumsum_(0).add_(last)
        blocks.append(positions)
        last = positions[-1:]
    positions = torch.cat(blocks) if len(blocks) > 1 else blocks[0]
    return positions[: int(torch.searchsorted(positions, total))]


def _power(x: torch.Tensor, exponent: float) -> torch.Tensor:
    """x ** exponent for x > 0, new tensor. torch.pow, exp and log are slow on the CPU, so integer
    exponents go by repeated squaring and roots 1 / 2^k (eta 15 gives 1 / 16) by repeated square roots."""
    if float(exponent).is_integer() and 0 < exponent <= 64:
        k, result, base = int(exponent), None, x
        while k:
            if k & 1:
                result = base.clone() if result is None else result.mul_(base)
            k >>= 1
            if k:
                base = base * base
        return result
    roots = math.log2(1.0 / exponent) if 0 < exponent < 1 else 0.5
    if roots.is_integer() and roots <= 8:
        result = x.sqrt()
        for _ in range(int(roots) - 1):
            result.sqrt_()
        return result
    return torch.log(x).mul_(exponent).exp_()


def polynomial_step(x: torch.Tensor, rand: torch.Tensor, eta: float, low: float, up: float) -> torch.Tensor:
    """Deb's bounded polynomial mutation of the genes ``x`` given uniform draws ``rand`` (DEAP's formula).

    DEAP's two branches (rand < 0.5 moves towards ``low``, otherwise towards ``up``) are folded into one
    expression with a sign, which avoids masked selects (slow on the CPU); intermediate results are
    updated in place, since each full pass costs more than its arithmetic here. With
    r = min(rand, 1 - rand), t = 1 - 2r and xy = 1 - (distance to the bound moved towards) / span:
    val = 2r + t xy^(eta + 1) = 1 + t (xy^(eta + 1) - 1), step = sign * (val^(1 / (eta + 1)) - 1).
    """
    span = up - low
    centred = 0.5 - rand
    sign = centred.sign()  # +1: towards low
    t = centred.abs_().mul_(2.0)
    xy = ((up + low) / 2 - x).mul_(sign).div_(span).add_(0.5)
    val = _power(xy.clamp_min_(1e-30), eta + 1.0).sub_(1.0).mul_(t).add_(1.0)
    step = _power(val, 1.0 / (eta + 1.0)).sub_(1.0).mul_(sign)
    return torch.add(x, step, alpha=span).clamp_(low, up)


def mut_polynomial_bounded(genes, eta: float, indpb: float, low: float = 0.0, up: float = 1.0, generator=None,
                           where: torch.Tensor | None = None):
    """Bounded polynomial mutation (Deb), as ``deap.tools.mutPolynomialBounded``, on every row.

    Each gene mutates with probability ``indpb`` (only genes where ``where`` is true, when given);
    eta is the crowding degree (high eta, small steps). Contiguous ``genes`` are changed in place.
    Returns (mutated genes, changed rows).
    """
    n, length = genes.shape[0], genes[0].numel()
    sites = bernoulli_sites(n, length, indpb, generator, genes.device)
    if where is not None:
        sites = sites[where.reshape(-1)[sites]]
    out = genes.contiguous()
    flat = out.view(-1)
    x = flat.take(sites)
    flat.index_put_((sites,), polynomial_step(x, _uniform(x, generator), eta, low, up))
    return out, _rows_touched(sites, n, length)


def mut_polynomial_cells(genes, cells: torch.Tensor, count: int, eta: float, indpb: float, low: float = 0.0,
                         up: float = 1.0, generator=None):
    """Bounded polynomial mutation of whole cells: ``cells`` (one index in 0..count - 1 per gene of a row)
    groups genes, each cell of each row mutates with probability ``indpb``, and all its genes step with the
    cell's one uniform draw, so a cell whose genes are equal stays uniform (a coarse pixel).
    Contiguous ``genes`` are changed in place. Returns (mutated genes, changed rows)."""
    n = genes.shape[0]
    sites = bernoulli_sites(n, count, indpb, generator, genes.device)
    draws = torch.full((n * count,), -1.0, device=genes.device, dtype=genes.dtype)
    draws[sites] = torch.rand(len(sites), generator=generator, device=genes.device, dtype=genes.dtype)
    gene_draws = draws.view(n, count).index_select(1, cells).view(-1)
    moved = (gene_draws >= 0).nonzero().squeeze(1)
    out = genes.contiguous()
    flat = out.view(-1)
    flat.index_put_((moved,), polynomial_step(flat.take(moved), gene_draws.take(moved), eta, low, up))
    return out, _rows_touched(sites, n, count)


def _rows_touched(sites: torch.Tensor, n: int, length: int) -> torch.Tensor:
    """Which of n rows of ``length`` cells hold at least one of the ascending flat indices ``sites``."""
    bounds = torch.arange(0, (n + 1) * length, length, device=sites.device)
    counts = torch.searchsorted(sites, bounds).diff()
    return counts > 0


def cx_uniform(first, second, indpb: float = 0.5, generator=None):
    """Uniform crossover, as ``deap.tools.cxUniform``: each gene swaps between the two parents with prob indpb.

    Genes are swapped as bit patterns (x ^= (x ^ y) & mask), exactly and without masked selects, which
    are several times slower on the CPU. Changes both parents in place. Returns (child 1, child 2, changed pairs).
    """
    int_dtype = _SAME_WIDTH_INT[first.element_size()]
    if indpb == 0.5:
        swap = coin_masks(first.numel(), generator, first.device).view(first.shape).to(int_dtype)
    else:
        swap = (_uniform(first, generator) < indpb).to(int_dtype).neg_()
    return _swap(first, second, swap)


def cx_uniform_cells(first, second, cells: torch.Tensor, count: int, generator=None):
    """Uniform crossover of whole cells: ``cells`` (one index in 0..count - 1 per gene of a row) groups genes,
    and each cell's genes swap together with probability 0.5, as ``cx_uniform`` swaps one gene. Changes both
    parents in place. Returns (child 1, child 2, changed pairs)."""
    n = first.shape[0]
    int_dtype = _SAME_WIDTH_INT[first.element_size()]
    coins = coin_masks(n * count, generator, first.device).view(n, count)
    return _swap(first, second, coins.index_select(1, cells).view(first.shape).to(int_dtype))


def _swap(first, second, swap):
    """Swap the genes of ``first`` and ``second`` where the integer mask ``swap`` is all ones (bit patterns)."""
    int_dtype = swap.dtype
    a, b = first.view(int_dtype), second.view(int_dtype)
    diff = (a ^ b).bitwise_and_(swap)
    a ^= diff
    b ^= diff
    rows = diff.reshape(diff.shape[0], -1)
    changed = (rows.amax(1) != 0) | (rows.amin(1) != 0)  # max/min are vectorized, any() on integers is not
    return first, second, changed


def cx_simulated_binary_bounded(first, second, eta: float, low: float = 0.0, up: float = 1.0, generator=None):
    """Simulated binary crossover (Deb), as ``deap.tools.cxSimulatedBinaryBounded``, pair by pair.

    Each gene takes part with probability 0.5 (as in DEAP) when the parents differ there; only those
    genes are computed. Contiguous parents are changed in place. Returns (child 1, child 2, changed pairs).
    """
    n, length = first.shape[0], first[0].numel()
    new_first, new_second = first.contiguous(), second.contiguous()
    a, b = new_first.view(-1), new_second.view(-1)
    sites = bernoulli_sites(n, length, 0.5, generator, first.device)
    x1, x2 = a[sites], b[sites]
    differ = (x1 - x2).abs() > 1e-14
    sites, x1, x2 = sites[differ], x1[differ], x2[differ]
    x1, x2 = torch.minimum(x1, x2), torch.maximum(x1, x2)
    rand = _uniform(x1, generator)
    diff = x2 - x1

    def spread(beta):
        alpha = 2.0 - _power(beta, eta + 1.0).reciprocal()
        inner = torch.where(rand <= 1.0 / alpha, rand * alpha, 1.0 / (2.0 - rand * alpha))
        return _power(inner, 1.0 / (eta + 1.0))

    c1 = (0.5 * (x1 + x2 - spread(1.0 + 2.0 * (x1 - low) / diff) * diff)).clamp(low, up)
    c2 = (0.5 * (x1 + x2 + spread(1.0 + 2.0 * (up - x2) / diff) * diff)).clamp(low, up)
    flip = coin_masks(len(sites), generator, first.device).bool()  # DEAP hands the children back in random order
    a[sites] = torch.where(flip, c2, c1)
    b[sites] = torch.where(flip, c1, c2)
    return new_first, new_second, _rows_touched(sites, n, length)


def check_tournsize(tournsize) -> None:
    """A tournament size must be a whole number, 1 or more."""
    if isinstance(tournsize, bool) or not isinstance(tournsize, int) or tournsize < 1:
        raise ValueError(f"--tournsize must be a whole number >= 1, got {tournsize!r}")


def sel_tournament(fitness: torch.Tensor, k: int, tournsize: int, generator=None) -> torch.Tensor:
    """Tournament selection, as ``deap.tools.selTournament``: indices of the k winners of k tournaments."""
    entrants = torch.randint(fitness.shape[0], (k, tournsize), generator=generator, device=fitness.device)
    winners = fitness.take(entrants).argmax(1)
    return entrants.gather(1, winners[:, None]).squeeze(1)


def sel_best(fitness: torch.Tensor, k: int) -> torch.Tensor:
    """Truncation, as ``deap.tools.selBest``: indices of the k fittest, best first."""
    return fitness.topk(k).indices


def sel_best_distinct(fitness: torch.Tensor, k: int) -> torch.Tensor:
    """Truncation that fills the k places with distinct fitness values before any repeat: indices of the
    fittest value-by-value, then of the copies, each part best first.

    A repeated fitness almost always means a repeated image: a child whose mutation did not change its
    picture (a CPPN's change in a part that does not reach the output) keeps its parent's fitness. Under plain
    truncation such copies of the best crowd out everything else (the GA's CPPNs on a held-out Fashion-MNIST
    CNN: 16 distinct values in a population of 128 at generation 40). Copies still fill the places that
    distinct values leave free.
    """
    order = fitness.argsort(descending=True, stable=True)  # of equal values, the parent (first) is kept
    ranked = fitness[order]
    repeat = torch.zeros_like(ranked, dtype=torch.bool)
    repeat[1:] = ranked[1:] == ranked[:-1]
    first_copies, repeats = order[~repeat], order[repeat]
    return torch.cat([first_copies, repeats])[:k]
