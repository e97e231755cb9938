"""Apply a scenario to a Network: the changed tables go through the same validation as a folder.

Time-windowed changes (outages, seasonal demand) become daily profiles: each affected row gets a
profile that is its old profile times the change inside the window, so they are exact at any
number of periods.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from corridor.network import Network
from corridor.periods import DAYS_PER_YEAR, MONTH_DAYS, to_daily
from corridor.scenario.file import (
    SCENARIO_SUFFIXES,
    Outage,
    PriceCap,
    Sanction,
    ScenarioError,
    ScenarioFile,
    Selector,
    Window,
    read_scenario_file,
)
from corridor.schema import NUMBER, TABLES
from corridor.units import UnitError, factor_to_base
from corridor.validation import NetworkError, build_network, route_links

EDITABLE = ("nodes", "links", "supplies", "demands", "storages")
# Columns whose value can change within the year, through the row's profile.
PROFILED = {("links", "capacity"), ("links", "reverse_capacity"), ("supplies", "capacity"),
            ("demands", "amount")}


def scenario_folder(net: Network) -> Path | None:
    """Where a network keeps its named scenarios: `scenarios/` beside its tables."""
    return net.origin_path / "scenarios" if net.origin_path else None


def find_scenario(name_or_path: str | Path, net: Network, relative_to: Path | None = None) -> Path:
    """A scenario file by path, by name in `relative_to`, or by name in the network's folder."""
    candidate = Path(name_or_path)
    if candidate.suffix in SCENARIO_SUFFIXES and candidate.is_file():
        return candidate
    for folder in (relative_to, scenario_folder(net)):
        for suffix in SCENARIO_SUFFIXES:
            if folder is not None and (folder / f"{name_or_path}{suffix}").is_file():
                return folder / f"{name_or_path}{suffix}"
    known = ", ".join(s.name for s in list_scenarios(net)) or "none"
    raise ScenarioError(f"scenario {str(name_or_path)!r} is neither a file nor a scenario of "
                        f"network {net.name} (known: {known})")


def list_scenarios(net: Network) -> list[ScenarioFile]:
    """The network's named scenarios, sorted by name."""
    folder = scenario_folder(net)
    if folder is None or not folder.is_dir():
        return []
    files = sorted(p for p in folder.iterdir() if p.suffix in SCENARIO_SUFFIXES)
    return [read_scenario_file(p) for p in files]


def scenario_periods(scenario: ScenarioFile, net: Network) -> int | None:
    """The number of periods a scenario asks for, inherited through `extends`."""
    seen = set()
    while scenario.periods is None and scenario.extends and scenario.path not in seen:
        seen.add(scenario.path)
        scenario = read_scenario_file(find_scenario(scenario.extends, net,
                                                    Path(scenario.path).parent))
    return scenario.periods


def apply_scenario(net: Network, name_or_path: str | Path) -> Network:
    """A new Network: `net` changed by the named (or given) scenario and re-validated."""
    scenario = read_scenario_file(find_scenario(name_or_path, net))
    return apply(net, scenario)


def apply(net: Network, scenario: ScenarioFile) -> Network:
    """Apply `scenario`, after the scenarios it extends, and validate the result once."""
    chain = [scenario]
    while chain[0].extends:
        child = chain[0]
        try:
            parent = read_scenario_file(find_scenario(child.extends, net, Path(child.path).parent))
        except ScenarioError as exc:
            raise ScenarioError(f"{child.path}, line {child.line_of('extends')}: {exc}") from None
        if parent.path in {s.path for s in chain}:
            raise ScenarioError(f"{parent.path}: extends itself through "
                                f"{' -> '.join(s.name for s in chain)}")
        chain.insert(0, parent)
    edit = _Edit(net)
    for step in chain:
        edit.scenario = step
        edit.build()
        edit.block()
        for sanction in step.sanction:
            edit.sanction(sanction)
        for change in step.set:
            edit.set(change)
        for change in step.scale:
            edit.scale(change)
        for outage in step.outages:
            edit.outage(outage)
        edit.add()
        for cap in step.price_cap:
            edit.price_cap(cap)
        edit.targets()
    return edit.result([s.path for s in chain])


