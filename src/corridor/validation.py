"""Turn raw tables into a checked Network, naming the file, line, column and id of every problem.

Raw tables are DataFrames of strings in file order (as read from CSV) or of values (as built in
Python). Checks run table by table, then across tables; all problems found are reported together
in one `NetworkError`, so a user fixes a folder in one pass.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order

from corridor.network import Network, NetworkMeta
from corridor.schema import (
    CONTRACT_PERIODS,
    EXPANSIONS,
    GROUP_KINDS,
    MARKETS,
    NUMBER,
    STATUSES,
    TABLES,
    WORLD,
    Table,
)
from corridor.units import BASE_AMOUNT, BASE_RATE, CARRIERS, UnitError, factor_to_base

MAX_REPORTED = 12


@dataclass(frozen=True)
class Problem:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


class NetworkError(ValueError):
    """One or more problems in a network's data, each with its location."""

    def __init__(self, problems: list[Problem], origin: str = "network"):
        self.problems = problems
        self.origin = origin
        shown = "; ".join(str(p) for p in problems[:MAX_REPORTED])
        more = len(problems) - MAX_REPORTED
        tail = f"; and {more} more" if more > 0 else ""
        n = len(problems)
        super().__init__(f"{origin} has {n} problem{'s' if n > 1 else ''}: {shown}{tail}.")


class NetworkWarning(UserWarning):
    """Something legal but probably unintended, e.g. a demand no supply can reach."""


class _Checker:
    """Collects problems while a network is built; knows how to name a row's location."""

    def __init__(self, from_files: bool):
        self.problems: list[Problem] = []
        self.from_files = from_files

    def where(self, table: Table, row: int | None = None, column: str | None = None,
              rid: object = None) -> str:
        place = table.file if self.from_files else f"table {table.name}"
        if row is not None:
            place += f", line {row + 2}" if self.from_files else f", row {row}"
        if column is not None:
            place += f", column {column}"
        if rid is not None and str(rid) != "":
            place += f" (id {rid})"
        return place

    def add(self, where: str, what: str) -> None:
        self.problems.append(Problem(where, what))


def _blank(series: pd.Series) -> pd.Series:
    return series.isna() | (series.astype(str).str.strip() == "")


def _prepare_table(check: _Checker, table: Table, raw: pd.DataFrame | None) -> pd.DataFrame | None:
    """Check columns, ids and numbers of one table; return it with defaults filled, or None."""
    if raw is None:
        if table.mandatory_file:
            check.add(check.where(table), "file is missing")
            return None
        raw = pd.DataFrame(columns=[c.name for c in table.required])
    raw = raw.reset_index(drop=True)
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c.name for c in table.required if c.name not in raw.columns]
    if missing:
        check.add(check.where(table), f"required column(s) missing: {', '.join(missing)} "
                  f"(found: {', '.join(raw.columns) or 'none'})")
        return None
    df = raw.copy()
    absent = {col.name for col in table.optional if col.name not in df.columns}
    ids = df["id"].astype(str).str.strip()
    df["id"] = ids
    for i in np.flatnonzero(_blank(raw["id"]).to_numpy()):
        check.add(check.where(table, i, "id"), "id is empty")
    key = df[list(table.key)].astype(str).apply(lambda c: c.str.strip())
    twice = key.duplicated(keep="first").to_numpy() & (ids != "").to_numpy()
    for i in np.flatnonzero(twice):
        first = int(np.flatnonzero((key == key.iloc[i]).all(axis=1).to_numpy())[0])
        what = "id" if table.key == ("id",) else " and ".join(table.key)
        check.add(check.where(table, i, "id", ids.iloc[i]),
                  f"duplicate {what} (first defined on "
                  f"{check.where(table, first).split(', ')[-1]})")
    for col in table.columns:
        if col.name in absent:  # not in the file: its default, nothing to parse or check
            df[col.name] = float(col.default) if col.kind == NUMBER else str(col.default)
        elif col.kind == NUMBER:
            df[col.name] = _numeric(check, table, df, col)
        else:
            df[col.name] = df[col.name].where(~_blank(df[col.name]), col.default)
            df[col.name] = df[col.name].astype(str).str.strip()
    return df


