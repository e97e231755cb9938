"""Cost games: sharing the cost of a joint project (USD) by the Shapley value, the nucleolus and
the separable costs remaining benefits (SCRB) rule, and checking each share against the core.

A cost game gives c(S), what coalition S would pay to be served on its own (c(empty) = 0). Its
savings game v(S) = sum of c({i}) over i in S - c(S) is an ordinary TU game (`TUGame`), and every
concept here is read off it (Young, Okada & Hashimoto 1982, "Cost allocation in water resources
development", Water Resources Research 18(3) 463-475; Straffin & Heaney 1981, "Game theory and the
Tennessee Valley Authority", Int. J. Game Theory 10(1) 35-43):

- a cost share y and a savings share x correspond by y_i = c({i}) - x_i;
- the excess v(S) - x(S) equals y(S) - c(S): how much more S is charged than it would pay alone,
  so the core {y : y(N) = c(N), y(S) <= c(S) for all S} is the savings game's core, and the
  nucleolus (which minimises excesses lexicographically) carries over;
- the Shapley value is linear, so that of the cost game is c({i}) minus the savings game's.

SCRB is the rule of the US Federal Inter-Agency River Basin Committee (1950, "Proposed practices
for economic analysis of river basin projects", the Green Book); it needs only c({i}), c(N - i)
and c(N), which matters when each c(S) is an optimiser run.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from corridor.coalitions.game import RELATIVE_TOL, CoreCheck, GameError, TUGame

METHODS = ("shapley", "nucleolus", "scrb")


class CostCoreCheck(CoreCheck):
    """A `CoreCheck` for cost shares, worded in costs.

    `excess` is y(S) - c(S) of the objecting coalition (what S is charged beyond its own cost);
    `shortfall` is c(N) - y(N), positive when the shares leave part of the cost uncovered.
    """

    def describe(self) -> str:
        if self.inside:
            return "in the core: no coalition would pay less on its own"
        if self.coalition is None:
            return (f"does not cover the cost: it charges {self.shortfall:,.6g} less than the "
                    "grand coalition's cost")
        names = "+".join(str(p) for p in sorted(self.coalition, key=str))
        return (f"not in the core: {names} would pay {self.excess:,.6g} less on its own than "
                "this split charges it")


@dataclass(frozen=True)
class CostAllocations:
    """Cost shares by method (players x methods, USD) and each method's core check."""

    shares: pd.DataFrame
    core: dict[str, CostCoreCheck]

    @property
    def in_core(self) -> pd.Series:
        """For each method, whether its shares lie in the core."""
        return pd.Series({m: bool(check) for m, check in self.core.items()}, name="in_core")


