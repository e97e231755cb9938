"""The Shapley value estimated by sampling, with a confidence interval, for games too large to
enumerate (every coalition value may be an optimiser run).

Castro, Gómez & Tejada (2009), "Polynomial calculation of the Shapley value based on sampling",
Computers & Operations Research 36(5) 1726-1730: phi_i is the mean of i's marginal contribution
v(P + i) - v(P) over random orderings, P being i's predecessors. Stratifying by the position of
i (|P| = k, k = 0..n-1, each stratum weighing 1/n) removes the between-position variance; Castro,
Gómez, Molina & Tejada (2017), "Improving polynomial estimation of the Shapley value by
stratified random sampling with optimum allocation", Computers & OR 82 180-188, allocate the
samples in two stages, the second proportional to each stratum's standard deviation (Neyman).
Strata with fewer coalitions than their share of samples are enumerated exactly.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from corridor.coalitions.game import GameError, TUGame


@dataclass(frozen=True)
class ShapleyEstimate:
    """Estimated Shapley value with the half-width of its confidence interval per player."""

    value: pd.Series
    half_width: pd.Series
    confidence: float
    samples: int  # marginal contributions drawn per player

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"shapley": self.value, "low": self.value - self.half_width,
                             "high": self.value + self.half_width})


def sampled_shapley(game: TUGame, samples: int = 2000, confidence: float = 0.95,
                    seed: int | None = None, stratified: bool = True) -> ShapleyEstimate:
    """Estimate every player's Shapley value from `samples` marginal contributions each."""
    if not 0.0 < confidence < 1.0:
        raise GameError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    if samples < 2 * game.n:
        raise GameError(f"use at least {2 * game.n} samples per player for {game.n} players")
    rng = np.random.default_rng(seed)
    estimate = _stratified if stratified else _plain
    results = [estimate(game, i, samples, rng) for i in range(game.n)]
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    index = list(game.players)
    return ShapleyEstimate(pd.Series([r[0] for r in results], index=index, name="shapley"),
                           pd.Series([z * math.sqrt(r[1]) for r in results], index=index),
                           confidence, samples)


def _others(game: TUGame, i: int) -> np.ndarray:
    return np.array([1 << j for j in range(game.n) if j != i], dtype=np.int64)


def _marginals(game: TUGame, i: int, predecessors: np.ndarray) -> np.ndarray:
    return game.lookup(predecessors | (1 << i)) - game.lookup(predecessors)


def _random_subsets(bits: np.ndarray, k: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """m uniformly random k-subsets of the players in `bits`, as bitmasks."""
    if k == 0:
        return np.zeros(m, dtype=np.int64)
    if k == len(bits):
        return np.full(m, bits.sum(), dtype=np.int64)
    chosen = np.argpartition(rng.random((m, len(bits))), k - 1, axis=1)[:, :k]
    return bits[chosen].sum(axis=1)


def _plain(game: TUGame, i: int, m: int, rng: np.random.Generator) -> tuple[float, float]:
    """Castro et al. (2009): i's predecessors in m random orderings; returns mean, variance."""
    bits = _others(game, i)
    position = rng.integers(0, game.n, size=m)
    ranks = np.argsort(np.argsort(rng.random((m, len(bits))), axis=1), axis=1)
    predecessors = ((ranks < position[:, None]) * bits).sum(axis=1)
    x = _marginals(game, i, predecessors)
    return float(x.mean()), float(x.var(ddof=1) / m)


def _stratified(game: TUGame, i: int, m: int, rng: np.random.Generator) -> tuple[float, float]:
    """Stratified by position with two-stage Neyman allocation; returns mean, variance."""
    n, bits = game.n, _others(game, i)
    share = m // n
    draws: dict[int, np.ndarray] = {}
    exact = [k for k in range(n) if math.comb(n - 1, k) <= max(share, 1)]
    for k in exact:
        masks = [sum(c) for c in itertools.combinations(bits.tolist(), k)]
        draws[k] = _marginals(game, i, np.array(masks, dtype=np.int64))
    sampled = [k for k in range(n) if k not in draws]
    if sampled:
        budget = max(m - sum(len(draws[k]) for k in exact), 4 * len(sampled))
        first = max(2, budget // (2 * len(sampled)))
        for k in sampled:
            draws[k] = _marginals(game, i, _random_subsets(bits, k, first, rng))
        spread = np.array([draws[k].std(ddof=1) for k in sampled])
        rest = budget - first * len(sampled)
        weights = spread / spread.sum() if spread.sum() > 0 else np.full(len(sampled),
                                                                          1 / len(sampled))
        for k, extra in zip(sampled, np.floor(weights * rest).astype(int), strict=True):
            if extra > 0:
                more = _marginals(game, i, _random_subsets(bits, k, int(extra), rng))
                draws[k] = np.concatenate([draws[k], more])
    mean = sum(draws[k].mean() for k in range(n)) / n
    variance = sum(draws[k].var(ddof=1) / len(draws[k]) for k in sampled) / n**2
    return float(mean), float(variance)
