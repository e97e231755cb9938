"""Security of gas supply: the N-1 indicator of EU Regulation 2017/1938 and disruption runs.

N-1 (Annex II, point 2):  N-1 [%] = (EP_m + P_m + S_m + LNG_m - I_m) / D_max x 100, per calculated
area (here: a country), all terms in mcm/d, read from the network's gas data:

- EP_m: technical capacity of the entry points into the country: every built gas link from a node
  outside it to a node inside it (forward capacity), or the other way round (reverse capacity);
- P_m: maximal technical production: the capacities of the country's gas supplies (at the peak of
  their profile), except those at LNG nodes;
- S_m: maximal technical storage deliverability: the withdrawal rates of its storages;
- LNG_m: the capacities of supplies at nodes whose `kind` mentions LNG (none in the bundled data);
- I_m: the single largest gas infrastructure supplying the country: an entry (parallel links
  between the same two nodes count as one infrastructure, as Annex II asks for infrastructures
  that cannot be operated separately), a supply or a storage;
- D_max: peak daily demand: the country's domestic gas demands at the peak of their profile.
  With a monthly profile this is the peak month's mean day, not the 1-in-20-years day of the
  Regulation — the data has nothing finer, so N-1 is optimistic by that margin.

Disruptions are simulated on a *peak day*: every profile at its peak, storages turned into
supplies at their withdrawal rate, route targets dropped; the infrastructure is taken out and
the optimiser finds the unserved demand per country in two modes:

- cooperative: the ordinary least-cost solution — the shortage falls wherever the network can
  spare gas most cheaply (all domestic demand has the same value of lost load in the data);
- own demand first: first each country alone (its own production, storage and internal
  pipelines, as the coalition of that one country with no outside world) serves as much of its
  own demand as it can; then the whole network is solved with every domestic demand served at
  least that well, so a country exports or lets gas through only what it does not need itself.
  Gas in transit is not seized: a transit country's priority covers its own resources only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from corridor.coalitions.assets import coalition_network
from corridor.coalitions.game import GameError
from corridor.coalitions.network_game import CoalitionSolveError, restrict_carrier
from corridor.network import Network
from corridor.optimize import FlowSolver, build_flow_model, optimize
from corridor.schema import BUILT_STATUSES

N1_COLUMNS = ["EP", "P", "S", "LNG", "I", "I_infrastructure", "D_max", "N-1"]
MODES = ("cooperative", "own demand first")


@dataclass(frozen=True)
class Infrastructure:
    """One gas infrastructure: parallel links, one supply or one storage, with its capacity."""

    name: str
    kind: str  # entry, production, storage, lng, pipeline
    table: str  # links, supplies or storages
    assets: tuple[str, ...]
    capacity: float  # mcm/d


def _peak(table: pd.DataFrame, profiles: pd.DataFrame) -> pd.Series:
    """Each row's profile maximum (1 where it names none)."""
    peaks = profiles.max() if len(profiles.columns) else pd.Series(dtype=float)
    names = table["profile"] if "profile" in table else pd.Series("", index=table.index)
    return names.map(peaks).fillna(1.0).where(names != "", 1.0).astype(float)


def _node_country(net: Network, node_ids: pd.Series) -> pd.Series:
    return net.nodes["country"].reindex(node_ids).set_axis(node_ids.index).fillna("")


def _is_lng(net: Network, table: pd.DataFrame) -> pd.Series:
    kinds = net.nodes["kind"].reindex(table["node"]).set_axis(table.index).fillna("")
    return kinds.str.contains("lng", case=False)


def gas_network(net: Network) -> Network:
    """The gas part of a network; an error if it has none."""
    gas = restrict_carrier(net, "gas")
    if gas.nodes.empty:
        raise GameError(f"{net.name} has no gas nodes: N-1 is a gas standard")
    return gas


def entries(net: Network, country: str) -> list[Infrastructure]:
    """Entry infrastructures into a country: built links across its border, parallel ones merged."""
    links = net.active_links()
    peak = _peak(links, net.profiles)
    c_from, c_to = _node_country(net, links["from"]), _node_country(net, links["to"])
    fwd = (c_to == country) & (c_from != country)
    rev = (c_from == country) & (c_to != country) & (links["reverse_capacity"] > 0)
    cap = (links["capacity"] * peak).where(fwd, 0.0) + (links["reverse_capacity"] * peak).where(
        rev & ~fwd, 0.0)
    inside = links["to"].where(fwd, links["from"])
    outside = links["from"].where(fwd, links["to"])
    frame = pd.DataFrame({"cap": cap, "key": outside + ">" + inside})[fwd | rev]
    return [Infrastructure("+".join(group.index), "entry", "links", tuple(group.index),
                           float(group["cap"].sum()))
            for _, group in frame.groupby("key", sort=True)]


