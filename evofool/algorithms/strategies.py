"""Evolution strategies in DEAP's ask/tell form, over tensors.

A strategy holds a search distribution over genomes in R^d. ``generate()`` samples a lambda x d tensor
from it and ``update(population, fitness)`` moves it toward the fitter samples, the interface of
``deap.cma.Strategy`` that ``deap.algorithms.eaGenerateUpdate`` drives; here the population is one tensor
and every step is a batched tensor operation. ``restart(centroid)`` puts the distribution back to its
initial step sizes around ``centroid`` (the loop calls it when progress stalls); ``centroid()`` gives the
distribution's mean, which the loop can score beside the samples. ``state()`` and
``load_state()`` make a run resumable bit for bit.

Only fitness *ranks* reach the updates (rank-based shaping in SNES, rank weights in CMA-ES), so a
probability, its logarithm and any other increasing function of it drive a strategy identically.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from deap import cma

STRATEGIES = ("snes", "sep-cma", "cma")


def _ranks(fitness: torch.Tensor) -> torch.Tensor:
    """1 for the fittest sample, lambda for the least fit (ties broken by position)."""
    n = fitness.shape[0]
    ranks = torch.empty(n, dtype=torch.long, device=fitness.device)
    ranks[fitness.argsort(descending=True, stable=True)] = torch.arange(1, n + 1, device=fitness.device)
    return ranks


def rank_utilities(fitness: torch.Tensor) -> torch.Tensor:
    """NES fitness shaping: utility max(0, log(lambda/2 + 1) - log(rank)), normalized, minus 1/lambda.

    The best sample gets the largest utility, the worse half a small negative one; the utilities sum to zero.
    """
    n = fitness.shape[0]
    raw = (math.log(n / 2 + 1) - _ranks(fitness).double().log()).clamp(min=0)
    return (raw / raw.sum() - 1 / n).to(fitness.dtype)


def centered_ranks(fitness: torch.Tensor) -> torch.Tensor:
    """Fitness shaping by centred ranks (Salimans et al. 2017): evenly spaced from 0.5 (best) to -0.5
    (worst), divided by lambda. Every sample counts, so a mirrored pair always adds its difference."""
    n = fitness.shape[0]
    return ((n - _ranks(fitness)).to(fitness.dtype) / (n - 1) - 0.5) / n


SHAPINGS = {"nes": rank_utilities, "centered": centered_ranks}


def _check_settings(sigma: float, lambda_: int) -> None:
    """Refuse a step size or population no strategy can run with."""
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    if lambda_ < 2:
        raise ValueError(f"a strategy needs a population of at least 2, got {lambda_}")


def _mirrored_noise(lambda_: int, dim: int, generator, device) -> torch.Tensor:
    """lambda x d standard normal draws in antithetic pairs (s, -s): halves the variance of the estimates."""
    half = torch.randn(lambda_ // 2, dim, generator=generator, device=device)
    extra = [torch.randn(1, dim, generator=generator, device=device)] if lambda_ % 2 else []
    return torch.cat([half, -half, *extra])


class SNES:
    """Separable natural evolution strategy (Schaul, Glasmachers & Schmidhuber 2011), mirrored sampling.

    The distribution is N(mean, diag(sigma^2)): one step size per gene. With utilities u from the ranks,
    the natural gradients are g_mean = sum u s and g_sigma = sum u (s^2 - 1) over the standardized samples
    s; sigma grows along genes where wide samples did well and shrinks where they did not (``lr_sigma`` 0
    keeps it fixed). The mean moves by ``lr_mean * sigma * g_mean`` (the natural step), or, with
    ``adam=True``, by Adam on that step (times sigma / sigma0), which keeps moving at a steady pace in
    hundreds of dimensions where the natural step is noisy. ``shaping`` is "nes" (the log-rank utilities
    of the NES papers) or "centered" (evenly spaced ranks, as OpenAI's ES).
    """

    def __init__(self, centroid: torch.Tensor, sigma: float, lambda_: int, generator: torch.Generator,
                 lr_mean: float = 1.0, lr_sigma: float | None = None, adam: bool = False, adam_lr: float = 0.1,
                 shaping: str = "nes"):
        _check_settings(sigma, lambda_)
        dim = centroid.numel()
        self.dim, self.lambda_, self.generator, self.sigma0 = dim, lambda_, generator, sigma
        if shaping not in SHAPINGS:
            raise ValueError(f"unknown fitness shaping {shaping!r}; choose one of {', '.join(SHAPINGS)}")
        self.lr_mean, self.adam, self.adam_lr, self.shape_fitness = lr_mean, adam, adam_lr, SHAPINGS[shaping]
        self.lr_sigma = (3 + math.log(dim)) / (5 * math.sqrt(dim)) if lr_sigma is None else lr_sigma
        self.restart(centroid)

    def restart(self, centroid: torch.Tensor) -> None:
        self.mean = centroid.reshape(-1).clone().float()
        self.sigma = torch.full_like(self.mean, self.sigma0)
        self.moments = torch.zeros(2, self.dim, device=self.mean.device)
        self.steps = 0
        self._noise = None

    def generate(self) -> torch.Tensor:
        self._noise = _mirrored_noise(self.lambda_, self.dim, self.generator, self.mean.device)
        return self.mean + self.sigma * self._noise

    def centroid(self) -> torch.Tensor:
        return self.mean.clone()

    def update(self, population: torch.Tensor, fitness: torch.Tensor) -> None:
        noise = self._noise if self._noise is not None else (population - self.mean) / self.sigma
        utilities = self.shape_fitness(fitness).to(noise.dtype)
        grad_mean = utilities @ noise
        grad_sigma = utilities @ (noise * noise - 1)
        if self.adam:  # Adam's step has a fixed size; scaled by the step sizes' shrinkage, it can still converge
            self.mean += (self.sigma / self.sigma0) * self._adam_step(grad_mean * self.sigma)
        else:
            self.mean += self.lr_mean * self.sigma * grad_mean
        self.sigma *= torch.exp(0.5 * self.lr_sigma * grad_sigma)
        self._noise = None

    def _adam_step(self, gradient: torch.Tensor, beta1: float = 0.9, beta2: float = 0.999) -> torch.Tensor:
        first, second = self.moments
        self.steps += 1
        first.mul_(beta1).add_(gradient, alpha=1 - beta1)
        second.mul_(beta2).addcmul_(gradient, gradient, value=1 - beta2)
        corrected = first / (1 - beta1**self.steps)
        return self.adam_lr * corrected / ((second / (1 - beta2**self.steps)).sqrt() + 1e-8)

    def state(self) -> dict:
        return dict(mean=self.mean, sigma=self.sigma, moments=self.moments, steps=self.steps)

    def load_state(self, state: dict) -> None:
        self.mean, self.sigma, self.moments = state["mean"].clone(), state["sigma"].clone(), state["moments"].clone()
        self.steps = state["steps"]


class SepCMAES:
    """Separable (diagonal) CMA-ES (Ros & Hansen 2008): CMA-ES with a diagonal covariance, O(d) per sample.

    The standard (mu/mu_w, lambda) update: weighted recombination of the best half, cumulative step-size
    adaptation on the conjugate path, rank-one and rank-mu updates of the diagonal covariance, whose learning
    rates are raised by (d + 2) / 3 as the diagonal model has only d parameters. Samples are mirrored.
    """

    def __init__(self, centroid: torch.Tensor, sigma: float, lambda_: int, generator: torch.Generator):
        _check_settings(sigma, lambda_)
        n = centroid.numel()
        self.dim, self.lambda_, self.generator, self.sigma0 = n, lambda_, generator, sigma
        mu = lambda_ // 2
        weights = math.log(mu + 0.5) - torch.arange(1, mu + 1, dtype=torch.float64).log()
        self.weights = (weights / weights.sum()).float().to(centroid.device)
        self.mueff = float(1 / (self.weights.double() ** 2).sum())
        self.cs = (self.mueff + 2) / (n + self.mueff + 5)
        self.damps = 1 + 2 * max(0.0, math.sqrt((self.mueff - 1) / (n + 1)) - 1) + self.cs
        self.cc = (4 + self.mueff / n) / (n + 4 + 2 * self.mueff / n)
        c1 = 2 / ((n + 1.3) ** 2 + self.mueff)
        cmu = min(1 - c1, 2 * (self.mueff - 2 + 1 / self.mueff) / ((n + 2) ** 2 + self.mueff))
        scale = (n + 2) / 3
        self.c1, self.cmu = min(1.0, c1 * scale), min(1.0 - min(1.0, c1 * scale), cmu * scale)
        self.chi_n = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n))
        self.restart(centroid)

    def restart(self, centroid: torch.Tensor) -> None:
        self.mean = centroid.reshape(-1).clone().float()
        self.sigma = float(self.sigma0)
        self.diag = torch.ones_like(self.mean)  # the covariance's diagonal C
        self.path_sigma = torch.zeros_like(self.mean)
        self.path_c = torch.zeros_like(self.mean)
        self.updates = 0

    def generate(self) -> torch.Tensor:
        noise = _mirrored_noise(self.lambda_, self.dim, self.generator, self.mean.device)
        return self.mean + self.sigma * self.diag.sqrt() * noise

    def centroid(self) -> torch.Tensor:
        return self.mean.clone()

    def update(self, population: torch.Tensor, fitness: torch.Tensor) -> None:
        mu = self.weights.shape[0]
        best = fitness.argsort(descending=True, stable=True)[:mu]
        steps = (population.index_select(0, best) - self.mean) / self.sigma  # y_i, mu x d
        step = self.weights @ steps
        self.mean += self.sigma * step
        self.updates += 1
        path_weight = math.sqrt(self.cs * (2 - self.cs) * self.mueff)
        self.path_sigma.mul_(1 - self.cs).add_(step / self.diag.sqrt(), alpha=path_weight)
        norm = self.path_sigma.norm().item()
        hsig = norm / math.sqrt(1 - (1 - self.cs) ** (2 * self.updates)) < (1.4 + 2 / (self.dim + 1)) * self.chi_n
        self.path_c.mul_(1 - self.cc)
        if hsig:
            self.path_c.add_(step, alpha=math.sqrt(self.cc * (2 - self.cc) * self.mueff))
        rank_one = self.path_c**2 + (0.0 if hsig else self.cc * (2 - self.cc)) * self.diag
        rank_mu = self.weights @ (steps * steps)
        self.diag.mul_(1 - self.c1 - self.cmu).add_(self.c1 * rank_one + self.cmu * rank_mu)
        self.sigma *= math.exp(min(1.0, (self.cs / self.damps) * (norm / self.chi_n - 1)))

    def state(self) -> dict:
        return dict(mean=self.mean, sigma=self.sigma, diag=self.diag, path_sigma=self.path_sigma,
                    path_c=self.path_c, updates=self.updates)

    def load_state(self, state: dict) -> None:
        for key in ("mean", "diag", "path_sigma", "path_c"):
            setattr(self, key, state[key].clone())
        self.sigma, self.updates = float(state["sigma"]), int(state["updates"])


class _Row(np.ndarray):
    """A numpy row with a DEAP fitness, the individual form ``deap.cma.Strategy.update`` sorts and stacks."""


class DeapCMA:
    """DEAP's own full-covariance ``cma.Strategy`` behind the tensor interface, for small genomes.

    Its eigendecomposition is O(d^3) per generation, so it suits genomes of a few hundred genes (an 8 x 8
    grid, a CPPN's weights); the sampling uses the run's torch generator instead of numpy's global one.
    """

    MAX_DIM = 2000

    def __init__(self, centroid: torch.Tensor, sigma: float, lambda_: int, generator: torch.Generator):
        _check_settings(sigma, lambda_)
        if centroid.numel() > self.MAX_DIM:
            raise ValueError(f"full CMA-ES adapts a d x d covariance; {centroid.numel()} genes is too many "
                             f"(at most {self.MAX_DIM}): use sep-cma or snes, or a smaller genome")
        self.dim, self.lambda_, self.generator, self.sigma0 = centroid.numel(), lambda_, generator, sigma
        self.device = centroid.device
        self.restart(centroid)

    def restart(self, centroid: torch.Tensor) -> None:
        self.strategy = cma.Strategy(centroid.reshape(-1).double().cpu().numpy(), self.sigma0, lambda_=self.lambda_)

    def generate(self) -> torch.Tensor:
        noise = torch.randn(self.lambda_, self.dim, generator=self.generator, device=self.device).double().cpu().numpy()
        samples = self.strategy.centroid + self.strategy.sigma * noise @ self.strategy.BD.T
        return torch.from_numpy(samples).float().to(self.device)

    def centroid(self) -> torch.Tensor:
        return torch.from_numpy(np.asarray(self.strategy.centroid, dtype=np.float64)).float().to(self.device)

    def update(self, population: torch.Tensor, fitness: torch.Tensor) -> None:
        rows = []
        for genes, value in zip(population.double().cpu().numpy(), fitness.tolist()):
            row = genes.view(_Row)
            row.fitness = _Fitness((value,))
            rows.append(row)
        self.strategy.update(rows)

    def state(self) -> dict:
        s = self.strategy
        arrays = dict(centroid=s.centroid, C=s.C, pc=s.pc, ps=s.ps, B=s.B, diagD=s.diagD, BD=s.BD)
        return dict({k: torch.from_numpy(np.array(v, dtype=np.float64)) for k, v in arrays.items()},
                    sigma=float(s.sigma), update_count=int(s.update_count))

    def load_state(self, state: dict) -> None:
        s = self.strategy
        for key in ("centroid", "C", "pc", "ps", "B", "diagD", "BD"):
            setattr(s, key, state[key].numpy().copy())
        s.sigma, s.update_count = state["sigma"], state["update_count"]


class _Fitness:
    """The part of a DEAP fitness that ``cma.Strategy.update`` reads: comparable, one value to maximize."""

    __slots__ = ("values",)

    def __init__(self, values):
        self.values = values

    def __lt__(self, other):
        return self.values < other.values


def make_strategy(name: str, centroid: torch.Tensor, sigma: float, lambda_: int, generator: torch.Generator):
    """The strategy called ``name`` (see ``STRATEGIES``), centred on ``centroid`` with step size ``sigma``."""
    if name == "snes":
        # measured on EfficientNet-Lite0 (README): Adam 0.3 beat 0.1, 0.2, 0.5, 0.6 and 1.0; centred ranks beat
        # the NES utilities and standardized log-probabilities; a step-size rate of 0.3 beat SNES's own
        # (3 + ln d) / (5 sqrt d) = 0.07 and 0.15 at 5,000 and 10,000 evaluations, on the tuning classes and
        # on the ten benchmark classes it was then checked on
        return SNES(centroid, sigma, lambda_, generator, adam=True, adam_lr=0.3, shaping="centered", lr_sigma=0.3)
    if name == "sep-cma":
        return SepCMAES(centroid, sigma, lambda_, generator)
    if name == "cma":
        return DeapCMA(centroid, sigma, lambda_, generator)
    raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
