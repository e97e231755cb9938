"""Corridor's public Python API: what `import corridor as cr` offers a notebook or a script.

The functions here call the same engine functions as the `corridor` command, with the same
defaults, so a notebook and the command line give the same numbers:

    import corridor as cr
    net = cr.read_network("central-asia")           # a bundled name or a network folder
    run = cr.optimize(cr.apply_scenario(net, "line-d"), periods=12)
    run.welfare(by="country")                       # USD over the horizon, per country
    run.flows(units="display")                      # bcm/yr and Mt/yr

Units. Every number's unit is visible in the table that holds it:

- a column whose values all share one unit ends in it: `welfare_usd`, `congestion_rent_usd`;
- a quantity whose unit depends on the carrier (flows, prices, demand, production) comes in a
  long table, one row per element and period, with a `unit` column naming each row's unit:
  base units (gas mcm/d, oil kt/d; prices USD/mcm, USD/kt) by default, or with
  `units="display"` the units the command line prints (bcm/yr, Mt/yr, USD/1000 m3, USD/t);
- shares (`utilisation`) are fractions, 1.0 = full.

Module import is cheap: the engine (pandas, HiGHS) loads on the first call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from corridor.coalitions.summary import CoalitionSummary
    from corridor.compare import Comparison
    from corridor.hydraulics.check import PlanCheck
    from corridor.hydraulics.results import HydraulicResult
    from corridor.network import Network
    from corridor.optimize.results import Results
    from corridor.plan.results import PlanResults
    from corridor.store import StoredRun
    from corridor.sweep.report import SweepReport

Units = Literal["base", "display"]
PathLike = str | Path

__all__ = ["Run", "SecurityReport", "apply_scenario", "coalition", "coalition_options",
           "compare", "hydraulic_check", "hydraulics", "list_scenarios", "optimize", "plan",
           "read_network", "security", "sweep"]


# -- networks and scenarios ---------------------------------------------------------------------

def read_network(source: PathLike | None = None) -> Network:
    """Read and validate a network.

    Args:
        source: the name of a bundled network (``"central-asia"``, the default when None), a
            network folder (CSV tables and ``network.yaml``, docs/data-contract.md), or any other
            file `corridor.io.read_network` reads.

    Returns:
        The checked network, in base units (gas mcm/d, oil kt/d). Problems in the data raise
        `NetworkError` naming the file, row and column; doubtful data warns (`NetworkWarning`).

    Examples:
        >>> net = cr.read_network("central-asia")
        >>> net.counts()  # rows per table
    """
    from corridor.data import BUNDLED, DEFAULT_NETWORK, resolve
    from corridor.io import read_network as read

    path = resolve(None if source is None else str(source))
    if not path.exists():
        raise FileNotFoundError(
            f"network {str(source)!r} is neither a file or folder nor a bundled network "
            f"(bundled: {', '.join(BUNDLED)}; default {DEFAULT_NETWORK})")
    return read(path)


def apply_scenario(net: Network, scenario: PathLike) -> Network:
    """A new network: `net` changed by a scenario, after the scenarios it extends.

    Args:
        net: the network to change (it is not modified).
        scenario: the name of one of the network's scenarios (see `list_scenarios`) or the path
            of a scenario YAML file (docs/data-contract.md).

    Returns:
        The changed, re-validated network; `optimize` runs it over the scenario's `periods`
        unless told otherwise. A bad scenario raises `ScenarioError` naming file and line.

    Examples:
        >>> line_d = cr.apply_scenario(net, "line-d")
    """
    from corridor.scenario import apply, find_scenario, read_scenario_file

    return apply(net, read_scenario_file(find_scenario(scenario, net)))


def list_scenarios(net: Network) -> pd.DataFrame:
    """The network's named scenarios: one row per scenario, with what it extends, the periods
    it asks for and its one-line description (the table `corridor scenarios` prints).

    Examples:
        >>> cr.list_scenarios(net).loc["line-d", "description"]
    """
    import pandas as pd

    from corridor.scenario import list_scenarios as scenarios

    rows = [{"scenario": s.name, "extends": s.extends or "", "periods": s.periods,
             "description": s.description} for s in scenarios(net)]
    frame = pd.DataFrame(rows, columns=["scenario", "extends", "periods", "description"])
    return frame.set_index("scenario")


def _last_scenario(net: Network) -> tuple[str, int | None]:
    """The name of the last scenario applied to `net` and the periods it asks for (inherited
    through `extends`), as `corridor run --scenario` uses them; ("", None) for none."""
    if not net.scenarios:
        return "", None
    from corridor.scenario import read_scenario_file, scenario_periods

    spec = read_scenario_file(net.scenarios[-1])
    return spec.name, scenario_periods(spec, net)


# -- one optimisation -----------------------------------------------------------------------------

def optimize(net: Network, periods: int | None = None,
             options: dict[str, Any] | None = None) -> Run:
    """Find the flows that maximise total surplus over one year (the LP of docs/model.md).

    Args:
        net: the network (from `read_network`, perhaps changed by `apply_scenario`).
        periods: periods in the year: 1, 12 (months) or 365 (days). Default: the periods of the
            last scenario applied, else 1 (as `corridor run`).
        options: HiGHS options, e.g. ``{"time_limit": 60}``.

    Returns:
        A `Run`: its tables (flows, prices, served demand, welfare by country...) are pandas
        DataFrames with their units. A run that is not optimal says why in `run.diagnosis()`.

    Examples:
        >>> run = cr.optimize(net, periods=12)
        >>> run.summary()
    """
    from corridor.optimize import optimize as solve

    scenario, scenario_periods = _last_scenario(net)
    n = periods or scenario_periods or 1
    return Run(solve(net, n, options), scenario)


def _display_factor(quantity: str, units: Units) -> tuple[float, dict[str, str]]:
    """The factor from base units to `units`, and each carrier's unit name."""
    from corridor import units as u

    if units not in ("base", "display"):
        raise ValueError(f"units must be 'base' or 'display', not {units!r}")
    display = units == "display"
    if quantity == "rate":
        return (u.RATE_TO_DISPLAY, u.DISPLAY_RATE) if display else (1.0, u.BASE_RATE)
    if quantity == "amount":
        return ((1.0 / u.AMOUNT_DIVISOR, u.DISPLAY_AMOUNT) if display
                else (1.0, u.BASE_AMOUNT))
    base_price = {c: f"USD/{a}" for c, a in u.BASE_AMOUNT.items()}
    return (1.0 / u.PRICE_DIVISOR, u.DISPLAY_PRICE) if display else (1.0, base_price)


