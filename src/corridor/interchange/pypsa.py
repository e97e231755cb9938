"""Corridor <-> PyPSA: the same flow LP as a `pypsa.Network`, and a PyPSA gas network back.

`to_pypsa` writes the LP of docs/model.md with PyPSA components, so that PyPSA's `optimize`
(linopy + HiGHS) finds the same objective as `corridor.optimize` (docs/interchange.md has the
mapping table). `from_pypsa` reads buses, links, generators, loads and storage units back into
Corridor tables and checks them with the same validation as a network folder. Rates are base units
per day (mcm/d for gas, kt/d for crude), amounts base units, money USD; a snapshot is a period and
its weighting its days. Attributes that PyPSA has no place for (country, owner, source, planning
columns, ...) travel as extra columns named `corridor_<column>`; the tables the flow LP does not
use (paths, groups) and the network.yaml keys travel in `n.meta["corridor"]`.

pypsa is imported inside the functions: Corridor imports without it.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from corridor.network import Network, NetworkMeta
from corridor.periods import period_days, resample
from corridor.schema import BUILT_STATUSES, TABLES
from corridor.units import BASE_AMOUNT, BASE_RATE, CARRIERS

if TYPE_CHECKING:  # pragma: no cover
    import pypsa

PREFIX = "corridor_"
REVERSE = "~reverse"  # name suffix of the Link that carries a reversible link's reverse flow
ROLE = PREFIX + "role"  # supply | demand | shedding | reverse: what a component stands for
META_KEY = "corridor"
# Tables the flow LP does not read, carried untouched in n.meta (docs/interchange.md).
PASSENGER_TABLES = ("paths", "groups")
# Tables whose rows become linopy constraints (`corridor_constraints`), also carried in n.meta.
CONSTRAINT_TABLES = ("targets", "contracts")
# Columns represented by PyPSA attributes, per Corridor table (the rest become extra columns).
_NATIVE = {
    "nodes": {"id", "carrier"},  # lat, lon also go as x, y; the extras keep a blank one blank
    "links": {"id", "from", "to", "capacity", "unit", "reverse_capacity", "tariff", "loss",
              "carrier"},
    "supplies": {"id", "node", "capacity", "unit", "cost", "carrier"},
    "demands": {"id", "node", "unit", "carrier"},
    "storages": {"id", "node", "volume", "volume_unit", "rate", "rate_unit", "initial", "final",
                 "cost", "carrier"},
}


class InterchangeError(ValueError):
    """A PyPSA network (or a Corridor one) that cannot be mapped; the message names the
    component and why."""


# ----------------------------------------------------------------------------- export


def _profile_frame(net: Network, periods: int) -> pd.DataFrame:
    """(periods x profiles) multipliers, rows 0..periods-1: the profiles as given when they
    already have `periods` rows (bit for bit), else their day-weighted means."""
    if len(net.profiles) == periods:
        return net.profiles.reset_index(drop=True)
    return resample(net.profiles, periods)


def _alpha(table: pd.DataFrame, shape: pd.DataFrame) -> np.ndarray:
    """(periods x rows) profile multipliers of each row (1 without a profile)."""
    names = table["profile"] if "profile" in table else pd.Series("", index=table.index)
    grid = shape.reindex(columns=names.to_numpy()).to_numpy(float, copy=True)
    grid[:, (names == "").to_numpy()] = 1.0
    return grid


def _extras(table: pd.DataFrame, name: str, rows: pd.Index | None = None) -> dict[str, Any]:
    """Columns of a Corridor table that PyPSA has no attribute for, as `corridor_<col>`."""
    df = table.reset_index()
    if rows is not None:
        df = df.set_index("id").loc[rows].reset_index()
    skip = _NATIVE[name] | {"kind"} if name in ("supplies", "demands") else _NATIVE[name]
    return {PREFIX + c: df[c].to_numpy() for c in df.columns if c not in skip}


def _series(values: np.ndarray, snapshots: pd.Index, names) -> pd.DataFrame:
    return pd.DataFrame(values, index=snapshots, columns=pd.Index(names, dtype=object))


def _records(df: pd.DataFrame) -> list[dict]:
    """A table as JSON-safe records (NaN -> None)."""
    out = df.reset_index().astype(object).where(df.reset_index().notna(), None)
    return out.to_dict(orient="records")


def to_pypsa(net: Network, periods: int = 12) -> pypsa.Network:
    """The flow LP of `net` over `periods` periods of one year as a PyPSA network.

    Args:
        net: a checked Corridor network.
        periods: 1, 12 (months) or up to 365; snapshots 1..periods weighted by their days.

    Returns:
        A `pypsa.Network` whose `optimize()` objective plus
        `n.meta["corridor"]["objective_constant"]` (the annualised build cost of built links)
        equals Corridor's objective. Route targets and contracts are not PyPSA components: pass
        `extra_functionality=corridor_constraints` to `n.optimize` to add them.
    """
    import pypsa

    from corridor.optimize.inputs import ModelInputs

    inputs = ModelInputs.from_network(net, periods)
    days = period_days(periods)
    shape = _profile_frame(net, periods)
    n = pypsa.Network(name=net.name)
    n.set_snapshots(pd.Index(np.arange(1, periods + 1), name="snapshot"))
    n.snapshot_weightings.loc[:, :] = days[:, None]
    n.add("Carrier", sorted(set(net.nodes["carrier"])))
    nodes = net.nodes
    n.add("Bus", nodes.index, carrier=nodes["carrier"].to_numpy(), x=nodes["lon"].to_numpy(),
          y=nodes["lat"].to_numpy(), **_extras(nodes, "nodes"))
    _add_links(n, net, shape)
    _add_supplies(n, net, inputs, shape)
    _add_demands(n, net, inputs, shape)
    _add_storages(n, net)
    constant = float(inputs.link_annual_cost.sum() * days.sum() / 365.0)
    n.meta[META_KEY] = {
        "network": json.loads(json.dumps(net.meta.model_dump(), default=str)),
        "periods": periods,
        "objective_constant": constant,
        "profiles": list(net.profiles.columns),
        "unused_profiles": _unused_profiles(net, shape),
        "order": {"demands": list(net.demands.index), "supplies": list(net.supplies.index)},
        "columns": {name: ["id", *getattr(net, name).columns] for name in _NATIVE},
        **{name: _records(getattr(net, name)) for name in (*PASSENGER_TABLES,
                                                             *CONSTRAINT_TABLES)},
    }
    return n


def _unused_profiles(net: Network, shape: pd.DataFrame) -> dict[str, list[float]]:
    """Profiles no row names, per period (they have no PyPSA component to ride on)."""
    used = {p for name in ("links", "supplies", "demands") for p in getattr(net, name)["profile"]}
    return {c: shape[c].tolist() for c in shape.columns if c not in used}


def add_links(n: pypsa.Network, links: pd.DataFrame, p_max_pu: pd.DataFrame | None = None,
              **extra: Any) -> None:
    """Add Corridor links (a links table indexed by id, in base units) to a PyPSA network.

    A Link per link for the forward direction, and one `<id>~reverse` per reversible link
    (`reverse_capacity` > 0): losses apply in both directions, as in Corridor (a single PyPSA
    Link with p_min_pu < 0 would gain energy going backwards). p_nom = capacity, efficiency =
    1 - loss, marginal_cost = tariff; a link whose `status` is not operating is inactive.

    Args:
        n: the network to add to (its buses must exist).
        links: Corridor links: from, to, capacity; optional reverse_capacity, tariff, loss,
            status, carrier.
        p_max_pu: (snapshots x link ids) availability (a link's profile); 1 when None.
        **extra: further static attributes of the forward Links (e.g. corridor_<column>).
    """
    def col(name: str, default: Any) -> np.ndarray:
        return (links[name] if name in links else pd.Series(default, index=links.index)).to_numpy()

    if links.empty:
        return
    status = col("status", "operating")
    common = {"active": np.isin(status, BUILT_STATUSES)}
    if "carrier" in links:
        common["carrier"] = col("carrier", "")
    if p_max_pu is not None:
        common["p_max_pu"] = p_max_pu
    keep = 1.0 - col("loss", 0.0).astype(float)
    tariff = col("tariff", 0.0).astype(float)
    n.add("Link", links.index, bus0=col("from", ""), bus1=col("to", ""),
          p_nom=col("capacity", 0.0).astype(float), efficiency=keep, marginal_cost=tariff,
          **common, **extra)
    reverse = col("reverse_capacity", 0.0).astype(float)
    has = reverse > 0
    if not has.any():
        return
    names = links.index[has] + REVERSE
    rev = {k: (v[has] if isinstance(v, np.ndarray) else
               v[links.index[has]].set_axis(names, axis=1)) for k, v in common.items()}
    n.add("Link", names, bus0=col("to", "")[has], bus1=col("from", "")[has], p_nom=reverse[has],
          efficiency=keep[has], marginal_cost=tariff[has], **rev,
          **{ROLE: "reverse", PREFIX + "link": links.index[has].to_numpy()})


def _add_links(n: pypsa.Network, net: Network, shape: pd.DataFrame) -> None:
    """The network's links, with their profiles and Corridor-only columns (`add_links`)."""
    links = net.links
    alpha = _series(_alpha(links, shape), n.snapshots, links.index)
    add_links(n, links, alpha, **_extras(links, "links"))


def _add_supplies(n: pypsa.Network, net: Network, inputs, shape: pd.DataFrame) -> None:
    """A Generator per supply unit (a supply, or one per band): p_nom = capacity, marginal cost
    = cost, p_max_pu = its profile."""
    units = inputs.supply_units
    if units.empty:
        return
    sup = net.supplies.loc[units["supply"]]
    alpha = _alpha(sup, shape)
    n.add("Generator", units.index, bus=sup["node"].to_numpy(),
          carrier=sup["carrier"].to_numpy(), p_nom=units["quantity"].to_numpy(float),
          marginal_cost=units["price"].to_numpy(float),
          p_max_pu=_series(alpha, n.snapshots, units.index),
          active=sup["status"].isin(BUILT_STATUSES).to_numpy(),
          **{ROLE: "supply", PREFIX + "supply": units["supply"].to_numpy(),
             PREFIX + "band": _bands(net, "supply", units["supply"]),
             **_extras(net.supplies, "supplies", pd.Index(units["supply"])),
             PREFIX + "capacity": sup["capacity"].to_numpy(float),
             PREFIX + "cost": sup["cost"].to_numpy(float)})


def _bands(net: Network, kind: str, parents: pd.Series) -> np.ndarray:
    """Each unit's band number in curves.csv (NaN for a unit that is not a curves band)."""
    curves = net.curves[net.curves["kind"] == kind] if len(net.curves) else net.curves
    out = np.full(len(parents), np.nan)
    seen: dict[str, int] = {}
    for i, parent in enumerate(parents.to_numpy()):
        if parent in curves.index:
            bands = np.sort(curves.loc[[parent], "band"].to_numpy())
            out[i] = bands[seen.get(parent, 0)]
            seen[parent] = seen.get(parent, 0) + 1
    return out


def _add_demands(n: pypsa.Network, net: Network, inputs, shape: pd.DataFrame) -> None:
    """Fixed demands: a Load (p_set = amount x profile) and a `<id> shedding` Generator at the
    value of lost load. Price-responsive units (bands, export markets): a Generator with sign -1
    (it takes gas off the bus) and marginal cost = -price, so PyPSA's objective is cost minus the
    value served, exactly Corridor's."""
    units, dem = inputs.demand_units, net.demands
    empty = dem.index[~dem.index.isin(units["demand"])]  # e.g. a demand curve of amount 0
    if len(empty):  # kept as a unit of quantity 0, so that the demand travels
        units = pd.concat([units, pd.DataFrame(
            {"demand": empty, "quantity": 0.0, "price": 0.0, "fixed": False}, index=empty)])
    if units.empty:
        return
    fixed = units[units["fixed"]]
    alpha_all = _alpha(dem, shape)
    pos = pd.Series(np.arange(len(dem)), index=dem.index)
    if len(fixed):
        ids = pd.Index(fixed["demand"])
        d = dem.loc[ids]
        alpha = alpha_all[:, pos[ids].to_numpy()]
        amount = d["amount"].to_numpy(float)
        n.add("Load", ids, bus=d["node"].to_numpy(), carrier=d["carrier"].to_numpy(),
              p_set=_series(alpha * amount, n.snapshots, ids), **{ROLE: "demand"},
              **{k: v for k, v in _extras(dem, "demands", ids).items()
                 if k != PREFIX + "amount"})
        n.loads.loc[ids, "p_set"] = amount
        names = ids + " shedding"
        n.add("Generator", names, bus=d["node"].to_numpy(), carrier=d["carrier"].to_numpy(),
              p_nom=amount, marginal_cost=fixed["price"].to_numpy(float),
              p_max_pu=_series(alpha, n.snapshots, names),
              **{ROLE: "shedding", PREFIX + "demand": ids.to_numpy()})
    flex = units[~units["fixed"]]
    if len(flex):
        d = dem.loc[flex["demand"]]
        alpha = alpha_all[:, pos[flex["demand"]].to_numpy()]
        n.add("Generator", flex.index, bus=d["node"].to_numpy(), carrier=d["carrier"].to_numpy(),
              sign=-1.0, p_nom=flex["quantity"].to_numpy(float),
              marginal_cost=-flex["price"].to_numpy(float),
              p_max_pu=_series(alpha, n.snapshots, flex.index),
              **{ROLE: "demand", PREFIX + "demand": flex["demand"].to_numpy(),
                 PREFIX + "band": _bands(net, "demand", flex["demand"]),
                 **_extras(dem, "demands", pd.Index(flex["demand"]))})


def _add_storages(n: pypsa.Network, net: Network) -> None:
    """A StorageUnit per storage: p_nom = rate (injection and withdrawal), p_nom x max_hours =
    volume (max_hours is in days here, since snapshots are weighted in days), marginal cost on
    withdrawal; cyclic without a final level, else the initial level and the final level set in
    the last snapshot."""
    st = net.storages
    if st.empty:
        return
    rate, volume = st["rate"].to_numpy(float), st["volume"].to_numpy(float)
    cyclic = st["final"].isna().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        hours = np.where(rate > 0, volume / rate, 0.0)
    final = np.full((len(n.snapshots), len(st)), np.nan)
    final[-1, ~cyclic] = (st["final"] * st["volume"]).to_numpy(float)[~cyclic]
    n.add("StorageUnit", st.index, bus=st["node"].to_numpy(), carrier=st["carrier"].to_numpy(),
          p_nom=rate, max_hours=hours, marginal_cost=st["cost"].to_numpy(float),
          efficiency_store=1.0, efficiency_dispatch=1.0, cyclic_state_of_charge=cyclic,
          state_of_charge_initial=(st["initial"] * st["volume"]).to_numpy(float),
          state_of_charge_set=_series(final, n.snapshots, st.index),
          active=st["status"].isin(BUILT_STATUSES).to_numpy(),
          **{PREFIX + "initial": st["initial"].to_numpy(float)}, **_extras(st, "storages"))


# ----------------------------------------------------------------------------- constraints


def corridor_constraints(n: pypsa.Network, snapshots: pd.Index) -> None:
    """`extra_functionality` for `n.optimize`: Corridor's route targets and contracts
    (docs/model.md, "Constraints") as linopy rows on the Link and Generator variables, read from
    `n.meta["corridor"]`. Contract volumes are new variables `Contract-x`."""
    import xarray as xr

    meta = n.meta.get(META_KEY, {})
    m = n.model
    w = xr.DataArray(n.snapshot_weightings.objective.loc[snapshots].to_numpy(),
                     coords={"snapshot": snapshots}, dims="snapshot")
    total_days = float(w.sum())
    flow = m["Link-p"]
    active_links = set(flow.coords["name"].values)
    for t in meta.get("targets", []):
        members = [x for x in str(t["links"]).split() if x in active_links]
        minimum = float(t["minimum"])
        if minimum <= 0 or not members or not _target_in_force(t, meta):
            continue
        lhs = (flow.sel(name=members).sum("name") * w).sum("snapshot")
        m.add_constraints(lhs >= minimum * total_days, name=f"Target-{t['id']}")
    contracts = meta.get("contracts", [])
    if not contracts:
        return
    _contract_rows(n, snapshots, contracts, w, total_days)


def _target_in_force(t: dict, meta: dict) -> bool:
    start, year = t.get("from_year"), meta.get("network", {}).get("base_year")
    return start is None or (isinstance(start, float) and math.isnan(start)) or year is None \
        or start <= year


def _contract_rows(n: pypsa.Network, snapshots: pd.Index, contracts: list[dict], w,
                   total_days: float) -> None:
    """Contract volumes x >= 0 bounded by their sellers' production, their buyers' intake and
    the forward flow on each step of their routes (any of a step's parallel links); per-year
    bands on the day-weighted sum, per-period bands as bounds. A route with a step that has no
    built (active) link delivers nothing, as in Corridor."""
    import xarray as xr

    from corridor.validation import parse_route

    m = n.model
    built = set(n.links.index[n.links["active"].astype(bool)])
    steps = [[[lk for lk in step if lk in built] for step in parse_route(str(c.get("links") or ""))]
             for c in contracts]
    suspended = np.array([any(not step for step in route) for route in steps])
    per_period = np.array([c.get("per") == "period" for c in contracts])
    minimum = np.where(suspended, 0.0, [float(c["min"]) for c in contracts])
    maximum = np.array([float(c["max"]) for c in contracts])
    lower = np.where(per_period, minimum, 0.0)
    upper = np.where(suspended, 0.0, np.where(per_period, maximum, np.inf))
    ids = pd.Index([str(c["id"]) for c in contracts], name="contract")
    grid = [snapshots, ids]
    x = m.add_variables(lower=xr.DataArray(np.tile(lower, (len(snapshots), 1)), coords=grid),
                        upper=xr.DataArray(np.tile(upper, (len(snapshots), 1)), coords=grid),
                        name="Contract-x")
    gens = n.generators
    gen_p, flow = m["Generator-p"], m["Link-p"]

    def units(role: str, parent: str) -> list[str]:
        col = PREFIX + ("supply" if role == "supply" else "demand")
        return list(gens.index[(gens[ROLE] == role) & (gens[col] == parent)])

    for attr in ("seller", "buyer"):
        for parent in sorted({str(c[attr]) for c in contracts}):
            take = x.sel(contract=[str(c["id"]) for c in contracts if str(c[attr]) == parent])
            take = take.sum("contract")
            if attr == "seller":
                room = gen_p.sel(name=units("supply", parent)).sum("name")
                m.add_constraints(take - room <= 0, name=f"Contract-seller-{parent}")
            elif units("demand", parent):  # served = what its sign -1 generators take
                served = gen_p.sel(name=units("demand", parent)).sum("name")
                m.add_constraints(take - served <= 0, name=f"Contract-buyer-{parent}")
            else:  # a fixed demand: its load less what is shed
                load = n.loads_t.p_set[parent].loc[snapshots].to_numpy(float) \
                    if parent in n.loads_t.p_set else \
                    np.full(len(snapshots), float(n.loads.at[parent, "p_set"]))
                shed = gen_p.sel(name=[f"{parent} shedding"]).sum("name")
                m.add_constraints(take + shed <= xr.DataArray(load, coords=[snapshots]),
                                  name=f"Contract-buyer-{parent}")
    on_step: dict[tuple[str, ...], list[str]] = {}
    for c, route in zip(contracts, steps, strict=True):
        for step in route:
            if step:
                on_step.setdefault(tuple(sorted(step)), []).append(str(c["id"]))
    for step, mine in on_step.items():
        carried = flow.sel(name=list(step)).sum("name")
        m.add_constraints(x.sel(contract=mine).sum("contract") - carried <= 0,
                          name=f"Contract-route-{'+'.join(step)}")
    for k, c in enumerate(contracts):
        if per_period[k]:
            continue
        volume = (x.sel(contract=str(c["id"])) * w).sum("snapshot")
        m.add_constraints(volume >= minimum[k] * total_days, name=f"Contract-min-{c['id']}")
        m.add_constraints(volume <= maximum[k] * total_days, name=f"Contract-max-{c['id']}")


# ----------------------------------------------------------------------------- import


def _static(df: pd.DataFrame, col: str, default: Any) -> pd.Series:
    return df[col] if col in df else pd.Series(default, index=df.index, dtype=object)


def _dynamic(n: pypsa.Network, component: str, attr: str, names: pd.Index) -> pd.DataFrame:
    """(snapshots x names) values of a time-varying attribute, the static value where none."""
    comp = n.components[component]
    static = comp.static[attr].reindex(names).astype(float)
    frame = pd.DataFrame(np.tile(static.to_numpy(), (len(n.snapshots), 1)), index=n.snapshots,
                         columns=names)
    dyn = comp.dynamic.get(attr, pd.DataFrame())
    shared = [c for c in names if c in dyn.columns]
    if shared:
        frame[shared] = dyn[shared].to_numpy(float)
    return frame


def _fail(component: str, names, why: str) -> None:
    names = list(names)
    if names:
        shown = ", ".join(map(str, names[:5])) + (" ..." if len(names) > 5 else "")
        raise InterchangeError(f"{component} {shown}: {why}")


def _check_importable(n: pypsa.Network) -> None:
    """Refuse, naming the component, what Corridor's flow model cannot represent."""
    for comp in ("Line", "Transformer", "ShuntImpedance", "Store"):
        static = n.components[comp].static
        why = ("Corridor storages have a rate limit: model it as a StorageUnit"
               if comp == "Store" else "AC power-flow components have no Corridor equivalent")
        _fail(comp, static.index, why)
    if isinstance(n.snapshots, pd.MultiIndex) or len(n.snapshots) not in (1, 12, 365):
        raise InterchangeError(f"snapshots: Corridor periods are 1, 12 or 365, got "
                               f"{len(n.snapshots)} (multi-period investment is not mapped)")
    days = period_days(len(n.snapshots))
    weights = n.snapshot_weightings.objective.to_numpy(float)
    if not np.allclose(weights, days):
        raise InterchangeError("snapshot_weightings: each snapshot must weigh its days "
                               f"({days[:3].tolist()} ...), got {weights[:3].tolist()} ...")
    bad = n.buses.index[~n.buses["carrier"].isin(CARRIERS)]
    _fail("Bus", bad, f"carrier must be one of {', '.join(CARRIERS)}")
    links = n.links
    for attr in ("p_nom_extendable",):
        _fail("Link", links.index[links[attr].astype(bool)], "extendable links are not mapped "
              "(give p_nom; planning uses links.csv capex columns)")
    multi = [c for c in links.columns if c.startswith("bus") and c not in ("bus0", "bus1")]
    for c in multi:
        _fail("Link", links.index[links[c].fillna("").astype(str) != ""],
              f"{c}: multi-output links are not mapped")
    _fail("Link", links.index[(links["p_min_pu"] < 0) & (links["efficiency"] != 1.0)],
          "p_min_pu < 0 with efficiency != 1 (PyPSA then gains energy in reverse); "
          "split it into two links")
    _fail("Link", links.index[(links["p_min_pu"] > 0)], "p_min_pu > 0 (a must-run flow) is "
          "not mapped; use a route target")
    _fail("Link", links.index[(links["efficiency"] > 1) | (links["efficiency"] <= 0)],
          "efficiency must be in (0, 1]")
    gens = n.generators
    _fail("Generator", gens.index[gens["p_nom_extendable"].astype(bool)],
          "extendable generators are not mapped")
    _fail("Generator", gens.index[gens["p_min_pu"] > 0], "p_min_pu > 0 is not mapped")
    _fail("Generator", gens.index[gens["committable"].astype(bool)],
          "unit commitment is not mapped")
    su = n.storage_units
    _fail("StorageUnit", su.index[(su["efficiency_store"] != 1) | (su["efficiency_dispatch"] != 1)
                                  | (su["standing_loss"] != 0)],
          "efficiencies must be 1 and standing_loss 0 (Corridor storage is lossless)")
    _fail("StorageUnit", su.index[su["p_nom_extendable"].astype(bool)],
          "extendable storage is not mapped")


class _Profiles:
    """Collects per-row multipliers into named profile columns (1 everywhere: no profile)."""

    def __init__(self, n_periods: int):
        self.columns: dict[str, np.ndarray] = {}
        self.n = n_periods

    def name(self, values: np.ndarray, given: str, fallback: str) -> str:
        """The profile column for `values`: `given` (an exported row's profile name), else ''
        when all are 1, else `fallback` (the row's id); suffixed if taken by other values."""
        values = np.asarray(values, float)
        if not given and np.all(values == 1.0):
            return ""
        wanted = given or fallback
        name, k = wanted, 1
        while name in self.columns and not np.allclose(self.columns[name], values, rtol=1e-12,
                                                       atol=1e-15):
            k += 1
            name = f"{wanted}_{k}"
        self.columns.setdefault(name, values)
        return name

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.columns, index=pd.Index(range(1, self.n + 1), name="period"))
        return df