def _numeric(check: _Checker, table: Table, df: pd.DataFrame, col) -> pd.Series:
    """Parse a numeric column; blank -> default (or an error if required); check its bounds."""
    text = df[col.name]
    blank = _blank(text)
    values = pd.to_numeric(text.where(~blank), errors="coerce").astype(float)
    # pandas' fast parser may round the 17th digit; numpy's str -> float conversion is exact,
    # so written networks read back bit for bit
    ok = values.notna()
    if ok.any():  # str() of a float is its shortest exact repr, so this is exact for both
        values[ok] = text[ok].astype(str).to_numpy(dtype=str).astype(float)
    required = col in table.required
    for i in np.flatnonzero((values.isna() & ~blank).to_numpy()):
        check.add(check.where(table, i, col.name, df["id"].iloc[i]),
                  f"{text.iloc[i]!r} is not a number")
    if required:
        for i in np.flatnonzero(blank.to_numpy()):
            check.add(check.where(table, i, col.name, df["id"].iloc[i]), "value is empty")
    values = values.where(~blank, np.nan if required else col.default).astype(float)
    for i in np.flatnonzero((~np.isfinite(values) & ~values.isna()).to_numpy()):
        check.add(check.where(table, i, col.name, df["id"].iloc[i]), "value is not finite")
    if col.minimum is not None:
        for i in np.flatnonzero((values < col.minimum).to_numpy()):
            check.add(check.where(table, i, col.name, df["id"].iloc[i]),
                      f"{values.iloc[i]:g} is below the minimum {col.minimum:g}")
    if col.below is not None:
        for i in np.flatnonzero((values >= col.below).to_numpy()):
            bound = f"below {col.below:g}" if col.below != 1.0 else "in [0, 1)"
            if col.below > 1.0:
                bound = "at most 1"
            check.add(check.where(table, i, col.name, df["id"].iloc[i]),
                      f"{values.iloc[i]:g} must be {bound}")
    return values


def _check_reference(check: _Checker, table: Table, df: pd.DataFrame, column: str,
                     known: pd.Index, what: str) -> None:
    bad = ~df[column].isin(known)
    for i in np.flatnonzero(bad.to_numpy()):
        check.add(check.where(table, i, column, df["id"].iloc[i]),
                  f"{what} {df[column].iloc[i]!r} does not exist")


def _convert_units(check: _Checker, table: Table, df: pd.DataFrame, carriers: pd.Series) -> None:
    """Convert every quantity column to base units in place, using each row's carrier."""
    reported: set[tuple[int, str]] = set()  # one message per row and unit column
    for col in table.columns:
        if col.unit_column is None:
            continue
        factors = np.full(len(df), np.nan)
        for i, (unit, carrier) in enumerate(zip(df[col.unit_column], carriers, strict=True)):
            if carrier not in CARRIERS:
                continue  # the carrier problem is reported where it arises
            try:
                factors[i] = factor_to_base(str(unit), carrier, col.per_time)
            except UnitError as exc:
                if (i, col.unit_column) not in reported:
                    reported.add((i, col.unit_column))
                    check.add(check.where(table, i, col.unit_column, df["id"].iloc[i]), str(exc))
        df[col.name] = df[col.name].to_numpy(float) * factors
    for col in table.columns:
        if col.unit_column is not None:
            base = BASE_RATE if col.per_time else BASE_AMOUNT
            df[col.unit_column] = carriers.map(base).fillna("").to_numpy()


def _link_carriers(check: _Checker, links: pd.DataFrame, nodes: pd.DataFrame) -> pd.Series:
    """Each link's carrier: its own if given, else its nodes'; mismatches are errors."""
    table = TABLES["links"]
    c_from = nodes["carrier"].reindex(links["from"]).to_numpy()
    c_to = nodes["carrier"].reindex(links["to"]).to_numpy()
    own = links["carrier"].where(links["carrier"] != "").to_numpy()
    carrier = np.where(pd.isna(own), c_from, own)
    for i in range(len(links)):
        ends = {c for c in (c_from[i], c_to[i]) if isinstance(c, str)}
        if isinstance(own[i], str) and own[i] not in CARRIERS:
            check.add(check.where(table, i, "carrier", links["id"].iloc[i]),
                      f"unknown carrier {own[i]!r}; expected gas or oil")
        elif len(ends | ({carrier[i]} if isinstance(carrier[i], str) else set())) > 1:
            check.add(check.where(table, i, "carrier", links["id"].iloc[i]),
                      f"carrier mismatch: link is {carrier[i]}, node {links['from'].iloc[i]} is "
                      f"{c_from[i]}, node {links['to'].iloc[i]} is {c_to[i]}")
    return pd.Series(carrier, index=links.index)