def infrastructures(net: Network, country: str) -> list[Infrastructure]:
    """Everything that supplies a country: entries, production, LNG, storage."""
    out = entries(net, country)
    built = BUILT_STATUSES  # a proposed supply or storage is not there on the day
    sup = net.supplies[(net.supplies["country"] == country)
                       & net.supplies["status"].isin(built)]
    cap = sup["capacity"] * _peak(sup, net.profiles)
    lng = _is_lng(net, sup)
    out += [Infrastructure(sid, "lng" if lng[sid] else "production", "supplies", (sid,),
                           float(cap[sid])) for sid in sup.index]
    st = net.storages[(net.storages["country"] == country)
                      & net.storages["status"].isin(built)]
    out += [Infrastructure(sid, "storage", "storages", (sid,), float(st.at[sid, "rate"]))
            for sid in st.index]
    return out


def peak_demand(net: Network, country: str) -> float:
    """D_max: the country's domestic gas demand on its peak day (mcm/d)."""
    d = net.demands[(net.demands["country"] == country) & (net.demands["market"] == "domestic")]
    return float((d["amount"] * _peak(d, net.profiles)).sum())


WHOLE_NETWORK = ""  # the one area of a network that names no country


def n1_countries(net: Network, countries=None) -> list[str]:
    """The countries to assess: those named (checked), else every one with domestic gas demand.
    A network that names no country at all is assessed as one area (`WHOLE_NETWORK`), as Annex
    II allows a regional N-1."""
    known = sorted(c for c in net.nodes["country"].unique() if c)
    if not known and not countries:
        domestic = net.demands["market"] == "domestic"
        return [WHOLE_NETWORK] if domestic.any() else []
    if countries:
        unknown = [c for c in countries if c not in known]
        if unknown:
            raise GameError(f"{', '.join(unknown)} not a country of the gas network "
                            f"(countries: {', '.join(known)})")
        return list(countries)
    d = net.demands[net.demands["market"] == "domestic"]
    return sorted(c for c in d["country"].unique() if c)


def n_minus_one(net: Network, countries=None) -> pd.DataFrame:
    """N-1 per country with every term of the formula (mcm/d) and the largest infrastructure."""
    gas = gas_network(net)
    rows = {}
    for c in n1_countries(gas, countries):
        infra = infrastructures(gas, c)
        kinds = pd.Series({i.name: i.kind for i in infra}, dtype=object)
        caps = pd.Series({i.name: i.capacity for i in infra}, dtype=float)
        largest = caps.idxmax() if len(caps) else ""
        terms = {k: float(caps[kinds == kind].sum()) for k, kind in
                 (("EP", "entry"), ("P", "production"), ("S", "storage"), ("LNG", "lng"))}
        terms["I"] = float(caps.max()) if len(caps) else 0.0
        d_max = peak_demand(gas, c)
        total = terms["EP"] + terms["P"] + terms["S"] + terms["LNG"] - terms["I"]
        rows[c] = {**terms, "I_infrastructure": largest, "D_max": d_max,
                   "N-1": 100.0 * total / d_max if d_max > 0 else np.nan}
    return pd.DataFrame.from_dict(rows, orient="index", columns=N1_COLUMNS).rename_axis("country")


# -- disruption simulation ----------------------------------------------------------------------

def peak_day(net: Network) -> Network:
    """One peak day of the gas network: profiles at their peak, storages as supplies at their
    withdrawal rate (a day cannot run a storage's annual cycle), no route targets or contracts.
    Security is about physical quantities: demand is fixed at its amount (price responses and
    bands are dropped) and a supply offers its capacity."""
    gas = gas_network(net)
    demands = gas.demands.assign(amount=gas.demands["amount"] * _peak(gas.demands, gas.profiles),
                                 profile="", price=np.nan, elasticity=np.nan)
    supplies = gas.supplies.assign(
        capacity=gas.supplies["capacity"] * _peak(gas.supplies, gas.profiles), profile="")
    links = gas.links.assign(capacity=gas.links["capacity"] * _peak(gas.links, gas.profiles),
                             reverse_capacity=gas.links["reverse_capacity"]
                             * _peak(gas.links, gas.profiles), profile="")
    st = gas.storages
    clash = st.index.intersection(supplies.index)
    if len(clash):
        raise GameError(f"storage id(s) {', '.join(clash)} are also supply ids")
    as_supply = pd.DataFrame({"node": st["node"], "capacity": st["rate"], "cost": st["cost"],
                              "country": st["country"], "carrier": st["carrier"], "profile": ""},
                             index=st.index).reindex(columns=supplies.columns)
    supplies = pd.concat([supplies, as_supply]) if len(st) else supplies
    return gas.replace(demands=demands, supplies=supplies, links=links,
                       storages=st.iloc[0:0], targets=gas.targets.iloc[0:0],
                       curves=gas.curves.iloc[0:0], contracts=gas.contracts.iloc[0:0])


def disrupt(day: Network, infra: Infrastructure | None) -> Network:
    """The peak day with one infrastructure out of service (its capacity set to zero)."""
    if infra is None:
        return day
    if infra.table == "links":
        links = day.links.copy()
        links.loc[list(infra.assets), ["capacity", "reverse_capacity"]] = 0.0
        return day.replace(links=links)
    supplies = day.supplies.copy()  # storages are supplies on the peak day
    supplies.loc[list(infra.assets), "capacity"] = 0.0
    return day.replace(supplies=supplies)