def _ravel(wide: pd.DataFrame) -> np.ndarray:
    """A (periods x ids) table's values period-major, as floats."""
    return wide.to_numpy(dtype=float).ravel()


@dataclass
class Run:
    """One solved optimisation: what `optimize` returns.

    Tables are pandas DataFrames; see the module docstring for the unit convention. The
    engine's own result object is `results` (tables periods x ids, base units).

    Attributes:
        results: the engine's `corridor.optimize.Results` of this run.
        scenario: the name of the last scenario applied to the network ("" for none).
    """

    results: Results
    scenario: str = ""

    def __repr__(self) -> str:
        welfare = f", welfare {self.total_welfare / 1e9:,.2f} bn USD" if self.optimal else ""
        return (f"<Run {self.network.name} {self.label}: {self.periods} period(s), "
                f"{self.status}{welfare}>")

    @property
    def network(self) -> Network:
        """The network that was solved (scenario applied)."""
        return self.results.network

    @property
    def label(self) -> str:
        """The scenario's name, or "base"."""
        return self.scenario or "base"

    @property
    def status(self) -> str:
        """HiGHS' status: "optimal", "infeasible", ..."""
        return self.results.status

    @property
    def optimal(self) -> bool:
        """True when HiGHS proved the flows optimal."""
        return self.results.optimal

    @property
    def periods(self) -> int:
        """The number of periods in the modelled year."""
        return self.results.n_periods

    @property
    def objective(self) -> float:
        """The LP's objective, USD over the horizon (cost minus value served)."""
        return float(self.results.objective)

    @property
    def total_welfare(self) -> float:
        """Total surplus, USD over the horizon (the sum of `welfare()["welfare_usd"]`)."""
        return self.results.welfare()

    def _long(self, wide: pd.DataFrame, id_name: str, value: str, table: pd.DataFrame,
              context: Sequence[str], quantity: str, units: Units) -> pd.DataFrame:
        """(periods x ids) in base units as rows: period, days, id, context columns, value in
        `units`, unit."""
        import numpy as np
        import pandas as pd

        factor, names = _display_factor(quantity, units)
        n_periods, n_ids = wide.shape
        ids = np.tile(np.asarray(wide.columns, dtype=object), n_periods)
        info = table.reindex(ids)
        rows = pd.DataFrame({"period": np.repeat(np.asarray(wide.index), n_ids),
                             "days": np.repeat(np.asarray(self.results.days, float), n_ids),
                             id_name: ids})
        for col in context:
            rows[col] = info[col].to_numpy()
        rows[value] = _ravel(wide) * factor
        rows["unit"] = info["carrier"].map(names).to_numpy()
        return rows

    def flows(self, units: Units = "base") -> pd.DataFrame:
        """Net flow per link and period, positive from the link's `from` to its `to` node.

        Columns: period, days, link, from, to, carrier, flow, unit, utilisation (the share of
        the capacity in the direction of flow used, NaN without capacity).

        Args:
            units: "base" (mcm/d, kt/d) or "display" (bcm/yr, Mt/yr at that period's rate).
        """
        r = self.results
        rows = self._long(r.flows, "link", "flow", r.network.links, ("from", "to", "carrier"),
                          "rate", units)
        rows["utilisation"] = _ravel(r.utilisation()[r.flows.columns])
        return rows

    def prices(self, units: Units = "base") -> pd.DataFrame:
        """Nodal price per node and period: the value of one more unit there (the balance
        dual). Columns: period, days, node, country, carrier, price, unit.

        Args:
            units: "base" (USD/mcm, USD/kt) or "display" (USD/1000 m3, USD/t).
        """
        r = self.results
        return self._long(r.prices, "node", "price", r.network.nodes, ("country", "carrier"),
                          "price", units)

    def served(self, units: Units = "base") -> pd.DataFrame:
        """Demand per demand row and period: its reference `amount` (after profiles), what it
        was `served`, and the shortage (`unmet`: fixed demand left unserved). A demand that
        answers to price takes more or less than its amount as the price moves, without a
        shortage. Columns: period, days, demand, node, country, market,
        carrier, amount, served, unmet, unit.

        Args:
            units: "base" (mcm/d, kt/d) or "display" (bcm/yr, Mt/yr).
        """
        r = self.results
        demands = r.network.demands
        rows = self._long(r.served(), "demand", "served", demands,
                          ("node", "country", "market", "carrier"), "rate", units)
        factor, _ = _display_factor("rate", units)
        ids = r.served().columns
        rows["amount"] = _ravel(r.demand_amount()[ids]) * factor
        rows["unmet"] = _ravel(r.unmet[ids]) * factor
        return rows[["period", "days", "demand", "node", "country", "market", "carrier",
                     "amount", "served", "unmet", "unit"]]
        return rows

    def supplied(self, units: Units = "base") -> pd.DataFrame:
        """Production per supply row and period. Columns: period, days, supply, node, country,
        carrier, produced, unit.

        Args:
            units: "base" (mcm/d, kt/d) or "display" (bcm/yr, Mt/yr).
        """
        r = self.results
        return self._long(r.supply, "supply", "produced", r.network.supplies,
                          ("node", "country", "carrier"), "rate", units)

    def storage(self, units: Units = "base") -> pd.DataFrame:
        """Storage level at the end of each period, injection and withdrawal. Columns: period,
        days, storage, node, carrier, level, level_unit, inject, withdraw, unit (of inject and
        withdraw).

        Args:
            units: "base" (level mcm or kt, rates per day) or "display" (bcm/Mt, per year).
        """
        r = self.results
        storages = r.network.storages
        rows = self._long(r.storage_inject, "storage", "inject", storages, ("node", "carrier"),
                          "rate", units)
        factor, _ = _display_factor("rate", units)
        rows["withdraw"] = _ravel(r.storage_withdraw) * factor
        level = self._long(r.storage_level, "storage", "level", storages, ("carrier",),
                           "amount", units)
        rows["level"] = level["level"].to_numpy()
        rows["level_unit"] = level["unit"].to_numpy()
        return rows[["period", "days", "storage", "node", "carrier", "level", "level_unit",
                     "inject", "withdraw", "unit"]]

    def welfare(self, by: Literal["country", "owner"] = "country") -> pd.DataFrame:
        """Who gains what, USD over the horizon: one row per country (or owner: an operator, a
        producer, else the country), the welfare components, welfare, and money details.

        welfare = consumer + producer surplus + transport revenue + congestion and storage rent
        + contract transfers - build cost - shortage cost (docs/model.md); the rows add up to
        `total_welfare`. The same figures as `corridor run --json` under `welfare.by_country`.

        Args:
            by: "country" or "owner".
        """
        if by not in ("country", "owner"):
            raise ValueError(f"by must be 'country' or 'owner', not {by!r}")
        self._require_optimal("welfare")
        table = self.results.welfare_by(by)
        return table.rename(columns=lambda c: f"{c}_usd")

    def bottlenecks(self, n: int = 10, units: Units = "base") -> pd.DataFrame:
        """The `n` most used links: mean and peak utilisation (shares), mean flow (with its
        unit) and congestion rent (USD over the horizon), most used first."""
        self._require_optimal("bottlenecks")
        links = self.network.links
        table = self.results.bottlenecks(n).rename(columns={"congestion_rent":
                                                            "congestion_rent_usd"})
        factor, names = _display_factor("rate", units)
        table["mean_flow"] = table["mean_flow"] * factor
        table["unit"] = table["carrier"].map(names)
        table["name"] = links["name"].reindex(table.index).fillna("") if "name" in links else ""
        table.index.name = "link"
        return table[["name", "carrier", "mean_utilisation", "peak_utilisation", "mean_flow",
                      "unit", "congestion_rent_usd"]]

    def contracts(self) -> pd.DataFrame:
        """Per contract: seller, buyer, contract price, volume delivered over the horizon, what
        the buyer pays under it, the same volume at the buyer's nodal price, take-or-pay, the
        transfer to the seller (USD) and the shadow price of its volume band. Prices and volume
        in base units (`price_unit`, `volume_unit`)."""
        self._require_optimal("contracts")
        net = self.network
        table = self.results.contract_table().rename(columns={
            "contract_revenue": "contract_revenue_usd", "nodal_value": "nodal_value_usd",
            "take_or_pay": "take_or_pay_usd", "transfer": "transfer_usd"})
        carrier = net.supplies["carrier"].reindex(table["seller"]).to_numpy()
        _, prices = _display_factor("price", "base")
        _, amounts = _display_factor("amount", "base")
        table["price_unit"] = [prices.get(c, "") for c in carrier]
        table["volume_unit"] = [amounts.get(c, "") for c in carrier]
        table.index.name = "contract"
        return table

    def summary(self) -> pd.DataFrame:
        """The run at a glance: status, size, objective, welfare, shortages; one row per
        figure with its value and unit."""
        r = self.results
        rows: list[tuple[str, object, str]] = [
            ("network", self.network.name, ""), ("scenario", self.label, ""),
            ("periods", self.periods, ""), ("status", self.status, ""),
            ("objective", self.objective if self.optimal else float("nan"), "USD"),
            ("welfare", self.total_welfare if self.optimal else float("nan"), "USD"),
            ("identity_gap", float(r.stats.get("identity_gap", float("nan"))), "share"),
        ]
        if self.optimal:
            factor, names = _display_factor("amount", "base")
            demands = self.network.demands
            unmet = r.volume(r.unmet)
            for carrier, unit in names.items():
                total = float(unmet[demands["carrier"] == carrier].sum()) * factor
                rows.append((f"unmet_{carrier}", total, unit))
        rows += [("variables", int(r.stats.get("variables", 0)), ""),
                 ("solve_seconds", float(r.stats.get("solve_seconds", float("nan"))), "s")]
        import pandas as pd

        return pd.DataFrame(rows, columns=["figure", "value", "unit"]).set_index("figure")

    def diagnosis(self) -> list[str]:
        """Why a run is not optimal: each constraint that cannot be met, as a sentence."""
        return self.results.explain_violations()

    def to_dict(self) -> dict[str, Any]:
        """The run document of `corridor run --json` (docs/data-contract.md)."""
        return {**self.results.to_dict(), "scenario": self.scenario}

    def save(self, store: PathLike | None = None) -> int:
        """Keep the run in the results store (default: $CORRIDOR_STORE or the user data
        folder) as `corridor run` does; returns its run id (`corridor show ID`)."""
        from corridor.outputs import input_hash
        from corridor.store import Store

        with Store(store) as db:
            return db.save(self.results, self.scenario, input_hash(self.network))

    def write(self, folder: PathLike) -> Path:
        """Write the Parquet tables, summary.json and report.html to `folder` (as
        `corridor run --out`); returns the folder."""
        from corridor.outputs import input_hash, write_results
        from corridor.report.html import write_report
        from corridor.store import as_stored

        out = write_results(self.results, folder)
        write_report(as_stored(self.results, self.scenario, input_hash(self.network)),
                     out / "report.html")
        return out

    def to_excel(self, path: PathLike) -> Path:
        """Write the run's tables to an Excel workbook, one sheet a table with units in the
        headers (as `corridor run --excel`); returns the path."""
        from corridor.interchange.excel import write_results_xlsx

        return write_results_xlsx(self.results, path)

    def _stored(self, label: str) -> StoredRun:
        from corridor.outputs import input_hash
        from corridor.store import as_stored

        return _labelled(as_stored(self.results, self.scenario, input_hash(self.network)), label)

    def _require_optimal(self, what: str) -> None:
        if not self.optimal:
            raise ValueError(f"{what}: the run is {self.status}, not optimal; "
                             f"run.diagnosis() says why")