def _check_profiles(check: _Checker, profiles: pd.DataFrame | None, tables: dict,
                    from_files: bool) -> pd.DataFrame:
    """Profiles must have 12 or 365 rows of non-negative numbers; references must exist."""
    place = "profiles.csv" if from_files else "table profiles"
    if profiles is None or profiles.empty:
        profiles = pd.DataFrame(index=pd.RangeIndex(1, 2, name="period"))
    else:
        profiles = profiles.copy()
        profiles.columns = [str(c).strip() for c in profiles.columns]
        if "period" not in profiles.columns:
            check.add(place, "required column missing: period")
            return pd.DataFrame(index=pd.RangeIndex(1, 2, name="period"))
        if len(profiles) not in (12, 365):
            check.add(place, f"has {len(profiles)} rows; a profile has 12 (months) or 365 (days)")
        period = pd.to_numeric(profiles["period"], errors="coerce")
        expected = np.arange(1, len(profiles) + 1)
        if period.isna().any() or sorted(period) != list(expected):
            found = ", ".join(profiles["period"].astype(str)[:6])
            check.add(f"{place}, column period", "periods must be the whole numbers 1 to "
                      f"{len(profiles)}, each once (found {found}"
                      f"{', ...' if len(profiles) > 6 else ''})")
            return pd.DataFrame(index=pd.RangeIndex(1, 2, name="period"))
        profiles["period"] = period.astype(int)
        profiles = profiles.set_index("period").sort_index()
        for name in profiles.columns:
            values = pd.to_numeric(profiles[name], errors="coerce")
            for k in np.flatnonzero((values.isna() | (values < 0)).to_numpy()):
                check.add(f"{place}, line {k + 2}, column {name}",
                          f"{profiles[name].iloc[k]!r} is not a non-negative number")
            profiles[name] = values.astype(float)
    for tname in ("links", "supplies", "demands"):
        df = tables.get(tname)
        if df is None:
            continue
        used = df["profile"].astype(str)
        for i in np.flatnonzero(((used != "") & ~used.isin(profiles.columns)).to_numpy()):
            check.add(check.where(TABLES[tname], i, "profile", df["id"].iloc[i]),
                      f"profile {used.iloc[i]!r} is not a column of profiles.csv")
    return profiles


def _check_targets(check: _Checker, targets: pd.DataFrame, links: pd.DataFrame,
                   link_carrier: pd.Series) -> pd.Series:
    """Each target names one or more existing links of a single carrier."""
    table = TABLES["targets"]
    carrier_of = pd.Series(link_carrier.to_numpy(), index=links["id"])
    carrier_of = carrier_of[~carrier_of.index.duplicated()]  # duplicates are reported elsewhere
    carriers = []
    for i, spec in enumerate(targets["links"]):
        members = spec.replace(",", " ").replace(";", " ").split()
        unknown = [m for m in members if m not in carrier_of.index]
        kinds = set(carrier_of.reindex([m for m in members if m in carrier_of.index]))
        if not members:
            check.add(check.where(table, i, "links", targets["id"].iloc[i]), "names no link")
        if unknown:
            check.add(check.where(table, i, "links", targets["id"].iloc[i]),
                      f"unknown link(s): {', '.join(unknown)}")
        if len(kinds) > 1:
            check.add(check.where(table, i, "links", targets["id"].iloc[i]),
                      "mixes gas and oil links")
        carriers.append(next(iter(kinds)) if len(kinds) == 1 else "")
        targets.loc[i, "links"] = " ".join(members)
    return pd.Series(carriers, index=targets.index, dtype=object)


def parse_route(spec: str) -> list[list[str]]:
    """A contract route 'G09 G10 G12+G13' -> [['G09'], ['G10'], ['G12', 'G13']]: steps in
    order, parallel links of one step joined by '+'."""
    return [[lid for lid in step.split("+") if lid]
            for step in spec.replace(",", " ").replace(";", " ").split()]


def route_links(spec: str) -> list[str]:
    """Every link a contract route names."""
    return [lid for step in parse_route(spec) for lid in step]