def _domestic(day: Network, countries: list[str]) -> pd.Series:
    d = day.demands
    return d["country"].where((d["market"] == "domestic") & d["country"].isin(countries))


def cooperative(day: Network) -> pd.Series:
    """Unmet demand per demand id (mcm/d) in the least-cost solution."""
    results = optimize(day, 1)
    if not results.optimal:
        raise CoalitionSolveError(f"peak-day LP ended with status {results.status}")
    return results.unmet.iloc[0]


def own_first(day: Network, countries: list[str]) -> pd.Series:
    """Unmet demand per demand id (mcm/d) when each country first serves its own demand."""
    if countries == [WHOLE_NETWORK]:  # one area: serving itself first is the cooperative case
        return cooperative(day)
    owner = _domestic(day, countries)
    amount = day.demands["amount"]
    cap = amount.copy()
    for c in sorted(set(owner.dropna())):
        alone = coalition_network(day, [c], [c], outside=False)
        unmet = cooperative(alone).reindex(cap.index)
        mine = (owner == c) & unmet.notna()
        cap[mine] = unmet[mine].clip(lower=0.0)
    try:
        return _solve_capped(day, cap.clip(upper=amount))
    except CoalitionSolveError:  # the stage-1 caps are feasible; allow for rounding in them
        return _solve_capped(day, (cap + 1e-7 * np.maximum(1.0, amount)).clip(upper=amount))


def _solve_capped(day: Network, unmet_cap: pd.Series) -> pd.Series:
    """Least cost with an upper bound on each demand's unmet amount (the peak day's demands
    are fixed, one unit each)."""
    solver = FlowSolver(build_flow_model(day, 1))
    data = solver.current.copy()
    ids = solver.model.inputs.demand_units["demand"]
    data.col_upper[solver.columns("unmet")[0]] = unmet_cap.reindex(ids).to_numpy(float)
    if solver.run(data) != "optimal":
        raise CoalitionSolveError("the own-demand-first LP ended with status "
                                  f"'{solver.message()}'")
    block = solver.lp.columns["unmet"]
    return block.unpack(solver.x()).iloc[0].set_axis(ids.to_numpy())


def pipelines(net: Network) -> list[Infrastructure]:
    """Every built gas link, parallel links between the same two nodes merged into one."""
    links = net.active_links()
    peak = _peak(links, net.profiles)
    key = [">".join(sorted(pair)) for pair in zip(links["from"], links["to"], strict=True)]
    frame = pd.DataFrame({"fwd": links["capacity"] * peak,
                          "rev": links["reverse_capacity"] * peak, "key": key})
    return [Infrastructure("+".join(g.index), "pipeline", "links", tuple(g.index),
                           float(max(g["fwd"].sum(), g["rev"].sum())))
            for _, g in frame.groupby("key", sort=True)]


def disruption_cases(net: Network, n1: pd.DataFrame, top: int = 3) -> list[Infrastructure]:
    """Each assessed country's largest infrastructure, then the `top` largest others of the
    whole network (pipelines, supplies, storages; equal capacities ordered by the gas they
    carry on the undisrupted peak day)."""
    gas = gas_network(net)
    chosen: list[Infrastructure] = []
    for c, name in n1["I_infrastructure"].items():
        chosen += [i for i in infrastructures(gas, c) if i.name == name and i not in chosen]
    every = pipelines(gas) + [i for c in sorted(set(gas.nodes["country"]) - {""})
                              for i in infrastructures(gas, c) if i.kind != "entry"]
    base = optimize(peak_day(net), 1)
    carried = pd.concat([(base.flows_forward + base.flows_reverse).iloc[0],
                         base.supply.iloc[0]]) if base.optimal else pd.Series(dtype=float)

    def load(i: Infrastructure) -> float:
        return float(carried.reindex(list(i.assets)).fillna(0.0).sum())

    taken = {i.name for i in chosen}
    ranked = sorted((i for i in every if i.name not in taken),
                    key=lambda i: (-round(i.capacity, 6), -load(i), i.name))
    return chosen + ranked[:top]


def simulate(net: Network, countries=None, top: int = 3) -> pd.DataFrame:
    """Unserved domestic demand per country (mcm/d and share of D_max) on the peak day, with no
    disruption and with each case of `disruption_cases` out, in both modes."""
    n1 = n_minus_one(net, countries)
    assessed = list(n1.index)
    day = peak_day(net)
    owner = _domestic(day, assessed)
    rows = []
    for infra in [None, *disruption_cases(net, n1, top)]:
        hit = disrupt(day, infra)
        for mode in MODES:
            unmet = cooperative(hit) if mode == MODES[0] else own_first(hit, assessed)
            per_country = unmet.groupby(owner).sum().reindex(assessed, fill_value=0.0)
            for c in assessed:
                rows.append({"disruption": infra.name if infra else "(none)",
                             "capacity": infra.capacity if infra else 0.0, "mode": mode,
                             "country": c, "unserved": float(per_country[c]),
                             "share": float(per_country[c] / n1.at[c, "D_max"])
                             if n1.at[c, "D_max"] > 0 else np.nan})
    return pd.DataFrame(rows)