class CostGame:
    """A cost game (N, c) with c(empty) = 0, given like `TUGame` values: a mapping from
    coalitions to costs covering every non-empty coalition, 2^n costs indexed by bitmask, or a
    callable taking a frozenset of players (evaluated lazily, once per coalition)."""

    def __init__(self, players: Iterable[Hashable],
                 costs: Mapping | Callable[[frozenset], float] | np.ndarray | list):
        self.cost = TUGame(players, costs)
        self.players = self.cost.players
        if callable(costs) and not isinstance(costs, Mapping):
            self.savings = TUGame(self.players, self._savings_of)
        else:
            self.savings = TUGame(self.players, self._savings_array())

    @property
    def n(self) -> int:
        return self.cost.n

    def value(self, coalition: Iterable[Hashable]) -> float:
        """c(S) for a coalition given as players."""
        return self.cost.value(coalition)

    def standalone(self) -> pd.Series:
        """c({i}): what each player would pay alone."""
        return self.cost.standalone().rename("alone")

    def separable_costs(self) -> pd.Series:
        """SC_i = c(N) - c(N - i): the cost of adding i last."""
        return self.cost.marginal_contributions().rename("separable")

    # -- allocations ------------------------------------------------------------------------

    def shapley(self) -> pd.Series:
        """Shapley value of the cost game (Shapley 1953): c({i}) - the savings game's."""
        return (self.standalone() - self.savings.shapley()).rename("shapley")

    def nucleolus(self) -> pd.Series:
        """Nucleolus (Schmeidler 1969) of the cost game: c({i}) - the savings game's. Defined when
        c(N) <= sum of c({i}) (no one is asked to pay more than alone)."""
        alone = self.standalone()
        grand = self.cost.lookup(np.array([self.cost.grand]))[0]
        if grand > alone.sum() + self._tolerance(alone.abs().max(), abs(grand)):
            raise GameError(
                f"the nucleolus is undefined: serving everyone together costs {grand:,.6g}, more "
                f"than the {alone.sum():,.6g} the players would pay alone in total")
        return (alone - self.savings.nucleolus()).rename("nucleolus")

    def scrb(self, benefits: Mapping | None = None) -> pd.Series:
        """Separable costs remaining benefits: x_i = SC_i + NSC r_i / sum r, with SC_i the
        separable cost, NSC = c(N) - sum SC the non-separable cost, and the remaining benefit
        r_i = min(c({i}), b_i) - SC_i (b_i = the optional alternative benefit, else c({i})).

        Raises GameError when sum r <= 0 while NSC != 0: nothing to share the joint cost by.
        """
        alone = self.standalone()
        separable = self.separable_costs()
        justified = alone if benefits is None else np.minimum(alone, self._benefits(benefits))
        remaining = justified - separable
        grand = float(self.cost.lookup(np.array([self.cost.grand]))[0])
        nonseparable = grand - separable.sum()
        tol = self._tolerance(grand, alone.abs().max())
        if abs(nonseparable) <= tol:
            return separable.rename("scrb")
        if remaining.sum() <= tol:
            raise GameError(
                f"SCRB is undefined: the remaining benefits add up to {remaining.sum():,.6g} "
                f"<= 0, so the non-separable cost of {nonseparable:,.6g} has no key to be shared "
                "by (a separable cost exceeds what that player would pay alone or gain)")
        return (separable + nonseparable * remaining / remaining.sum()).rename("scrb")

    def allocations(self, benefits: Mapping | None = None) -> CostAllocations:
        """Shapley, nucleolus and SCRB shares side by side, and whether each lies in the core."""
        shares = pd.concat([self.shapley(), self.nucleolus(), self.scrb(benefits)], axis=1)
        shares.index.name = "player"
        return CostAllocations(shares, {m: self.core_contains(shares[m]) for m in METHODS})

    # -- the core and properties ------------------------------------------------------------

    def core_contains(self, shares, tol: float | None = None) -> CostCoreCheck:
        """Is y in the core (y(N) = c(N), y(S) <= c(S) for all S)? If not, the coalition with the
        largest y(S) - c(S) (the smallest such on ties), or None when y(N) < c(N)."""
        y = self.savings._vector(shares)
        alone = self.standalone().to_numpy()
        if tol is None:
            tol = self._tolerance(self.cost.scale(), self.savings.scale())
        check = self.savings.core_contains(alone - y, tol)
        return CostCoreCheck(check.inside, check.coalition, check.excess, 0.0 - check.shortfall)

    def is_subadditive(self) -> bool:
        """c(S + T) <= c(S) + c(T) for disjoint S, T: serving two groups together never costs
        more (the savings game is superadditive)."""
        return self.savings.is_superadditive()

    def is_concave(self) -> bool:
        """Submodular: c(S+i+j) - c(S+j) <= c(S+i) - c(S), i's extra cost falls as the coalition
        grows. Then the core is non-empty and holds the Shapley value (Shapley 1971)."""
        return self.savings.is_convex()

    # -- helpers ----------------------------------------------------------------------------

    def _savings_of(self, coalition: frozenset) -> float:
        return sum(self.cost.value([p]) for p in coalition) - self.cost.value(coalition)

    def _savings_array(self) -> np.ndarray:
        c = self.cost.values()
        masks = np.arange(len(c), dtype=np.int64)
        alone = c[1 << np.arange(self.n)]
        together = np.zeros(len(c))
        for i in range(self.n):
            together += ((masks >> i) & 1) * alone[i]
        return together - c

    def _benefits(self, benefits: Mapping) -> pd.Series:
        """b_i per player; players left out are not capped (b_i = +inf)."""
        unknown = [p for p in benefits if p not in self.players]
        if unknown:
            raise GameError(f"benefits name unknown player(s) {', '.join(map(str, unknown))}")
        b = pd.Series({p: float(benefits.get(p, np.inf)) for p in self.players})
        if b.isna().any() or (b == -np.inf).any():
            raise GameError("benefits must be numbers (leave a player out for no cap)")
        return b

    @staticmethod
    def _tolerance(*sizes: float) -> float:
        return RELATIVE_TOL * max(1.0, *(abs(float(s)) for s in sizes))


__all__ = ["CostGame", "CostAllocations", "CostCoreCheck"]