def parse_segments(spec: str) -> list[tuple[str, float]]:
    """'KZ:452 RU:1059' -> [('KZ', 452.0), ('RU', 1059.0)]; ValueError naming the bad part."""
    parts = []
    for part in spec.replace(",", " ").replace(";", " ").split():
        country, sep, km = part.partition(":")
        try:
            length = float(km)
        except ValueError:
            length = float("nan")
        if not sep or not country or not np.isfinite(length) or length <= 0:
            raise ValueError(f"segment {part!r} is not COUNTRY:km with km > 0")
        parts.append((country, length))
    return parts


def _check_segments(check: _Checker, links: pd.DataFrame) -> None:
    """`segments` parse as COUNTRY:km and add up to `length_km` when it is given (within 1 %)."""
    table = TABLES["links"]
    for i, spec in enumerate(links["segments"]):
        if spec == "":
            continue
        try:
            parts = parse_segments(spec)
        except ValueError as exc:
            check.add(check.where(table, i, "segments", links["id"].iloc[i]), str(exc))
            continue
        total, length = sum(km for _, km in parts), links["length_km"].iloc[i]
        if np.isfinite(length) and abs(total - length) > 0.01 * length:
            check.add(check.where(table, i, "segments", links["id"].iloc[i]),
                      f"segments add up to {total:g} km but length_km is {length:g}")


def _check_price_response(check: _Checker, demands: pd.DataFrame,
                          curves: pd.DataFrame | None) -> None:
    """`price` and `elasticity` come together, and not on a demand that has explicit bands."""
    table = TABLES["demands"]
    has_price, has_elasticity = demands["price"].notna(), demands["elasticity"].notna()
    banded = demands["id"].isin(curves["id"]) if curves is not None else has_price & False
    for i in np.flatnonzero((has_price != has_elasticity).to_numpy()):
        given, other = ("price", "elasticity") if has_price.iloc[i] else ("elasticity", "price")
        check.add(check.where(table, i, other, demands["id"].iloc[i]),
                  f"{given} is given without {other}; a demand curve needs both")
    for i in np.flatnonzero((has_price & banded).to_numpy()):
        check.add(check.where(table, i, "price", demands["id"].iloc[i]),
                  "this demand has bands in curves.csv; give either bands or price/elasticity")
    if "price_cap" in demands:
        fixed = ~has_price & ~banded & (demands["market"] != "export")
        for i in np.flatnonzero((demands["price_cap"].notna() & fixed).to_numpy()):
            check.add(check.where(table, i, "price_cap", demands["id"].iloc[i]),
                      "a price cap needs a buyer with a value: an export market, a demand "
                      "curve (price/elasticity) or bands, not a fixed demand")


def _check_curves(check: _Checker, curves: pd.DataFrame, demands: pd.DataFrame,
                  supplies: pd.DataFrame) -> None:
    """Each band belongs to one demand or supply, has a whole band number, and a unit that
    fits its carrier (converted to base units here)."""
    table = TABLES["curves"]
    in_demands, in_supplies = curves["id"].isin(demands["id"]), curves["id"].isin(supplies["id"])
    for i in np.flatnonzero((in_demands & in_supplies).to_numpy()):
        check.add(check.where(table, i, "id", curves["id"].iloc[i]),
                  "is both a demand and a supply id; rename one of them")
    for i in np.flatnonzero((~in_demands & ~in_supplies).to_numpy()):
        check.add(check.where(table, i, "id", curves["id"].iloc[i]),
                  "is neither a demand nor a supply id")
    band = curves["band"]
    for i in np.flatnonzero((band.notna() & (band != band.round())).to_numpy()):
        check.add(check.where(table, i, "band", curves["id"].iloc[i]),
                  f"{band.iloc[i]:g} is not a whole number")
    carrier = pd.concat([demands.set_index("id")["carrier"], supplies.set_index("id")["carrier"]])
    carrier = carrier[~carrier.index.duplicated()]
    _convert_units(check, table, curves, carrier.reindex(curves["id"]).reset_index(drop=True))
    curves["kind"] = np.where(in_demands, "demand", "supply")


