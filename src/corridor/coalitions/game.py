"""Transferable-utility (TU) games: coalition values, the Shapley value, the core and its tests.

A game on players p_0 .. p_{n-1} is stored as one array of 2^n coalition values indexed by bitmask
(bit i set <=> player i is in the coalition), so every solution concept is a vectorised pass over
that array. Values may be given as a mapping from coalitions to numbers, as such an array, or as a
callable evaluated lazily (and cached) — e.g. an optimiser run per coalition.

The nucleolus lives in `nucleolus.py`, permutation sampling in `sampling.py`; `TUGame` delegates.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

MAX_EXACT_PLAYERS = 20  # 2^20 values: exact Shapley in seconds; nucleolus LPs get slow beyond ~16
MAX_PLAYERS = 62  # coalitions are int64 bitmasks
RELATIVE_TOL = 1e-9  # tolerances scale with the largest |v(S)|


class GameError(ValueError):
    """A game that cannot be evaluated: bad players, missing or non-finite coalition values."""


def popcount(masks: np.ndarray) -> np.ndarray:
    """Number of players in each coalition bitmask."""
    return np.bitwise_count(np.asarray(masks, dtype=np.uint64)).astype(np.int64)


def gray_order(n: int) -> np.ndarray:
    """All 2^n coalitions so that neighbours differ by exactly one player (reflected Gray code)."""
    i = np.arange(1 << n, dtype=np.int64)
    return i ^ (i >> 1)


def membership(masks: np.ndarray, n: int) -> np.ndarray:
    """0/1 matrix (coalitions x players): row k says who is in coalition masks[k]."""
    return ((np.asarray(masks, dtype=np.int64)[:, None] >> np.arange(n)) & 1).astype(float)


@dataclass(frozen=True)
class CoreCheck:
    """Whether an allocation lies in the core and, if not, the coalition that objects most.

    `excess` is v(S) - x(S) of that coalition (what it earns alone beyond what x gives it);
    `shortfall` is v(N) - x(N), non-zero when x does not distribute exactly v(N).
    """

    inside: bool
    coalition: frozenset | None
    excess: float
    shortfall: float

    def __bool__(self) -> bool:
        return self.inside

    def describe(self) -> str:
        if self.inside:
            return "in the core: no coalition can do better on its own"
        if self.coalition is None:
            return (f"not an allocation of v(N): it distributes {-self.shortfall:+,.6g} more "
                    "than the grand coalition earns")
        names = "+".join(str(p) for p in sorted(self.coalition, key=str))
        return (f"not in the core: {names} would earn {self.excess:,.6g} more on its own than "
                "this split gives it")


class TUGame:
    """A transferable-utility game (N, v) with v(empty) = 0.

    `value` is a mapping from coalitions (any iterable of players, e.g. frozensets) to numbers
    that must cover every non-empty coalition, a sequence of 2^n numbers indexed by bitmask, or
    a callable taking a frozenset of players and returning a number.
    """

    def __init__(self, players: Iterable[Hashable],
                 value: Mapping | Callable[[frozenset], float] | np.ndarray | list):
        self.players = tuple(players)
        _check_players(self.players)
        self._index = {p: i for i, p in enumerate(self.players)}
        self._fn: Callable[[frozenset], float] | None = None
        self._v: np.ndarray | None = None
        self._cache: dict[int, float] = {0: 0.0}
        if isinstance(value, Mapping):
            self._v = self._array_from_mapping(value)
        elif callable(value):
            self._fn = value
        else:
            self._v = self._array_from_sequence(value)

    # -- coalitions and values ------------------------------------------------------------------

    @property
    def n(self) -> int:
        return len(self.players)

    @property
    def grand(self) -> int:
        """Bitmask of the grand coalition N."""
        return (1 << self.n) - 1

    def mask(self, coalition: Iterable[Hashable]) -> int:
        """Bitmask of a coalition given as players; unknown players are an error."""
        bits = 0
        for p in coalition:
            if p not in self._index:
                raise GameError(f"{p!r} is not a player of this game (players: "
                                f"{', '.join(map(str, self.players))})")
            bits |= 1 << self._index[p]
        return bits

    def coalition(self, mask: int) -> frozenset:
        """The players of a bitmask."""
        return frozenset(p for i, p in enumerate(self.players) if mask >> i & 1)

    def label(self, mask: int) -> str:
        """A coalition's display name, e.g. 'KZ+UZ' (players in game order), or '{}'."""
        return "+".join(str(p) for i, p in enumerate(self.players) if mask >> i & 1) or "{}"

    def value(self, coalition: Iterable[Hashable]) -> float:
        """v(S) for a coalition given as players."""
        return float(self.lookup(np.array([self.mask(coalition)]))[0])

    def lookup(self, masks: np.ndarray) -> np.ndarray:
        """v at an array of bitmasks; a callable is evaluated once per new coalition."""
        masks = np.asarray(masks, dtype=np.int64)
        if self._v is not None:
            return self._v[masks]
        for m in np.unique(masks):
            if int(m) not in self._cache:
                self._cache[int(m)] = self._call(int(m))
        return np.array([self._cache[int(m)] for m in masks.ravel()]).reshape(masks.shape)

    def values(self) -> np.ndarray:
        """All 2^n values by bitmask (a callable is evaluated for each coalition, in Gray order)."""
        if self._v is None:
            if self.n > MAX_EXACT_PLAYERS:
                raise GameError(f"{self.n} players: exact methods need all 2^{self.n} coalition "
                                f"values; use sampling beyond {MAX_EXACT_PLAYERS} players")
            self._v = self.lookup(gray_order(self.n))[np.argsort(gray_order(self.n))]
        return self._v

    def scale(self) -> float:
        """The size of the numbers in the game, for relative tolerances: max |v(S)|, at least 1."""
        v = self.values()
        return max(1.0, float(np.max(np.abs(v))))

    def tolerance(self) -> float:
        return RELATIVE_TOL * self.scale()

    def _call(self, mask: int) -> float:
        try:
            result = float(self._fn(self.coalition(mask)))
        except (TypeError, ValueError) as exc:
            raise GameError(f"v({self.label(mask)}) could not be evaluated: {exc}") from exc
        if not math.isfinite(result):
            raise GameError(f"v({self.label(mask)}) is {result}, not a finite number")
        return result

    def _array_from_mapping(self, mapping: Mapping) -> np.ndarray:
        n = self.n
        if n > MAX_EXACT_PLAYERS:
            raise GameError(f"a table of values for {n} players is too large; pass a callable")
        v = np.full(1 << n, np.nan)
        v[0] = 0.0
        seen: set[int] = set()
        for key, number in mapping.items():
            members = [key] if isinstance(key, str) or key in self._index else list(key)
            m = self.mask(members)
            if m in seen:
                raise GameError(f"coalition {self.label(m)} is given twice")
            seen.add(m)
            v[m] = _finite(number, self.label(m))
        if v[0] != 0.0:
            raise GameError(f"v(empty coalition) must be 0, got {v[0]:g}")
        missing = np.flatnonzero(np.isnan(v))
        if len(missing):
            shown = ", ".join(self.label(int(m)) for m in missing[:6])
            more = f" and {len(missing) - 6} more" if len(missing) > 6 else ""
            raise GameError(f"the game lacks the value of {len(missing)} coalition(s): "
                            f"{shown}{more}")
        return v

    def _array_from_sequence(self, values) -> np.ndarray:
        v = np.asarray(values, dtype=float)
        if v.shape != (1 << self.n,):
            raise GameError(f"expected 2^{self.n} = {1 << self.n} values indexed by bitmask, "
                            f"got shape {v.shape}")
        bad = np.flatnonzero(~np.isfinite(v))
        if len(bad):
            raise GameError(f"v({self.label(int(bad[0]))}) is {v[bad[0]]}, not a finite number")
        if v[0] != 0.0:
            raise GameError(f"v(empty coalition) must be 0, got {v[0]:g}")
        return v.copy()

    # -- solution concepts --------------------------------------------------------------------

    def shapley(self) -> pd.Series:
        """Exact Shapley value: phi_i = sum over S not containing i of
        |S|! (n-|S|-1)! / n! x (v(S+i) - v(S))."""
        v, n = self.values(), self.n
        masks = np.arange(1 << n, dtype=np.int64)
        size = popcount(masks)
        weight = np.array([1.0 / (n * math.comb(n - 1, s)) for s in range(n)])
        phi = np.empty(n)
        for i in range(n):
            without = masks[(masks >> i & 1) == 0]
            phi[i] = np.dot(weight[size[without]], v[without | (1 << i)] - v[without])
        return pd.Series(phi, index=list(self.players), name="shapley")

    def shapley_sample(self, samples: int = 2000, confidence: float = 0.95,
                       seed: int | None = None, stratified: bool = True):
        """Shapley value estimated by permutation sampling with a confidence interval
        (Castro et al. 2009; stratified by position, Castro et al. 2017). See `sampling.py`."""
        from corridor.coalitions.sampling import sampled_shapley

        return sampled_shapley(self, samples, confidence, seed, stratified)

    def nucleolus(self) -> pd.Series:
        """The nucleolus (Schmeidler 1969): lexicographically minimal excesses over imputations."""
        from corridor.coalitions.nucleolus import nucleolus

        return pd.Series(nucleolus(self, imputations=True).allocation,
                         index=list(self.players), name="nucleolus")

    def prenucleolus(self) -> pd.Series:
        """The prenucleolus: as the nucleolus, over all efficient allocations."""
        from corridor.coalitions.nucleolus import nucleolus

        return pd.Series(nucleolus(self, imputations=False).allocation,
                         index=list(self.players), name="prenucleolus")

    def kohlberg(self, allocation, imputations: bool = True):
        """Check Kohlberg's (1971) criterion: is `allocation` the (pre)nucleolus?"""
        from corridor.coalitions.nucleolus import kohlberg

        return kohlberg(self, self._vector(allocation), imputations)

    def least_core(self) -> tuple[float, pd.Series]:
        """The least-core value eps* = min over efficient x of max excess, and one such x.

        The core is non-empty exactly when eps* <= 0 (up to tolerance).
        """
        from corridor.coalitions.nucleolus import least_core

        eps, x = least_core(self)
        return eps, pd.Series(x, index=list(self.players), name="least_core")

    def excesses(self, allocation) -> np.ndarray:
        """e(S, x) = v(S) - x(S) for every coalition bitmask (index 0: the empty coalition)."""
        x = self._vector(allocation)
        masks = np.arange(1 << self.n, dtype=np.int64)
        return self.values() - membership(masks, self.n) @ x

    def core_contains(self, allocation, tol: float | None = None) -> CoreCheck:
        """Is x in the core (x(N) = v(N), x(S) >= v(S) for all S)? If not, which S objects most:
        the one with the largest excess v(S) - x(S), the smallest such on ties."""
        tol = self.tolerance() if tol is None else tol
        e = self.excesses(allocation)
        shortfall = float(e[self.grand])
        if shortfall < -tol:
            return CoreCheck(False, None, 0.0, shortfall)
        worst = float(e[1:].max())
        if worst <= tol:
            return CoreCheck(True, None, max(worst, 0.0), shortfall)
        ties = np.flatnonzero(e[1:] >= worst - tol) + 1
        blocking = int(ties[np.argmin(popcount(ties))])
        return CoreCheck(False, self.coalition(blocking), float(e[blocking]), shortfall)

    def marginal_contributions(self) -> pd.Series:
        """v(N) - v(N without i): what the grand coalition loses when i walks away."""
        v = self.lookup(np.array([self.grand] + [self.grand ^ (1 << i) for i in range(self.n)]))
        return pd.Series(v[0] - v[1:], index=list(self.players), name="marginal")

    def standalone(self) -> pd.Series:
        """v({i}) for each player."""
        v = self.lookup(np.array([1 << i for i in range(self.n)]))
        return pd.Series(v, index=list(self.players), name="alone")

    def superadditivity_violation(self) -> tuple[frozenset, frozenset] | None:
        """Two disjoint coalitions S, T with v(S + T) < v(S) + v(T), or None."""
        v, tol = self.values(), self.tolerance()
        for union in range(3, 1 << self.n):
            sub = _proper_submasks(union)
            sub = sub[sub < (union ^ sub)]  # each split once
            gap = v[sub] + v[union ^ sub] - v[union]
            bad = np.flatnonzero(gap > tol)
            if len(bad):
                s = int(sub[bad[0]])
                return self.coalition(s), self.coalition(union ^ s)
        return None

    def is_superadditive(self) -> bool:
        """v(S + T) >= v(S) + v(T) for all disjoint S, T: joining never destroys value."""
        return self.superadditivity_violation() is None

    def is_convex(self) -> bool:
        """Supermodular: v(S+i+j) - v(S+j) >= v(S+i) - v(S) for all S and i, j outside S
        (equivalent to increasing marginal contributions; Shapley 1971)."""
        v, n, tol = self.values(), self.n, self.tolerance()
        masks = np.arange(1 << n, dtype=np.int64)
        for i in range(n):
            for j in range(i + 1, n):
                s = masks[((masks >> i & 1) == 0) & ((masks >> j & 1) == 0)]
                bi, bj = 1 << i, 1 << j
                if np.any(v[s | bi | bj] - v[s | bj] - v[s | bi] + v[s] < -tol):
                    return False
        return True

    def best_partition(self, max_size: int = 2) -> tuple[float, list[frozenset]]:
        """The best split of N into coalitions of at most `max_size` players (2: bilateral deals
        and players alone), by dynamic programming: the lowest player of a coalition sits in
        one block, the rest is split optimally."""
        v, n = self.values(), self.n
        best = np.full(1 << n, -np.inf)
        choice = np.zeros(1 << n, dtype=np.int64)
        best[0] = 0.0
        for m in range(1, 1 << n):
            low = m & -m
            rest = [1 << b for b in range(n) if (m ^ low) >> b & 1]
            for k in range(min(max_size, len(rest) + 1)):
                for others in itertools.combinations(rest, k):
                    block = low | sum(others)
                    total = v[block] + best[m ^ block]
                    if total > best[m]:
                        best[m], choice[m] = total, block
        parts, m = [], self.grand
        while m:
            parts.append(self.coalition(int(choice[m])))
            m ^= int(choice[m])
        return float(best[self.grand]), parts

    def _vector(self, allocation) -> np.ndarray:
        """An allocation as an array in player order (accepts a Series/dict keyed by player)."""
        if isinstance(allocation, pd.Series | dict):
            series = pd.Series(allocation)
            missing = [p for p in self.players if p not in series.index]
            if missing:
                raise GameError(f"allocation lacks player(s) {', '.join(map(str, missing))}")
            allocation = series.reindex(list(self.players)).to_numpy(float)
        x = np.asarray(allocation, dtype=float)
        if x.shape != (self.n,) or not np.all(np.isfinite(x)):
            raise GameError(f"an allocation has {self.n} finite numbers, got {allocation!r}")
        return x


def _proper_submasks(mask: int) -> np.ndarray:
    """Non-empty submasks of `mask` other than `mask` itself."""
    bits = np.array([b for b in range(mask.bit_length()) if mask >> b & 1], dtype=np.int64)
    r = np.arange(1, 1 << len(bits), dtype=np.int64)
    subs = ((r[:, None] >> np.arange(len(bits))) & 1) @ (np.int64(1) << bits)
    return subs[subs != mask]


def _check_players(players: tuple) -> None:
    if not players:
        raise GameError("a game needs at least one player")
    if len(set(players)) != len(players):
        dup = sorted({str(p) for p in players if players.count(p) > 1})
        raise GameError(f"players must be distinct; repeated: {', '.join(dup)}")
    if len(players) > MAX_PLAYERS:
        raise GameError(f"at most {MAX_PLAYERS} players are supported, got {len(players)}")


def _finite(number, label: str) -> float:
    try:
        value = float(number)
    except (TypeError, ValueError) as exc:
        raise GameError(f"v({label}) = {number!r} is not a number") from exc
    if not math.isfinite(value):
        raise GameError(f"v({label}) is {value}, not a finite number")
    return value
