"""Network games: the value of every coalition of players from ONE warm-started HiGHS model.

The least-cost flow LP of the whole network is built once. A coalition S is imposed by bounds:
supplies, link flows and storage injection/withdrawal it may not use get an upper bound of 0;
a demand it may not serve has its unmet amount fixed at the whole demand (so no gas is delivered
to it, and its value of lost load is a constant); a storage it may not use has free levels (its
flows are 0, so its level stays where it starts); a route target applies only when S may use all
its links. Coalitions are visited in Gray-code order, so consecutive ones differ by one player,
only the columns of that player's assets change bounds, and HiGHS' dual simplex restarts from the
previous optimal basis.

Welfare of S: W(S) = value of the demand S serves - supply, transport (tariffs) and storage cost
- the annualised build cost of the built projects S may use, when only the assets S may use (and
the outside world's) exist. A demand band is worth its price; a fixed demand is worth its `value`
(the value of lost load), so a network with fixed demand makes the game about that value: give
demands `price` and `elasticity` (or bands) to value them by what buyers pay. In the game a
tariff is the price of using a pipeline, as the optimiser sees it, so W(S) follows from the LP's
optimum and does not depend on which of several equally good routings HiGHS returns (a run's
welfare, which counts tariffs as the transit countries' income, can: docs/model.md). With the
model's objective, W(S) = -objective(S) + the value of all fixed demand + the build cost of the
built projects S may not use. A contract applies only when S may use its seller, its buyer and
every link of its route.
The coalition's value is v(S) = W(S) - W(empty): what S adds to what the outside world
(non-player assets, see `assets.py`) achieves without any player.

`basis="savings"` values every domestic demand at an outside price instead of its value of lost
load: unmet domestic demand is then imported at that price, and v(S) is the cost S saves against
importing everything at that price (plus its export margins), relative to the outside world.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from corridor.coalitions.assets import access, check_players, holders
from corridor.coalitions.game import GameError, TUGame, gray_order
from corridor.network import Network
from corridor.optimize import FlowSolver, build_flow_model
from corridor.periods import over_horizon
from corridor.validation import route_links

MAX_NETWORK_PLAYERS = 16  # 65,536 LPs
BASES = ("welfare", "savings")
_ZERO = {"supply", "flow_forward", "flow_reverse", "storage_inject", "storage_withdraw"}
_TABLE = {"supply": "supplies", "flow_forward": "links", "flow_reverse": "links",
          "unmet": "demands", "storage_inject": "storages", "storage_withdraw": "storages",
          "storage_level": "storages"}


class CoalitionSolveError(GameError):
    """The LP of a coalition did not solve to optimality: no value is reported for it."""


def restrict_carrier(net: Network, carrier: str | None) -> Network:
    """Only the gas or the oil part of a network (None or 'all': unchanged)."""
    if carrier in (None, "all"):
        return net
    if carrier not in ("gas", "oil"):
        raise GameError(f"carrier must be gas, oil or all, not {carrier!r}")
    tables = {t: getattr(net, t)[getattr(net, t)["carrier"] == carrier]
              for t in ("nodes", "links", "supplies", "demands", "storages", "targets")}
    ids = tables["supplies"].index.union(tables["demands"].index)
    curves = net.curves[net.curves.index.isin(ids)]
    contracts = net.contracts[net.contracts["seller"].isin(tables["supplies"].index)]
    return net.replace(**tables, curves=curves, contracts=contracts)


def valued(net: Network, basis: str, outside_price: dict[str, float] | None) -> Network:
    """The network with demand values set for the chosen basis (see the module docstring)."""
    if basis not in BASES:
        raise GameError(f"basis must be one of {', '.join(BASES)}, not {basis!r}")
    if basis == "welfare":
        return net
    domestic = net.demands["market"] == "domestic"
    carriers = sorted(set(net.demands.loc[domestic, "carrier"]))
    price = outside_price or {}
    missing = [c for c in carriers if c not in price]
    if missing:
        raise GameError(f"basis 'savings' needs an outside (import) price for {', '.join(missing)}"
                        " in USD per base unit (USD/mcm, USD/kt), e.g. gas=350000")
    bad = [c for c in carriers if not (np.isfinite(price[c]) and price[c] >= 0)]
    if bad:
        raise GameError(f"outside price for {', '.join(bad)} must be a non-negative number")
    demands = net.demands.copy()
    demands.loc[domestic, "value"] = demands.loc[domestic, "carrier"].map(price).astype(float)
    return net.replace(demands=demands)


@dataclass
class CoalitionValues:
    """v(S) and W(S) for every coalition bitmask, with how long the solves took."""

    players: tuple[str, ...]
    values: np.ndarray
    welfare: np.ndarray
    seconds: float
    iterations: int
    settings: dict = field(default_factory=dict)

    def game(self) -> TUGame:
        return TUGame(self.players, self.values)

    def label(self, mask: int) -> str:
        return "+".join(p for i, p in enumerate(self.players) if mask >> i & 1) or "{}"


class NetworkGame:
    """The coalition game of a network: v(S) from bounds on one warm-started HiGHS model."""

    def __init__(self, net: Network, players, by: str = "country", periods: int = 1,
                 basis: str = "welfare", outside_price: dict[str, float] | None = None,
                 outside: bool = True, carrier: str = "all", options: dict | None = None):
        net = restrict_carrier(net, carrier)
        held = holders(net, by)
        self.players = check_players(players, held, by)
        if len(self.players) > MAX_NETWORK_PLAYERS:
            raise GameError(f"{len(self.players)} players means 2^{len(self.players)} LPs; "
                            f"at most {MAX_NETWORK_PLAYERS} are supported")
        self.settings = {"by": by, "periods": periods, "basis": basis, "outside": outside,
                         "outside_price": outside_price or {}, "carrier": carrier}
        self.network = valued(net, basis, outside_price)
        self.model = build_flow_model(self.network, periods)
        self.outside = outside
        self._access = access(held, self.players)
        self._columns()
        self._policy_rows()
        inputs = self.model.inputs
        # built projects' annualised cost is in the model's constant; a coalition pays for the
        # built links it may use (as its own sub-network would), not for the others
        self._build_cost = over_horizon(inputs.link_annual_cost.to_numpy(), inputs.days)
        self._link_req = self._access.required["links"].reindex(inputs.links.index).to_numpy()
        self._link_out = self._access.outsider["links"].reindex(inputs.links.index).to_numpy()
        self.solver = FlowSolver(self.model, options)
        lp = self.model.lp
        self._fixed_value = fixed_demand_value(inputs)
        self._usable = np.ones(lp.n_cols, dtype=bool)
        self._row_usable = np.ones(len(self._row_ids), dtype=bool)
        self._empty: float | None = None

    @property
    def iterations(self) -> int:
        return self.solver.iterations

    def _columns(self) -> None:
        """Per LP column: the players its asset needs, and its bounds when excluded."""
        lp, inputs = self.model.lp, self.model.inputs
        self._lower, self._upper = lp.vector("col_lower"), lp.vector("col_upper")
        self._ex_lower, self._ex_upper = self._lower.copy(), self._upper.copy()
        self._req = np.zeros(lp.n_cols, dtype=np.int64)
        self._out = np.zeros(lp.n_cols, dtype=bool)
        owner_ids = {"supply": inputs.supply_units["supply"].to_numpy(),
                     "unmet": inputs.demand_units["demand"].to_numpy()}
        for name, table in _TABLE.items():
            block = lp.columns[name]
            cols = block.index()
            ids = owner_ids.get(name, block.ids)
            self._req[cols] = self._access.required[table].reindex(ids).to_numpy()
            self._out[cols] = self._access.outsider[table].reindex(ids).to_numpy()
            if name in _ZERO:
                self._ex_upper[cols] = 0.0
            elif name == "unmet":
                self._ex_lower[cols] = self._upper[cols]
            else:
                self._ex_lower[cols], self._ex_upper[cols] = -np.inf, np.inf
        req, out = self._contract_access()
        cols = lp.columns["contract"].index()
        self._req[cols], self._out[cols] = req, out
        self._ex_lower[cols] = self._ex_upper[cols] = 0.0

    def _contract_access(self) -> tuple[np.ndarray, np.ndarray]:
        """A contract needs the players of its seller, its buyer and every route link."""
        net, acc = self.network, self._access
        req, out = [], []
        for _, c in net.contracts.iterrows():
            links = route_links(c["links"])
            parts_req = [acc.required["supplies"].get(c["seller"], 0),
                         acc.required["demands"].get(c["buyer"], 0),
                         *acc.required["links"].reindex(links).fillna(0).astype(np.int64)]
            parts_out = [acc.outsider["supplies"].get(c["seller"], False),
                         acc.outsider["demands"].get(c["buyer"], False),
                         *acc.outsider["links"].reindex(links).fillna(False).astype(bool)]
            req.append(np.bitwise_or.reduce(np.array(parts_req, dtype=np.int64)))
            out.append(any(parts_out))
        return np.array(req, dtype=np.int64), np.array(out, dtype=bool)

    def _policy_rows(self) -> None:
        """Route-target and contract-volume rows: a target's players are those of all its
        built links, a contract's those of its seller, buyer and route."""
        lp, inputs = self.model.lp, self.model.inputs
        ids, req, out = [], [], []
        link_req = self._access.required["links"].reindex(inputs.links.index).to_numpy()
        link_out = self._access.outsider["links"].reindex(inputs.links.index).to_numpy()
        rows = lp.rows["target"]
        ids.append(np.arange(rows.start, rows.start + rows.size))
        req += [np.bitwise_or.reduce(link_req[m]) if len(m) else 0
                for m in inputs.target_members]
        out += [bool(link_out[m].any()) for m in inputs.target_members]
        if "contract_volume" in lp.rows:
            rows = lp.rows["contract_volume"]
            ids.append(np.arange(rows.start, rows.start + rows.size))
            c_req, c_out = self._contract_access()
            yearly = self.network.contracts.index.get_indexer(rows.ids)
            req += list(c_req[yearly])
            out += list(c_out[yearly])
        self._row_ids = np.concatenate(ids).astype(np.int32)
        self._row_lower = lp.vector("row_lower")[self._row_ids]
        self._row_upper = lp.vector("row_upper")[self._row_ids]
        self._row_req = np.array(req, dtype=np.int64)
        self._row_out = np.array(out, dtype=bool)

    def _usable_at(self, req: np.ndarray, out: np.ndarray, mask: int) -> np.ndarray:
        ok = (req & ~np.int64(mask)) == 0
        return ok if self.outside else ok & ~out

    def _impose(self, mask: int) -> None:
        """Set the bounds of the assets and policy rows the coalition may not use; the solver
        sends HiGHS only what changed since the previous coalition."""
        usable = self._usable_at(self._req, self._out, mask)
        data = self.solver.current.copy()
        data.col_lower = np.where(usable, self._lower, self._ex_lower)
        data.col_upper = np.where(usable, self._upper, self._ex_upper)
        rows_ok = self._usable_at(self._row_req, self._row_out, mask)
        data.row_lower[self._row_ids] = np.where(rows_ok, self._row_lower, -np.inf)
        self.solver.push(data)

    def welfare(self, mask: int) -> float:
        """W(S) for a coalition bitmask (USD over the horizon; see the module docstring)."""
        self._impose(int(mask))
        status = self.solver.run()
        if status != "optimal":
            raise CoalitionSolveError(
                f"the LP of coalition {self.label(mask)} ended with HiGHS status "
                f"'{self.solver.message()}'; no coalition values are reported "
                "(check route targets, contracts and storage end levels with `corridor run`)")
        usable = self._usable_at(self._link_req, self._link_out, mask)
        unused_build = float(self._build_cost[~usable].sum())
        return -self.solver.objective() + unused_build + self._fixed_value

    def label(self, mask: int) -> str:
        return "+".join(p for i, p in enumerate(self.players) if mask >> i & 1) or "{}"

    def value(self, coalition) -> float:
        """v(S) = W(S) - W(empty) for a coalition given as players (usable as a TUGame value)."""
        if self._empty is None:
            self._empty = self.welfare(0)
        index = {p: i for i, p in enumerate(self.players)}
        unknown = [p for p in coalition if p not in index]
        if unknown:
            raise GameError(f"{', '.join(map(str, unknown))} not among the players")
        return self.welfare(sum(1 << index[p] for p in coalition)) - self._empty

    def solve_all(self, progress: Callable[[int, int], None] | None = None) -> CoalitionValues:
        """All 2^n coalitions in Gray-code order; v(S) and W(S) by bitmask."""
        order = gray_order(len(self.players))
        welfare = np.empty(len(order))
        start, iterations = time.perf_counter(), self.iterations
        for k, mask in enumerate(order):
            welfare[mask] = self.welfare(int(mask))
            if progress is not None:
                progress(k + 1, len(order))
        seconds = time.perf_counter() - start
        self._empty = float(welfare[0])
        return CoalitionValues(self.players, welfare - welfare[0], welfare, seconds,
                               self.iterations - iterations, dict(self.settings))


def coalition_values(net: Network, players, **options) -> CoalitionValues:
    """Shortcut: every coalition's value for `players` (see `NetworkGame` for the options)."""
    return NetworkGame(net, players, **options).solve_all()


def fixed_demand_value(inputs) -> float:
    """USD over the horizon that all fixed demand is worth at its value: the game counts a
    fixed demand served at that value (its shortage is what it would cost unserved)."""
    fixed = inputs.unit_fixed
    return float(np.sum(inputs.unit_amount[:, fixed] * inputs.unit_value[fixed]
                        * inputs.days[:, None]))


def welfare_from_scratch(net: Network, periods: int = 1) -> float:
    """W of a whole network by a cold `optimize` run: minus its objective (tariffs as costs)
    plus the value of its fixed demand."""
    from corridor.optimize import optimize
    from corridor.optimize.inputs import ModelInputs

    results = optimize(net, periods)
    if not results.optimal:
        raise CoalitionSolveError(f"network {net.name}: status {results.status}")
    return -results.objective + fixed_demand_value(ModelInputs.from_network(net, periods))


__all__ = ["NetworkGame", "CoalitionValues", "CoalitionSolveError", "coalition_values",
           "restrict_carrier", "valued", "welfare_from_scratch"]