def _check_contracts(check: _Checker, contracts: pd.DataFrame, demands: pd.DataFrame,
                     supplies: pd.DataFrame, links: pd.DataFrame) -> None:
    """Seller is a supply, buyer a demand, the route's links exist, all of one carrier."""
    table = TABLES["contracts"]
    _check_reference(check, table, contracts, "seller", pd.Index(supplies["id"]), "supply")
    _check_reference(check, table, contracts, "buyer", pd.Index(demands["id"]), "demand")
    seller = supplies.set_index("id")["carrier"]
    seller = seller[~seller.index.duplicated()].reindex(contracts["seller"]).to_numpy()
    buyer = demands.set_index("id")["carrier"]
    buyer = buyer[~buyer.index.duplicated()].reindex(contracts["buyer"]).to_numpy()
    link_carrier = links.set_index("id")["carrier"]
    link_carrier = link_carrier[~link_carrier.index.duplicated()]
    for i in range(len(contracts)):
        def where(col: str, i: int = i) -> str:
            return check.where(table, i, col, contracts["id"].iloc[i])

        if isinstance(seller[i], str) and isinstance(buyer[i], str) and seller[i] != buyer[i]:
            check.add(where("buyer"), f"seller is {seller[i]} but buyer is {buyer[i]}")
        steps = parse_route(contracts["links"].iloc[i])
        members = [lid for step in steps for lid in step]
        unknown = [m for m in members if m not in link_carrier.index]
        if unknown:
            check.add(where("links"), f"unknown link(s): {', '.join(unknown)}")
        wrong = [m for m in members if m in link_carrier.index
                 and isinstance(seller[i], str) and link_carrier[m] != seller[i]]
        if wrong:
            check.add(where("links"), f"link(s) {', '.join(wrong)} do not carry {seller[i]}")
        contracts.loc[i, "links"] = " ".join("+".join(step) for step in steps)
        if members and not unknown:
            broken = _route_gap(steps, links, supplies, demands, contracts.iloc[i])
            if broken:
                check.add(where("links"), broken)
        if contracts["per"].iloc[i] not in CONTRACT_PERIODS:
            check.add(where("per"), f"unknown {contracts['per'].iloc[i]!r}; expected "
                      f"{' or '.join(CONTRACT_PERIODS)}")
        low, high = contracts["min"].iloc[i], contracts["max"].iloc[i]
        if low > high:
            check.add(where("min"), f"min {low:g} is above max {high:g}")
    _convert_units(check, table, contracts, pd.Series(seller))


def _check_choices(check: _Checker, table: Table, df: pd.DataFrame, column: str,
                   allowed: tuple[str, ...]) -> None:
    for i in np.flatnonzero((~df[column].isin(allowed)).to_numpy()):
        check.add(check.where(table, i, column, df["id"].iloc[i]),
                  f"unknown {column} {df[column].iloc[i]!r}; expected {', '.join(allowed)}")


def _check_paths(check: _Checker, paths: pd.DataFrame, demands: pd.DataFrame,
                 supplies: pd.DataFrame) -> None:
    """Each path row names a demand or supply and gives a `factor` or an `amount` (with its
    unit, converted to base units with that row's carrier), not both."""
    table = TABLES["paths"]
    carrier = pd.concat([demands.set_index("id")["carrier"], supplies.set_index("id")["carrier"]])
    carrier = carrier[~carrier.index.duplicated()]
    _check_reference(check, table, paths, "id", carrier.index, "demand or supply")
    has_factor, has_amount = paths["factor"].notna(), paths["amount"].notna()
    for i in np.flatnonzero((has_factor == has_amount).to_numpy()):
        check.add(check.where(table, i, None, paths["id"].iloc[i]),
                  "give either a factor or an amount (with its unit)")
    row_carrier = carrier.reindex(paths["id"]).where(has_amount.to_numpy()).fillna("")
    _convert_units(check, table, paths, pd.Series(row_carrier.to_numpy(), index=paths.index))


def _check_groups(check: _Checker, groups: pd.DataFrame, tables: dict) -> None:
    """A group relates two or more projects: links, supplies or storages (proposed ones are
    the decisions; a member a scenario has built simply operates), each id naming exactly one
    of them."""
    table = TABLES["groups"]
    _check_choices(check, table, groups, "kind", GROUP_KINDS)
    owners: dict[str, list[str]] = {}
    for name in ("links", "supplies", "storages"):
        df = tables[name]
        if df is not None:
            for pid in df["id"]:
                owners.setdefault(pid, []).append(name)
    for i, spec in enumerate(groups["projects"]):
        members = spec.split()
        where = check.where(table, i, "projects", groups["id"].iloc[i])
        if len(members) < 2:
            check.add(where, "a group needs at least two projects")
        unknown = [m for m in members if m not in owners]
        if unknown:
            check.add(where, f"not a link, supply or storage: {', '.join(unknown)}")
        ambiguous = [m for m in members if len(owners.get(m, [])) > 1]
        if ambiguous:
            check.add(where, f"ambiguous project id(s) (in {' and '.join(owners[ambiguous[0]])}):"
                             f" {', '.join(ambiguous)}")