def _labelled(stored: StoredRun, label: str) -> StoredRun:
    """A StoredRun that `Comparison` shows under `label`."""
    from corridor.store import StoredRun

    class Labelled(StoredRun):
        @property
        def label(self) -> str:
            return label

    return Labelled(stored.meta, stored.tables)


def compare(*runs: Run | int, store: PathLike | None = None) -> Comparison:
    """Compare runs, the first being the reference (as `corridor compare`).

    Args:
        *runs: `Run` objects, or ids of runs kept in the results store.
        store: the results store that holds the ids (default: as `corridor runs`).

    Returns:
        The engine's `Comparison`: `headline()` (objective and welfare, bn USD, and their
        change), `unmet_by_country()` (bcm, Mt), `flow_changes()` (bcm/yr, Mt/yr),
        `price_changes()` (USD/1000 m3, USD/t), `transport_revenue()` (M USD),
        `new_bottlenecks()`, `to_dict()`.

    Examples:
        >>> cr.compare(base, cr.optimize(cr.apply_scenario(net, "line-d"))).headline()
    """
    from corridor.compare import Comparison

    if len(runs) < 2:
        raise ValueError("compare needs at least two runs")
    stored: list[StoredRun] = []
    seen: set[str] = set()
    for item in runs:
        if isinstance(item, Run):
            label, k = item.label, 2
            while label in seen:
                label, k = f"{item.label} ({k})", k + 1
            stored.append(item._stored(label))
        else:
            from corridor.store import Store

            with Store(store) as db:
                stored.append(db.load(int(item)))
        seen.add(stored[-1].label)
    if len(seen) < len(stored):
        raise ValueError("compare: a stored run is named twice")
    return Comparison(stored)