def _extra_columns(static: pd.DataFrame, names: pd.Index) -> dict[str, pd.Series]:
    """The `corridor_<col>` columns of some rows, named <col>."""
    return {c[len(PREFIX):]: static.loc[names, c] for c in static.columns
            if c.startswith(PREFIX) and c != ROLE}


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def from_pypsa(n: pypsa.Network) -> Network:
    """A Corridor network from a PyPSA network with gas or oil buses.

    Buses become nodes (x, y -> lon, lat), Links links (a `<id>~reverse` Link, or p_min_pu < 0 on
    a lossless Link, the reverse capacity), Generators supplies (sign -1: price-responsive demand
    units, negative marginal cost = price), Loads fixed demands, StorageUnits storages (rate =
    p_nom, volume = p_nom x max_hours, snapshots weighted in days). Time-varying p_max_pu / p_set
    become profiles. Rates are read as base units per day (mcm/d on gas buses, kt/d on oil).

    Args:
        n: a PyPSA network with 1, 12 or 365 snapshots weighted by their days.

    Returns:
        A checked Network (validated like a network folder).

    Raises:
        InterchangeError: a component that Corridor cannot represent, named.
        NetworkError: the tables read do not pass Corridor's checks.
    """
    from corridor.validation import build_network

    _check_importable(n)
    meta = n.meta.get(META_KEY, {})
    periods = len(n.snapshots)
    profiles = _Profiles(periods)
    carrier = n.buses["carrier"]
    raw = {
        "nodes": _nodes(n),
        "links": _links(n, profiles),
        **_generators_and_loads(n, profiles, carrier),
        "storages": _storages(n, carrier),
    }
    for name, order in meta.get("order", {}).items():  # rows in the exported order
        rank = {rid: k for k, rid in enumerate(order)}
        raw[name] = raw[name].sort_values("id", key=lambda ids: ids.map(rank).fillna(len(rank)),
                                          kind="stable").reset_index(drop=True)
    for name, columns in meta.get("columns", {}).items():  # columns in the exported order
        df = raw[name]
        raw[name] = df.reindex(columns=[*columns, *(c for c in df if c not in columns)])
    for name in (*PASSENGER_TABLES, *CONSTRAINT_TABLES):
        if meta.get(name):
            raw[name] = pd.DataFrame(meta[name]).astype(object)
    if "network" in meta:
        net_meta = NetworkMeta(**meta["network"])
    else:
        net_meta = NetworkMeta(name=str(n.name or "pypsa"))
    frame = profiles.frame()
    for name, values in meta.get("unused_profiles", {}).items():
        if name not in frame and len(values) == periods:
            frame[name] = np.asarray(values, float)
    order = [c for c in meta.get("profiles", []) if c in frame.columns]
    frame = frame[order + [c for c in frame.columns if c not in order]]
    return build_network(raw, frame.reset_index() if frame.shape[1] else None, net_meta,
                         origin=f"PyPSA network {n.name or ''}".strip())


