"""Who holds each asset of a network, and which assets a coalition of players may use.

Players are the values of one column (`by`): countries by default, or e.g. companies (`owner`).
An asset's *holders* are:

- a supply, demand or storage: its own `by` value, else its node's;
- a link: its own `by` value, plus (when `by` is a node column, as `country` is) the values of
  both end nodes, plus any listed in an optional `transit` column — so a pipeline needs every
  country it touches or crosses (G08 Russia -> Uzbekistan needs Kazakhstan, its `country`).

Several holders in one cell are separated by ';'. A coalition S may use an asset when every holder
that is a player belongs to S. Holders that are not players are the *outside world*: with
`outside=True` (the default) their assets are open to every coalition — non-player markets buy at
their value, non-player supplies sell at their cost, non-player pipelines carry gas at their
tariff; with `outside=False` an asset touching any non-player is unusable. An asset with no
holder at all (blank column) is open to everyone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from corridor.coalitions.game import GameError
from corridor.network import Network
from corridor.validation import parse_segments, route_links

SEPARATOR = ";"
TABLES = ("supplies", "demands", "storages", "links")


class UnknownPlayerError(GameError):
    """A player that holds no asset of the network (e.g. a mistyped country code)."""


def _cells(series: pd.Series) -> pd.Series:
    """Each cell as a frozenset of non-blank names."""
    return series.fillna("").astype(str).map(
        lambda text: frozenset(t.strip() for t in text.split(SEPARATOR) if t.strip()))


def _column(table: pd.DataFrame, by: str) -> pd.Series:
    return _cells(table[by]) if by in table else pd.Series([frozenset()] * len(table),
                                                           index=table.index, dtype=object)


def holders(net: Network, by: str = "country") -> dict[str, pd.Series]:
    """Per table (nodes, supplies, demands, storages, links), each row's set of holder names."""
    node = _column(net.nodes, by)
    out: dict[str, pd.Series] = {"nodes": node}
    for name in ("supplies", "demands", "storages"):
        table = getattr(net, name)
        own = _column(table, by)
        at_node = node.reindex(table["node"]).set_axis(table.index)
        out[name] = own.where(own.map(len) > 0, at_node).map(
            lambda h: h if isinstance(h, frozenset) else frozenset())
    links = net.links
    ends = [node.reindex(links[end]).set_axis(links.index).map(
        lambda h: h if isinstance(h, frozenset) else frozenset()) for end in ("from", "to")]
    transit = _column(links, "transit") if by == "country" else ends[0].map(lambda _: frozenset())
    if by == "country" and "segments" in links:  # every country a segment crosses
        crossed = links["segments"].map(
            lambda spec: frozenset(c for c, _ in parse_segments(spec)) if spec else frozenset())
        transit = pd.Series([a | b for a, b in zip(transit, crossed, strict=True)],
                            index=links.index, dtype=object)
    out["links"] = pd.Series([a | b | c | d for a, b, c, d in zip(
        _column(links, by), ends[0], ends[1], transit, strict=True)], index=links.index,
        dtype=object)
    return out


def known_players(held: dict[str, pd.Series]) -> set[str]:
    """Every name that holds at least one asset or node (a country with only a node is a
    valid player that adds nothing)."""
    return set().union(*(set().union(*s) for s in held.values() if len(s)))


@dataclass(frozen=True)
class Access:
    """Per asset: bitmask of the players it needs, and whether it touches the outside world."""

    required: dict[str, pd.Series]  # int64 bitmask per row
    outsider: dict[str, pd.Series]  # bool per row

    def usable(self, table: str, coalition: int, outside: bool = True) -> pd.Series:
        """Which rows of `table` the coalition (bitmask) may use."""
        ok = (self.required[table] & ~coalition) == 0
        return ok & (~self.outsider[table] if not outside else True)


def check_players(players, held: dict[str, pd.Series], by: str) -> tuple[str, ...]:
    """Players as a tuple of distinct names that each hold an asset, else a clear error."""
    players = tuple(str(p).strip() for p in players)
    if not players or any(not p for p in players):
        raise GameError("name at least one player (e.g. --players RU,KZ,UZ)")
    repeated = sorted({p for p in players if players.count(p) > 1})
    if repeated:
        raise GameError(f"player(s) named twice: {', '.join(repeated)}")
    known = known_players(held)
    if not known:
        raise UnknownPlayerError(f"no node or asset of this network has a value in column "
                                 f"{by!r}, so it cannot name players")
    unknown = [p for p in players if p not in known]
    if unknown:
        listing = ", ".join(sorted(known)) if len(known) <= 40 else f"{len(known)} names"
        raise UnknownPlayerError(
            f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not a {by} of any "
            f"node or asset in this network (the {by} values are: {listing})")
    return players


def access(held: dict[str, pd.Series], players: tuple[str, ...]) -> Access:
    """Bitmasks of required players and outside-world flags for every asset."""
    bit = {p: 1 << i for i, p in enumerate(players)}
    required = {t: s.map(lambda h: sum(bit[p] for p in h if p in bit)).astype(np.int64)
                for t, s in held.items()}
    outsider = {t: s.map(lambda h: any(p not in bit for p in h)).astype(bool)
                for t, s in held.items()}
    return Access(required, outsider)


def coalition_network(net: Network, players, coalition, by: str = "country",
                      outside: bool = True) -> Network:
    """The network a coalition can use on its own, built from scratch: only the supplies,
    demands, storages and links it may use, and the route targets all of whose built links
    it may use. Solving it with `optimize` gives the coalition's welfare independently of the
    warm-started model in `network_game.py`."""
    held = holders(net, by)
    players = check_players(players, held, by)
    acc = access(held, players)
    members = set(coalition)
    strangers = members - set(players)
    if strangers:
        raise GameError(f"coalition members {', '.join(map(str, strangers))} are not players")
    mask = sum(1 << i for i, p in enumerate(players) if p in members)
    keep = {t: acc.usable(t, mask, outside) for t in TABLES}
    tables = {t: getattr(net, t)[keep[t].to_numpy(bool)] for t in TABLES}
    return net.replace(**tables, targets=net.targets[_targets_usable(net, keep["links"])],
                       contracts=net.contracts[_contracts_usable(net, tables)])


def _contracts_usable(net: Network, tables: dict[str, pd.DataFrame]) -> np.ndarray:
    """A contract applies only when its seller, its buyer and every route link are usable."""
    links = set(tables["links"].index)
    return np.array([c["seller"] in tables["supplies"].index
                     and c["buyer"] in tables["demands"].index
                     and all(lid in links for lid in route_links(c["links"]))
                     for _, c in net.contracts.iterrows()], dtype=bool)


def _targets_usable(net: Network, usable_links: pd.Series) -> np.ndarray:
    """A route target applies only when the coalition may use every built link it names."""
    built = set(net.active_links().index)
    return np.array([all(usable_links.get(lid, False) for lid in spec.split() if lid in built)
                     for spec in net.targets["links"]], dtype=bool)