# -- planning, games, security, physics, sweeps -------------------------------------------------

def plan(net: Network, years: str | None = None, periods: int | None = None,
         gap: float = 1e-4) -> PlanResults:
    """Which proposed projects to build, and when, over the planning horizon (a MILP;
    docs/planning.md), as `corridor plan`.

    Args:
        net: the network; its proposed links and supplies are the candidate projects.
        years: modelled years "first:last:step" (default: network.yaml `planning.years`).
        periods: representative periods per year (default: `planning.periods`).
        gap: relative MIP gap at which HiGHS stops.

    Returns:
        The engine's `PlanResults`: `builds()` (project -> first year), `values` (cost and
        value per project, USD), `capacity()` (base units), `money_by_country()` (USD per
        year), `welfare()` (discounted USD of the first year), `to_dict()`.
    """
    from corridor.plan import plan as solve_plan

    return solve_plan(net, years=years, periods=periods, gap=gap)


def _players(players: str | Iterable[str]) -> list[str]:
    items = players.split(",") if isinstance(players, str) else list(players)
    return [p.strip() for p in items if p.strip()]


def coalition(net: Network, players: str | Iterable[str] = ("RU", "KZ", "UZ"), *,
              by: str = "country", periods: int | None = None, basis: str = "welfare",
              outside_price: dict[str, float] | None = None, outside: bool = True,
              carrier: str = "all") -> CoalitionSummary:
    """What a union of players is worth against bilateral deals, and a fair split of it (as
    `corridor coalition`; docs/coalitions.md). Every coalition's value is the optimiser's
    welfare on the assets its members hold.

    Args:
        net: the network.
        players: values of the `by` column, e.g. ["RU", "KZ", "UZ"] or "RU,KZ,UZ".
        by: the column naming players: "country", or e.g. "owner" for companies.
        periods: periods in the year (default: the last scenario's, else 1).
        basis: "welfare" or "savings" (cost saved against importing at `outside_price`).
        outside_price: for basis "savings", USD per base unit per carrier.
        outside: assets of non-players are open to every coalition (True) or closed.
        carrier: "all", "gas" or "oil".

    Returns:
        The engine's `CoalitionSummary`, USD per modelled horizon: `table` (per player: alone,
        Shapley value, nucleolus, marginal contribution), `coalitions` (every coalition's
        value), `core`, `bilateral`, `properties`, `to_dict()`.
    """
    from corridor.coalitions.network_game import NetworkGame
    from corridor.coalitions.summary import summarise

    n = periods or _last_scenario(net)[1] or 1
    game = NetworkGame(net, _players(players), by=by, periods=n, basis=basis,
                       outside_price=outside_price, outside=outside, carrier=carrier)
    return summarise(game.solve_all(), net.name)