def _route_gap(steps: list[list[str]], links: pd.DataFrame, supplies: pd.DataFrame,
               demands: pd.DataFrame, contract: pd.Series) -> str:
    """'' if the steps lead, in order and forward, from the seller's node to the buyer's node
    (parallel links of a step share both ends); else where the route breaks."""
    ends = links.drop_duplicates("id").set_index("id")[["from", "to"]]
    node = supplies.drop_duplicates("id").set_index("id")["node"].get(contract["seller"])
    goal = demands.drop_duplicates("id").set_index("id")["node"].get(contract["buyer"])
    for step in steps:
        for lid in step:
            if ends.at[lid, "from"] != node:
                return (f"the route breaks at {lid}: it starts at {ends.at[lid, 'from']}, not at "
                        f"{node} (list the links in order, from the seller's node to the "
                        "buyer's; join parallel links with '+')")
        heads = {ends.at[lid, "to"] for lid in step}
        if len(heads) > 1:
            return f"parallel links {'+'.join(step)} end at different nodes"
        node = heads.pop()
    if node != goal:
        return f"the route ends at {node}, not at the buyer's node {goal}"
    return ""


def build_network(raw: dict[str, pd.DataFrame | None], profiles: pd.DataFrame | None = None,
                  meta: NetworkMeta | None = None, origin: str = "<memory>",
                  from_files: bool = False) -> Network:
    """Check raw tables and convert them into a Network in base units, or raise NetworkError."""
    check = _Checker(from_files)
    tables = {name: _prepare_table(check, table, raw.get(name)) for name, table in TABLES.items()}
    nodes, links = tables["nodes"], tables["links"]
    if nodes is not None:
        for i in np.flatnonzero((~nodes["carrier"].isin(CARRIERS)).to_numpy()):
            check.add(check.where(TABLES["nodes"], i, "carrier", nodes["id"].iloc[i]),
                      f"unknown carrier {nodes['carrier'].iloc[i]!r}; expected gas or oil")
        node_ids = pd.Index(nodes["id"])
        carrier_of = nodes.drop_duplicates("id").set_index("id")
        for name, col, what in (("links", "from", "node"), ("links", "to", "node"),
                                ("supplies", "node", "node"), ("demands", "node", "node"),
                                ("storages", "node", "node")):
            if tables[name] is not None:
                _check_reference(check, TABLES[name], tables[name], col, node_ids, what)
        if links is not None:
            links["carrier"] = _link_carriers(check, links, carrier_of)
            _convert_units(check, TABLES["links"], links, links["carrier"])
        for name in ("links", "supplies", "storages"):
            if tables[name] is not None:
                _check_choices(check, TABLES[name], tables[name], "status", STATUSES)
                _check_choices(check, TABLES[name], tables[name], "expansion", EXPANSIONS)
        if tables["demands"] is not None:
            demands = tables["demands"]
            for i in np.flatnonzero((~demands["market"].isin(MARKETS)).to_numpy()):
                check.add(check.where(TABLES["demands"], i, "market", demands["id"].iloc[i]),
                          f"unknown market {demands['market'].iloc[i]!r}; "
                          f"expected {', '.join(MARKETS)}")
        for name in ("supplies", "demands", "storages"):
            df = tables[name]
            if df is not None:
                df["carrier"] = carrier_of["carrier"].reindex(df["node"]).to_numpy()
                _convert_units(check, TABLES[name], df, df["carrier"])
                default_country = carrier_of["country"].reindex(df["node"]).fillna("").to_numpy()
                if name == "demands":  # the buyer at an export market is the world market
                    default_country = np.where(df["market"] == "export", WORLD, default_country)
                df["country"] = np.where(df["country"] == "", default_country, df["country"])
        if links is not None and tables["targets"] is not None:
            tcarrier = _check_targets(check, tables["targets"], links, links["carrier"])
            tables["targets"]["carrier"] = tcarrier
            _convert_units(check, TABLES["targets"], tables["targets"], tcarrier)
        if links is not None:
            _check_segments(check, links)
        if tables["demands"] is not None and tables["supplies"] is not None:
            _check_price_response(check, tables["demands"], tables["curves"])
            if tables["curves"] is not None:
                _check_curves(check, tables["curves"], tables["demands"], tables["supplies"])
            if tables["contracts"] is not None and links is not None:
                _check_contracts(check, tables["contracts"], tables["demands"],
                                 tables["supplies"], links)
        if tables["paths"] is not None and tables["supplies"] is not None \
                and tables["demands"] is not None:
            _check_paths(check, tables["paths"], tables["demands"], tables["supplies"])
        if tables["groups"] is not None:
            _check_groups(check, tables["groups"], tables)
    profiles = _check_profiles(check, profiles, tables, from_files)
    meta = meta or NetworkMeta()
    if nodes is not None:
        for key in meta.key_nodes:
            if key not in set(nodes["id"]):
                check.add("network.yaml, key_nodes", f"node {key!r} does not exist")
        countries = set(nodes["country"]) if "country" in nodes else set()
        for country in meta.security:
            if country not in countries:
                check.add("network.yaml, security", f"country {country!r} has no node")
    if check.problems:
        raise NetworkError(check.problems, origin)
    tables["curves"] = tables["curves"].assign(band=tables["curves"]["band"].astype(int))
    net = Network(**{name: df.set_index("id") for name, df in tables.items()},
                  profiles=profiles, meta=meta, origin=origin)
    _warn_unreachable_demands(net)
    _warn_unbuilt_target_links(net)
    _warn_unbuilt_contract_routes(net)
    return net


