"""Pipeline power: what the option to build a project does to each player's bargaining position.

An option is a proposed link, or links built together ('G30+G31'). A coalition may build a
proposed project only if its members hold every part of it (a link
needs every country it crosses, as the game's usual asset rules say). With options Q available,
a coalition is worth the best it can do building any subset of the options it can build:
W_opt(S) = max over R subset of Q of W(S | R built), where W(S | R built) is the ordinary
network game on the network with R built and charged its annual cost (capex annuity + O&M) if S
uses it. The strategic value of a project to a player is its Shapley value (and nucleolus) with
the option minus without it: bargaining power the option gives or takes away, even if the
project is never built.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from corridor.coalitions.game import GameError, TUGame
from corridor.coalitions.network_game import CoalitionValues, NetworkGame
from corridor.network import Network

MAX_OPTIONS = 4  # 2^options network games


@dataclass
class OptionValues:
    """Coalition values without options, with each option alone and with all of them."""

    players: tuple[str, ...]
    options: tuple[str, ...]
    welfare: dict[frozenset, np.ndarray]  # built set R -> W(S | R built) by bitmask
    annual_cost: pd.Series  # per option, USD/yr

    def game(self, available: frozenset) -> TUGame:
        """The game with the options in `available`: each coalition's best over the subsets."""
        best = np.max([w for built, w in self.welfare.items() if built <= available], axis=0)
        return TUGame(self.players, best - best[0])

    def strategic_values(self) -> pd.DataFrame:
        """Per option (and all together): each player's Shapley and nucleolus change, USD
        over the modelled horizon, beside the option's annual cost."""
        base = self.game(frozenset())
        base_sh, base_nu = base.shapley(), _nucleolus(base)
        rows = []
        choices = [(o, frozenset([o])) for o in self.options]
        if len(self.options) > 1:
            choices.append(("+".join(self.options), frozenset(self.options)))
        for label, available in choices:
            game = self.game(available)
            sh, nu = game.shapley() - base_sh, _nucleolus(game) - base_nu
            for player in self.players:
                rows.append({"option": label, "player": player, "shapley_change": sh[player],
                             "nucleolus_change": nu[player],
                             "union_value_change": game.values()[-1] - base.values()[-1],
                             "annual_cost": float(self.annual_cost.reindex(
                                 sorted(available)).sum())})
        return pd.DataFrame(rows)


def _nucleolus(game: TUGame) -> pd.Series:
    try:
        return game.nucleolus()
    except GameError:  # no imputation (not even weakly superadditive): fall back
        return game.prenucleolus()


def option_values(net: Network, players, options: list[str], **game_options) -> OptionValues:
    """Solve the network game once per subset of `options` (proposed links built)."""
    parts = {o: o.split("+") for o in options}  # 'G30+G31': links built together
    ids = [lid for group in parts.values() for lid in group]
    unknown = [o for o in ids if o not in net.links.index]
    if unknown:
        raise GameError(f"--options: not a link of {net.name}: {', '.join(unknown)}")
    operating = [o for o in ids if net.links.loc[o, "status"] == "operating"]
    if operating:
        raise GameError(f"--options: already built (an option must be proposed): "
                        f"{', '.join(operating)}")
    if len(options) > MAX_OPTIONS:
        raise GameError(f"at most {MAX_OPTIONS} options (2^options network games)")
    welfare: dict[frozenset, np.ndarray] = {}
    values: CoalitionValues | None = None
    for k in range(len(options) + 1):
        for built in itertools.combinations(options, k):
            links = net.links.copy()
            links.loc[[lid for o in built for lid in parts[o]], "status"] = "operating"
            values = NetworkGame(net.replace(links=links), players, **game_options).solve_all()
            welfare[frozenset(built)] = values.welfare
    assert values is not None
    annual = net.annual_cost("links")
    cost = pd.Series({o: float(annual.reindex(parts[o]).sum()) for o in options})
    return OptionValues(values.players, tuple(options), welfare, cost)