def coalition_options(net: Network, players: str | Iterable[str], options: Sequence[str], *,
                      by: str = "country", periods: int | None = None, basis: str = "welfare",
                      outside_price: dict[str, float] | None = None, outside: bool = True,
                      carrier: str = "all") -> pd.DataFrame:
    """What the option to build proposed links does to each player's bargaining power (as
    `corridor coalition --options`). The arguments other than `options` are those of
    `coalition`.

    Args:
        options: proposed link ids, "+" joining links built together, e.g. ["G30+G31", "G32"].

    Returns:
        Per option and player: the change in Shapley value and nucleolus, the change in the
        union's value and the option's annual cost (USD over the modelled horizon).
    """
    from corridor.coalitions.options import option_values

    n = periods or _last_scenario(net)[1] or 1
    values = option_values(net, _players(players), list(options), by=by, periods=n, basis=basis,
                           outside_price=outside_price, outside=outside, carrier=carrier)
    return values.strategic_values()


@dataclass
class SecurityReport:
    """Security of gas supply (as `corridor security`; docs/coalitions.md).

    Attributes:
        n_minus_one: per country, the N-1 terms of EU Regulation 2017/1938 Annex II (EP, P, S,
            LNG, I, D_max in mcm/d; I_infrastructure names the largest, I_carried the gas it
            carries to the country, D_max_basis where D_max comes from; N-1 in per cent;
            EP_nameplate and the transit on the entries for comparison), as `corridor
            security` prints them.
        disruptions: per disruption (for each country the infrastructures that carry the
            most gas to it), mode (cooperative, own
            demand first) and country: unserved demand on the peak day (mcm/d) and its share
            of D_max.
        units: the unit of the volumes, "mcm/d".
    """

    n_minus_one: pd.DataFrame
    disruptions: pd.DataFrame
    units: str = "mcm/d"