def _nodes(n: pypsa.Network) -> pd.DataFrame:
    b = n.buses
    df = pd.DataFrame({"id": b.index, "carrier": b["carrier"].to_numpy(),
                       "lon": b["x"].to_numpy(float), "lat": b["y"].to_numpy(float)})
    for col, values in _extra_columns(b, b.index).items():
        df[col] = values.to_numpy()
    return _ordered(df, "nodes")


def _ordered(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Columns in the data contract's order, then any others; a column blank in every row is
    left out (an extra column of another table that shares the PyPSA component, or a column at
    its default)."""
    required = {c.name for c in TABLES[table].required}
    filled = df.notna() & (df.astype(str) != "")  # netCDF stores a blank text as ''
    df = df[[c for c in df.columns if c in required or filled[c].any()]]
    known = [c.name for c in TABLES[table].columns if c.name in df.columns]
    return df[known + [c for c in df.columns if c not in known]]


def _links(n: pypsa.Network, profiles: _Profiles) -> pd.DataFrame:
    links = n.links
    role = _static(links, ROLE, "").fillna("")
    rev = links[role == "reverse"]
    fwd = links[role != "reverse"]
    if fwd.empty:
        return pd.DataFrame(columns=["id", "from", "to", "capacity", "unit"])
    alpha = _dynamic(n, "Link", "p_max_pu", fwd.index)
    carriers = n.buses["carrier"].reindex(fwd["bus0"]).to_numpy()
    reverse = np.where(fwd["p_min_pu"] < 0, -fwd["p_min_pu"] * fwd["p_nom"], 0.0)
    if len(rev):
        parent = _static(rev, PREFIX + "link", "").fillna("")
        parent = parent.where(parent != "", rev.index.str.removesuffix(REVERSE))
        missing = parent[~parent.isin(fwd.index)]
        _fail("Link", missing.index, "a reverse link without its forward link")
        pos = pd.Series(np.arange(len(fwd)), index=fwd.index)
        for name, p in parent.items():
            i = pos[p]
            f = fwd.iloc[i]
            if (rev.at[name, "bus0"], rev.at[name, "bus1"]) != (f["bus1"], f["bus0"]) or not \
                    math.isclose(rev.at[name, "efficiency"], f["efficiency"]) or not \
                    math.isclose(rev.at[name, "marginal_cost"], f["marginal_cost"]):
                raise InterchangeError(f"Link {name}: a reverse link must join {p}'s buses the "
                                       "other way with the same efficiency and marginal cost")
            reverse[i] = rev.at[name, "p_nom"]
    given = _static(fwd, PREFIX + "profile", "")
    names = [profiles.name(alpha[c].to_numpy(), _text(given[c]), c) for c in fwd.index]
    df = pd.DataFrame({
        "id": fwd.index, "from": fwd["bus0"].to_numpy(), "to": fwd["bus1"].to_numpy(),
        "capacity": fwd["p_nom"].to_numpy(float),
        "unit": [BASE_RATE[c] for c in carriers], "carrier": fwd["carrier"].to_numpy(),
        "reverse_capacity": reverse, "tariff": fwd["marginal_cost"].to_numpy(float),
        "loss": 1.0 - fwd["efficiency"].to_numpy(float),
        "status": np.where(fwd["active"].astype(bool), "operating", "proposed"),
    })
    df["carrier"] = df["carrier"].where(df["carrier"].isin(CARRIERS), carriers)
    for col, values in _extra_columns(fwd, fwd.index).items():
        if col not in ("link",):
            df[col] = values.to_numpy()
    df["profile"] = names
    return _ordered(df, "links")


def _generators_and_loads(n: pypsa.Network, profiles: _Profiles,
                          carrier: pd.Series) -> dict[str, pd.DataFrame]:
    gens = n.generators
    role = _static(gens, ROLE, "").fillna("")
    role = role.where(role != "", np.where(gens["sign"] < 0, "demand", "supply"))
    supplies, curves = _supplies(n, gens[role == "supply"], profiles, carrier)
    demands, dcurves = _demands(n, gens[role == "demand"], gens[role == "shedding"], profiles,
                                carrier)
    return {"supplies": supplies, "demands": demands,
            "curves": pd.concat([c for c in (curves, dcurves) if len(c)] or
                                [pd.DataFrame(columns=["id", "band", "quantity", "unit",
                                                       "price"])], ignore_index=True)}


def _band(number: float, k: int) -> int:
    """A unit's band number: as exported, else its position among its parent's units."""
    return k if np.isnan(number) else int(number)


def _supplies(n: pypsa.Network, gens: pd.DataFrame, profiles: _Profiles,
              carrier: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    parent = _static(gens, PREFIX + "supply", "").fillna("")
    parent = parent.where(parent != "", gens.index.to_series())
    band = _static(gens, PREFIX + "band", np.nan).astype(float)
    alpha = _dynamic(n, "Generator", "p_max_pu", gens.index)
    rows, curve_rows = [], []
    for pid, own in gens.groupby(parent.to_numpy(), sort=False):
        first = own.index[0]
        unit = BASE_RATE[carrier[own["bus"].iloc[0]]]
        is_banded = len(own) > 1 or not np.isnan(band[first])
        extra = {k: v.iloc[0] for k, v in _extra_columns(gens, pd.Index([first])).items()
                 if k not in ("supply", "band", "capacity", "cost")}
        given = {k: v.iloc[0] for k, v in _extra_columns(gens, pd.Index([first])).items()}
        row = {"id": pid, "node": own["bus"].iloc[0], "unit": unit,
               "capacity": float(own["p_nom"].iloc[0]),
               "cost": float(own["marginal_cost"].iloc[0]),
               "status": "operating" if bool(own["active"].iloc[0]) else "proposed", **extra,
               "profile": profiles.name(alpha[first].to_numpy(), _text(extra.get("profile")),
                                        pid)}
        if is_banded:
            row["capacity"], row["cost"] = given.get("capacity", 0.0), given.get("cost", 0.0)
            for k, (label, g) in enumerate(own.iterrows(), start=1):
                curve_rows.append({"id": pid, "band": _band(band[label], k),
                                   "quantity": float(g["p_nom"]), "unit": unit,
                                   "price": float(g["marginal_cost"])})
        rows.append(row)
    supplies = pd.DataFrame(rows, columns=None if rows else ["id", "node", "capacity", "unit"])
    return _ordered(supplies, "supplies"), pd.DataFrame(curve_rows)


def _demands(n: pypsa.Network, flex: pd.DataFrame, shedding: pd.DataFrame, profiles: _Profiles,
             carrier: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    loads = n.loads
    rows: list[dict] = []
    curve_rows: list[dict] = []
    if len(loads):
        p_set = _dynamic(n, "Load", "p_set", loads.index)
        shed_of = _static(shedding, PREFIX + "demand", "").fillna("")
        shed_of = pd.Series(shedding.index, index=shed_of.where(
            shed_of != "", shedding.index.str.removesuffix(" shedding")).to_numpy())
        for lid, load in loads.iterrows():
            static = float(load["p_set"])
            series = p_set[lid].to_numpy(float)
            amount = static if static > 0 else float(series.max(initial=0.0))
            alpha = series / amount if amount > 0 else np.ones_like(series)
            extra = {k: v.iloc[0] for k, v in _extra_columns(loads, pd.Index([lid])).items()
                     if k not in ("demand", "band")}
            if "value" in extra:  # as exported (blank: the carrier's value of lost load)
                value = extra.pop("value")
            elif lid in shed_of.index:
                value = float(shedding.at[shed_of[lid], "marginal_cost"])
            else:
                value = float("nan")
            rows.append({"id": lid, "node": load["bus"], "amount": amount,
                         "unit": BASE_RATE[carrier[load["bus"]]], **extra, "value": value,
                         "profile": profiles.name(alpha, _text(extra.get("profile")), lid)})
    parent = _static(flex, PREFIX + "demand", "").fillna("")
    parent = parent.where(parent != "", flex.index.to_series())
    band = _static(flex, PREFIX + "band", np.nan).astype(float)
    alpha = _dynamic(n, "Generator", "p_max_pu", flex.index)
    for did, own in flex.groupby(parent.to_numpy(), sort=False):
        first = own.index[0]
        unit = BASE_RATE[carrier[own["bus"].iloc[0]]]
        extra = {k: v.iloc[0] for k, v in _extra_columns(flex, pd.Index([first])).items()
                 if k not in ("demand", "band")}
        given = _text(extra.get("profile"))
        row = {"id": did, "node": own["bus"].iloc[0], "unit": unit, **extra,
               "profile": profiles.name(alpha[first].to_numpy(), given, did)}
        curve = _is_number(extra.get("price")) and _is_number(extra.get("elasticity"))
        if not curve and len(own) == 1 and np.isnan(band[first]):  # an export market
            row.update(amount=float(own["p_nom"].iloc[0]),
                       value=-float(own["marginal_cost"].iloc[0]))
            row.setdefault("market", "export")
            if _text(row.get("market")) == "":
                row["market"] = "export"
        elif not curve:  # bands as curves rows
            row.setdefault("amount", float(own["p_nom"].sum()))
            for k, (label, g) in enumerate(own.iterrows(), start=1):
                curve_rows.append({"id": did, "band": _band(band[label], k),
                                   "quantity": float(g["p_nom"]), "unit": unit,
                                   "price": -float(g["marginal_cost"])})
        rows.append(row)
    demands = pd.DataFrame(rows) if rows else pd.DataFrame(columns=["id", "node", "amount",
                                                                   "unit"])
    return _ordered(demands, "demands"), pd.DataFrame(curve_rows)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.floating)) and not math.isnan(float(value))


def _storages(n: pypsa.Network, carrier: pd.Series) -> pd.DataFrame:
    su = n.storage_units
    if su.empty:
        return pd.DataFrame(columns=["id", "node", "volume", "volume_unit", "rate", "rate_unit"])
    volume = (su["p_nom"] * su["max_hours"]).to_numpy(float)
    initial = _static(su, PREFIX + "initial", np.nan).astype(float).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        derived = np.where(volume > 0, su["state_of_charge_initial"].to_numpy(float) / volume,
                           0.5)
    initial = np.where(np.isnan(initial), derived, initial)
    soc_set = _dynamic(n, "StorageUnit", "state_of_charge_set", su.index)
    cyclic = su["cyclic_state_of_charge"].astype(bool).to_numpy()
    last = soc_set.iloc[-1].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        final = np.where(~cyclic & ~np.isnan(last) & (volume > 0), last / volume, np.nan)
    _fail("StorageUnit", su.index[~cyclic & np.isnan(final)],
          "a non-cyclic storage needs its final level as state_of_charge_set in the last "
          "snapshot (Corridor: final)")
    mid = soc_set.iloc[:-1]
    _fail("StorageUnit", mid.columns[mid.notna().any().to_numpy()],
          "state_of_charge_set is mapped only in the last snapshot")
    carriers = carrier.reindex(su["bus"]).to_numpy()
    df = pd.DataFrame({
        "id": su.index, "node": su["bus"].to_numpy(), "volume": volume,
        "volume_unit": [BASE_AMOUNT[c] for c in carriers], "rate": su["p_nom"].to_numpy(float),
        "rate_unit": [BASE_RATE[c] for c in carriers], "initial": initial, "final": final,
        "cost": su["marginal_cost"].to_numpy(float),
        "status": np.where(su["active"].astype(bool), "operating", "proposed"),
    })
    for col, values in _extra_columns(su, su.index).items():
        if col != "initial":
            df[col] = values.to_numpy()
    return _ordered(df, "storages")