def _warn_unbuilt_contract_routes(net: Network) -> None:
    """A contract whose route has a step with no built link delivers nothing; say so."""
    built = set(net.active_links().index)
    for cid, spec in net.contracts["links"].items():
        cut = ["+".join(step) for step in parse_route(spec) if not built & set(step)]
        if cut:
            warnings.warn(f"{net.origin}: contract {cid} runs over link(s) that are not built "
                          f"({', '.join(cut)}); it delivers nothing and its volume band is "
                          "suspended unless a scenario builds them", NetworkWarning,
                          stacklevel=3)


def _warn_unbuilt_target_links(net: Network) -> None:
    """A target over links that are not built counts no flow on them; say so."""
    built = set(net.active_links().index)
    for tid, spec in net.targets["links"].items():
        unbuilt = [lid for lid in spec.split() if lid not in built]
        if unbuilt:
            warnings.warn(f"{net.origin}: target {tid} includes link(s) that are not built "
                          f"({', '.join(unbuilt)}); they carry no flow unless a scenario builds "
                          "them", NetworkWarning, stacklevel=3)


def _warn_unreachable_demands(net: Network) -> None:
    """Warn about demands that no supply or storage can reach over built links."""
    if net.demands.empty:
        return
    node_index = pd.Series(np.arange(len(net.nodes)), index=net.nodes.index)
    links = net.active_links()
    frm = node_index[links["from"]].to_numpy()
    to = node_index[links["to"]].to_numpy()
    rev = links["reverse_capacity"].to_numpy() > 0
    fwd = links["capacity"].to_numpy() > 0
    src = np.concatenate([frm[fwd], to[rev]])
    dst = np.concatenate([to[fwd], frm[rev]])
    n = len(node_index) + 1  # one extra node: a super-source feeding every supply and storage
    feeders = node_index[pd.concat([net.supplies["node"], net.storages["node"]])].to_numpy()
    src = np.concatenate([src, np.full(len(feeders), n - 1)])
    dst = np.concatenate([dst, feeders])
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n)).tocsr()
    reached = set(breadth_first_order(graph, n - 1, directed=True, return_predecessors=False))
    # a market no built line reaches only sells nothing; a domestic demand with nothing to
    # take (a region gasified later in a plan) misses nothing
    wants = (net.demands["market"] == "domestic") & (net.demands["amount"] > 0)
    cut = [d for d, node in net.demands.loc[wants, "node"].items()
           if node_index[node] not in reached]
    if cut:
        warnings.warn(f"{net.origin}: no supply can reach demand(s) {', '.join(cut)}; "
                      "they will be reported as unmet", NetworkWarning, stacklevel=3)