def security(net: Network, countries: Sequence[str] | None = None, top: int = 4
             ) -> SecurityReport:
    """N-1 per country and the unserved demand when the largest infrastructures fail.

    Args:
        net: the network (its gas part is assessed).
        countries: countries to assess (default: every country with domestic gas demand).
        top: for each country, disrupt this many of the infrastructures that carry the most
            gas to it on the peak day.
    """
    from corridor.coalitions.security import n_minus_one, simulate

    chosen = list(countries) if countries else None
    return SecurityReport(n_minus_one(net, chosen), simulate(net, chosen, top))


def hydraulics(network: Network | PathLike, *, nominations: PathLike | None = None,
               compressors: PathLike | None = None, friction: str = "colebrook",
               compressibility: str = "papay", slack: str | None = None,
               slack_pressure_bar: float | None = None,
               adjust_set_points: bool = True) -> HydraulicResult:
    """Steady-state gas pressures and flows (as `corridor hydraulics solve`;
    docs/hydraulics.md).

    Args:
        network: a `Network`, a GasLib .net file, a network folder or a bundled name.
        nominations: GasLib .scn file of entry and exit flows (.net files only).
        compressors: GasLib .cs file (default: the .cs beside the .net file).
        friction: "colebrook", "swamee-jain" or "nikuradse".
        compressibility: "linear", "constant", "papay" or "aga".
        slack: the pressure reference node; slack_pressure_bar its pressure (bar absolute).
        adjust_set_points: move set points into their bounds.

    Returns:
        The engine's `HydraulicResult`: `converged`, `nodes_frame()` and `elements_frame()`
        (units in the column names: p_bar, flow_1000m3_h, ...), `violations`, `to_dict()`.
    """
    from corridor.hydraulics import SolverOptions, model_from_network, solve
    from corridor.network import Network as Net

    if isinstance(network, Net):
        net = network
    elif Path(network).suffix.lower() == ".net":
        from corridor.io.gaslib import read_gaslib

        path = Path(network)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        cs = compressors
        if cs is None and path.with_suffix(".cs").is_file():
            cs = path.with_suffix(".cs")
        net = read_gaslib(path, nominations, cs)
    else:
        if nominations is not None:
            raise ValueError("nominations apply to GasLib .net files only")
        net = read_network(network)
    model = model_from_network(net, friction=friction, compressibility=compressibility,
                               slack=slack, slack_pressure_bar=slack_pressure_bar)
    return solve(model, SolverOptions(adjust_set_points=adjust_set_points))