class _Edit:
    """Mutable copies of a network's tables while one scenario is applied."""

    def __init__(self, net: Network):
        self.net = net
        self.scenario = ScenarioFile()  # the step being applied, for error messages
        self.tables = {name: getattr(net, name).copy()
                       for name in (*EDITABLE, "targets", "curves", "contracts", "paths",
                                    "groups")}
        self.profiles = net.profiles.copy()
        self.n_windows = 0

    def fail(self, line: int, message: str) -> ScenarioError:
        return ScenarioError(f"{self.scenario.path}, line {line}: {message}")

    def _check_ids(self, table: str, ids: list[str], line: int) -> None:
        unknown = [i for i in ids if i not in self.tables[table].index]
        if unknown:
            raise self.fail(line, f"unknown {table} id(s): {', '.join(unknown)}")

    def select(self, sel: Selector | Outage, table: str | None = None) -> pd.Index:
        """Row ids chosen by `ids` and/or `where`; an empty choice is an error."""
        table = table or sel.table
        df = self.tables[table]
        ids = getattr(sel, "ids", None) or getattr(sel, "links", None)
        rows = df.index
        if ids is not None:
            self._check_ids(table, ids, sel.line)
            rows = pd.Index(ids)
        for column, wanted in (sel.where or {}).items():
            if column not in df.columns:
                raise self.fail(sel.line, f"{table} has no column {column!r}")
            values = wanted if isinstance(wanted, list) else [wanted]
            rows = rows[df.loc[rows, column].astype(str).isin([str(v) for v in values])]
        if len(rows) == 0:
            raise self.fail(sel.line, f"the selection matches no row of {table}")
        return rows

    def build(self) -> None:
        """Proposed links, supplies or storages become operating; their capex is charged in the
        run like a built link's (annualised, `network.annual_cost`)."""
        line = self.scenario.line_of("build")
        kinds = ("links", "supplies", "storages")
        unknown = [p for p in self.scenario.build if not any(p in self.tables[t].index
                                                             for t in kinds)]
        if unknown:
            raise self.fail(line, f"unknown links id(s): {', '.join(unknown)} (nor supplies or "
                            "storages)")
        for pid in self.scenario.build:
            tables = [t for t in kinds if pid in self.tables[t].index]
            if len(tables) > 1:
                raise self.fail(line, f"build: {pid!r} is an id in {' and '.join(tables)}")
            self.tables[tables[0]].loc[pid, "status"] = "operating"

    def sanction(self, sanction: Sanction) -> None:
        """Close what the named owners own: links (both directions), supplies and demands to 0
        (inside the window, if any), storages to no rate for the year; contracts whose seller,
        buyer or route is closed are suspended, as under `block`."""
        closed: dict[str, pd.Index] = {}
        for owner in sanction.owners:
            hits = {t: self._owned_by(t, owner, sanction.match) for t in sanction.tables}
            if not any(len(rows) for rows in hits.values()):
                known = sorted({o for t in sanction.tables if "owner" in self.tables[t]
                                for o in self.tables[t]["owner"].astype(str) if o})
                raise self.fail(sanction.line, f"sanction: owner {owner!r} owns no row of "
                                f"{', '.join(sanction.tables)} (match: {sanction.match}); "
                                f"owners are: {'; '.join(known)}")
            for t, rows in hits.items():
                closed[t] = closed.get(t, pd.Index([])).union(rows)
        columns = {"links": "capacity", "supplies": "capacity", "demands": "amount"}
        for table, rows in closed.items():
            if not len(rows):
                continue
            if table == "storages":
                if not sanction.whole_year:
                    raise self.fail(sanction.line, "sanction: storages can only be closed for "
                                    f"the whole year ({', '.join(rows)} match); drop the window "
                                    "or give tables without storages")
                self.tables["storages"].loc[rows, "rate"] = 0.0
            elif sanction.whole_year:
                cols = ["capacity", "reverse_capacity"] if table == "links" else [columns[table]]
                self.tables[table].loc[rows, cols] = 0.0
            else:
                self.windowed(table, rows, 0.0, sanction)
        self._suspend_contracts(set(closed.get("links", [])), set(closed.get("supplies", [])),
                                set(closed.get("demands", [])))

    def _owned_by(self, table: str, owner: str, match: str) -> pd.Index:
        df = self.tables[table]
        if "owner" not in df.columns:
            return pd.Index([])
        text = df["owner"].fillna("").astype(str)
        if match == "exact":
            hit = text.str.strip().str.casefold() == owner.strip().casefold()
        else:
            pattern = r"(?<![\w])" + re.escape(owner.strip()) + r"(?![\w])"
            hit = text.str.contains(pattern, case=False, regex=True)
        return df.index[hit.to_numpy(bool)]

    def _suspend_contracts(self, links: set, sellers: set, buyers: set) -> None:
        """Drop contracts that use a closed link, seller or buyer (force majeure)."""
        contracts = self.tables["contracts"]
        if len(contracts) and (links or sellers or buyers):
            keep = [not (links & set(route_links(spec))) and seller not in sellers
                    and buyer not in buyers for spec, seller, buyer in
                    zip(contracts["links"], contracts["seller"], contracts["buyer"], strict=True)]
            self.tables["contracts"] = contracts[keep]

    def price_cap(self, cap: PriceCap) -> None:
        """The demand `buyer` pays sellers at most the cap (USD per base unit after conversion),
        on the spot and in its contracts; the lower of two caps holds."""
        self._check_ids("demands", [cap.buyer], cap.line)
        demands = self.tables["demands"]
        row = demands.loc[cap.buyer]
        banded = len(self.tables["curves"]) and cap.buyer in self.tables["curves"].index
        if row.get("market") != "export" and not row.get("price") == row.get("price") \
                and not banded:
            raise self.fail(cap.line, f"price_cap: {cap.buyer} is a fixed demand (no market "
                            "value to cap); cap an export market or a demand with a curve")
        carrier = self.carriers("demands", pd.Index([cap.buyer]))[0]
        money, _, amount = cap.unit.partition("/")
        if money.strip() != "USD" or not amount.strip():
            raise self.fail(cap.line, f"price_cap: unit {cap.unit!r} is not USD per an amount "
                            "(e.g. USD/bbl, USD/t, USD/1000 m3)")
        try:
            per_base = factor_to_base(amount.strip(), carrier, per_time=False)
        except UnitError as exc:
            raise self.fail(cap.line, f"price_cap: {exc}") from None
        value = cap.price / per_base
        if "price_cap" not in demands.columns:
            demands["price_cap"] = np.nan
        old = demands.at[cap.buyer, "price_cap"]
        demands.at[cap.buyer, "price_cap"] = value if not old == old else min(old, value)
        contracts = self.tables["contracts"]
        if len(contracts):  # a contract with the buyer cannot price above the cap either
            mine = contracts["buyer"] == cap.buyer
            contracts.loc[mine, "price"] = contracts.loc[mine, "price"].clip(upper=value)

    def block(self) -> None:
        block = self.scenario.block
        links, nodes = self.tables["links"], self.tables["nodes"]
        unknown = sorted(set(block.countries) - set(nodes["country"]))
        if unknown:
            raise self.fail(block.line, f"unknown country(ies): {', '.join(unknown)}")
        self._check_ids("links", block.links, block.line)
        country_of = nodes["country"]
        touches = (links["from"].map(country_of).isin(block.countries)
                   | links["to"].map(country_of).isin(block.countries))
        blocked = touches | links.index.isin(block.links)
        links.loc[blocked, ["capacity", "reverse_capacity"]] = 0.0
        # a contract whose route crosses a blocked link is suspended (force majeure): its
        # volume band no longer binds, rather than making the model infeasible
        self._suspend_contracts(set(links.index[blocked]), set(), set())

    def set(self, change) -> None:
        rows = self.select(change)
        df, spec = self.tables[change.table], TABLES[change.table].column(change.column)
        if change.column not in df.columns or change.column == "carrier":
            raise self.fail(change.line, f"{change.table} has no settable column "
                                         f"{change.column!r}")
        if spec is not None and spec.unit_column is not None:
            df.loc[rows, change.column] = self._to_base(change, rows, spec.per_time)
        elif spec is not None and spec.kind == NUMBER:
            df.loc[rows, change.column] = self._number(change.value, change.line)
        else:
            df.loc[rows, change.column] = str(change.value)

    def _number(self, value, line: int) -> float:
        try:
            return float(value)
        except ValueError:
            raise self.fail(line, f"{value!r} is not a number") from None

    def _to_base(self, change, rows: pd.Index, per_time: bool) -> np.ndarray:
        if not change.unit:
            raise self.fail(change.line, f"setting {change.column} needs a unit "
                                         "(e.g. unit: bcm/yr)")
        carriers = self.carriers(change.table, rows)
        try:
            factors = [factor_to_base(change.unit, c, per_time) for c in carriers]
        except UnitError as exc:
            raise self.fail(change.line, str(exc)) from None
        return self._number(change.value, change.line) * np.asarray(factors)

    def carriers(self, table: str, rows: pd.Index) -> np.ndarray:
        df = self.tables[table]
        if table == "nodes" or table == "links":
            return df.loc[rows, "carrier"].to_numpy()
        return self.tables["nodes"].loc[df.loc[rows, "node"], "carrier"].to_numpy()

    def scale(self, change) -> None:
        rows = self.select(change)
        df = self.tables[change.table]
        spec = TABLES[change.table].column(change.column)
        if spec is None or spec.kind != NUMBER or change.column not in df.columns:
            raise self.fail(change.line, f"{change.table} has no numeric column "
                                         f"{change.column!r} to scale")
        if change.whole_year:
            df.loc[rows, change.column] = df.loc[rows, change.column] * change.factor
        elif (change.table, change.column) in PROFILED:
            self.windowed(change.table, rows, change.factor, change)
        else:
            raise self.fail(change.line, "a time window applies only to link capacity, supply "
                                         "capacity and demand amount")

    def outage(self, outage: Outage) -> None:
        rows = self.select(outage, "links")
        if outage.whole_year:
            self.tables["links"].loc[rows, ["capacity", "reverse_capacity"]] *= outage.availability
        else:
            self.windowed("links", rows, outage.availability, outage)

    def windowed(self, table: str, rows: pd.Index, factor: float, window: Window) -> None:
        """Multiply the rows' profiles by `factor` inside the window (daily resolution)."""
        self.n_windows += 1
        daily = self._daily_profiles()
        inside = _window_mask(window)
        df = self.tables[table]
        for base, members in df.loc[rows].groupby("profile").groups.items():
            shape = daily[base].to_numpy() if base else np.ones(DAYS_PER_YEAR)
            name = f"{self.scenario.name}#{self.n_windows}" + (f"*{base}" if base else "")
            daily[name] = np.where(inside, factor, 1.0) * shape
            df.loc[members, "profile"] = name
        self.profiles = daily

    def _daily_profiles(self) -> pd.DataFrame:
        values = {c: to_daily(self.profiles[c].to_numpy(float)) for c in self.profiles.columns}
        return pd.DataFrame(values, index=pd.RangeIndex(1, DAYS_PER_YEAR + 1, name="period"))

    def add(self) -> None:
        for table, rows in self.scenario.add.items():
            new = pd.DataFrame([dict(r) for r in rows])
            line = self.scenario.line_of("add")
            if "id" not in new.columns or new["id"].isna().any():
                raise self.fail(line, f"rows added to {table} need an id")
            clash = sorted(set(new["id"].astype(str)) & set(self.tables[table].index))
            if clash:
                raise self.fail(line, f"{table} already has id(s): {', '.join(clash)}")
            self.tables[table] = pd.concat([self.tables[table], new.set_index("id")])

    def targets(self) -> None:
        rows = [{"id": t.id, "links": " ".join(t.links), "minimum": t.minimum, "unit": t.unit,
                 "from_year": float("nan") if t.from_year is None else float(t.from_year)}
                for t in self.scenario.targets]
        for t in self.scenario.targets:
            self._check_ids("links", t.links, t.line)
        if rows:
            targets = self.tables["targets"].reset_index().drop(columns="carrier",
                                                                 errors="ignore")
            self.tables["targets"] = pd.concat([targets, pd.DataFrame(rows)]).set_index("id")

    def result(self, paths: list[str]) -> Network:
        raw = {name: df.reset_index().rename(columns={"index": "id"})
               for name, df in self.tables.items()}
        profiles = self.profiles.reset_index() if self.profiles.shape[1] else None
        try:
            net = build_network(raw, profiles, self.net.meta, origin=self.net.origin)
        except NetworkError as exc:
            raise ScenarioError(
                f"{self.scenario.path}: after applying the scenario, {exc}") from None
        net.scenarios = (*self.net.scenarios, *paths)
        return net


def _window_mask(window: Window) -> np.ndarray:
    """True on the days (1..365) the window covers."""
    day = np.arange(1, DAYS_PER_YEAR + 1)
    if window.days:
        return (day >= window.days[0]) & (day <= window.days[1])
    month = np.repeat(np.arange(1, 13), MONTH_DAYS)
    return np.isin(month, window.months)
