"""What a coalition game says about a union: values of the union, the pairs and the players
alone, the fair splits (Shapley value, nucleolus), whether the Shapley split is in the core, and
each player's marginal contribution (its bargaining power, e.g. as a transit country)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from corridor.coalitions.game import GameError, TUGame, popcount
from corridor.coalitions.network_game import CoalitionValues

DEFINITIONS = {
    "welfare": "v(S) = welfare of S: value of the demand S serves (demand curves and bands at "
               "their prices, export markets at their price, fixed demand at its value of lost "
               "load) minus supply, transport (tariffs) and storage cost, per year",
    "savings": "v(S) = cost S saves against importing its domestic demand at the outside price, "
               "plus its export margins, per year",
}
OUTSIDE = {
    True: "relative to the outside world alone: assets of non-players (markets, supplies, "
          "pipelines) are open to every coalition at their price, cost and tariff",
    False: "assets touching any non-player are closed to every coalition",
}


@dataclass
class CoalitionSummary:
    """Everything `corridor coalition` reports, in USD per year."""

    network: str
    values: CoalitionValues
    game: TUGame
    table: pd.DataFrame  # per player: alone, shapley, nucleolus, marginal
    coalitions: pd.DataFrame  # per coalition: size, value, gain over members alone
    core: dict
    bilateral: dict
    properties: dict
    notes: list[str] = field(default_factory=list)

    @property
    def definition(self) -> str:
        s = self.values.settings
        return f"{DEFINITIONS[s['basis']]}; {OUTSIDE[s['outside']]}"

    def to_dict(self) -> dict:
        """A JSON-ready document (USD per year; coalitions named like 'KZ+UZ')."""
        def num(x):
            return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x

        return {
            "network": self.network,
            "players": list(self.values.players),
            "settings": self.values.settings,
            "definition": self.definition,
            "units": "USD per year",
            "outside_world_welfare": float(self.values.welfare[0]),
            "values": {k: float(v) for k, v in self.coalitions["value"].items()},
            "allocation": {col: {p: num(float(v)) for p, v in self.table[col].items()}
                           for col in self.table.columns},
            "core": self.core,
            "bilateral": self.bilateral,
            "properties": self.properties,
            "timing": {"coalitions": int(len(self.values.values)),
                       "seconds": self.values.seconds,
                       "simplex_iterations": self.values.iterations},
            "notes": self.notes,
        }


def _coalition_table(cv: CoalitionValues, game: TUGame) -> pd.DataFrame:
    masks = np.arange(1, len(cv.values), dtype=np.int64)
    size = popcount(masks)
    order = np.lexsort((masks, size))
    masks, size = masks[order], size[order]
    alone = game.standalone().to_numpy()
    members_alone = (((masks[:, None] >> np.arange(game.n)) & 1) * alone).sum(axis=1)
    return pd.DataFrame({"size": size, "value": cv.values[masks],
                         "gain": cv.values[masks] - members_alone},
                        index=pd.Index([cv.label(int(m)) for m in masks], name="coalition"))


def _nucleolus(game: TUGame, verify: bool, notes: list[str]) -> tuple[pd.Series, bool | None]:
    """The nucleolus (prenucleolus if the imputation set is empty), Kohlberg-verified."""
    imputations = True
    try:
        x = game.nucleolus()
    except GameError as exc:
        if "imputation set is empty" not in str(exc):
            raise
        notes.append(f"{exc}; the table shows the prenucleolus")
        imputations = False
        x = game.prenucleolus()
    checked = bool(game.kohlberg(x, imputations)) if verify else None
    if checked is False:
        raise GameError("the computed nucleolus fails Kohlberg's criterion; not reported")
    return x, checked


def summarise(cv: CoalitionValues, network: str = "", verify: bool = True) -> CoalitionSummary:
    """Solve the game of a set of coalition values and collect what the reports show."""
    game = cv.game()
    notes: list[str] = []
    shapley = game.shapley()
    nucleolus, kohlberg_ok = _nucleolus(game, verify and game.n <= 8, notes)
    table = pd.DataFrame({"alone": game.standalone(), "shapley": shapley,
                          "nucleolus": nucleolus, "marginal": game.marginal_contributions()})
    table["shapley_gain"] = table["shapley"] - table["alone"]
    check = game.core_contains(shapley)
    eps, _ = game.least_core()
    tol = game.tolerance()
    core = {"shapley_in_core": check.inside,
            "blocking_coalition": cv.label(game.mask(check.coalition)) if check.coalition
            else None,
            "blocking_excess": check.excess if not check.inside else 0.0,
            "core_empty": bool(eps > tol), "least_core_epsilon": eps,
            "nucleolus_in_core": bool(game.core_contains(nucleolus))}
    best, parts = game.best_partition(2)
    grand = float(cv.values[-1])
    bilateral = {"best_split": [cv.label(game.mask(p)) for p in parts], "value": best,
                 "union_gain": grand - best}
    violation = game.superadditivity_violation()
    properties = {"superadditive": violation is None, "convex": game.is_convex(),
                  "kohlberg_verified": kohlberg_ok}
    if violation is not None:
        s, t = (cv.label(game.mask(c)) for c in violation)
        notes.append(f"not superadditive: v({s}+{t}) < v({s}) + v({t}) — coalitions compete "
                     "for the same outside markets, so their stand-alone values overlap")
    return CoalitionSummary(network, cv, game, table, _coalition_table(cv, game), core,
                            bilateral, properties, notes)