def hydraulic_check(run: Run, period: int | None = None, *, maop_bar: float = 75.0,
                    min_pressure_bar: float = 35.0) -> PlanCheck:
    """Check that a run's gas flows fit the pipes' pressures and say what compression they
    need (as `corridor hydraulics check`).

    Args:
        run: a solved `Run`.
        period: the period to check (default: the one with the largest total gas flow).
        maop_bar: maximum operating pressure where the data gives none (bar).
        min_pressure_bar: minimum pressure where the data gives none (bar).

    Returns:
        The engine's `PlanCheck`: `segments` (flows in mcm/d, pressures in bar, power in MW),
        `problems`, `skipped`, `assumptions`, `to_dict()`.
    """
    from corridor.hydraulics.check import CheckAssumptions, check_plan

    net, flows = run.network, run.results.flows
    gas = [c for c in flows.columns if net.links.at[c, "carrier"] == "gas"]
    busiest = flows[gas].abs().sum(axis=1)
    chosen = int(busiest.index[int(busiest.to_numpy().argmax())]) if period is None else period
    if chosen not in flows.index:
        raise ValueError(f"period {chosen} is not a period of the run (1 to {run.periods})")
    return check_plan(net, flows.iloc[list(flows.index).index(chosen)], period=chosen,
                      assumptions=CheckAssumptions(maop_bar=maop_bar,
                                                   min_pressure_bar=min_pressure_bar))


def sweep(file: PathLike, draws: int | None = None, seed: int | None = None,
          workers: int | None = None, store: PathLike | None = None) -> SweepReport:
    """Run a sweep of many draws (outages, multipliers, a grid) and aggregate it (as
    `corridor sweep` then `corridor sweep-report`; docs/sweeps.md).

    Args:
        file: a sweep YAML file or a bundled sweep's name (e.g. "outages").
        draws: number of draws (default: the file's); seed: the random seed (default: the
            file's).
        workers: worker processes (default: one per core; 0: solve in this process).
        store: the results store the draws are written to (default: as `corridor sweep`).

    Returns:
        The engine's `SweepReport`: `domestic` and `export` (loss-of-load probability and
        unserved volume per country, base units over the horizon), `revenue` (USD), `flows`,
        `objective`, `meta` (with `sweep_id`).
    """
    from corridor.sweep.report import load_report
    from corridor.sweep.results import SweepStore
    from corridor.sweep.run import executor_for, load_job, run_and_store

    job = load_job(file, draws=draws, seed=seed)
    sweep_id, _ = run_and_store(job, executor_for(workers), store)
    with SweepStore(store) as db:
        return load_report(db, sweep_id)

