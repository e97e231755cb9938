"""Security of gas supply: the N-1 indicator of EU Regulation 2017/1938 and disruption runs.

N-1 (Annex II, point 2):  N-1 [%] = (EP_m + P_m + S_m + LNG_m - I_m) / D_max x 100, per calculated
area (here: a country), all terms in mcm/d on the *peak day* (`peak_day`). A term counts an
infrastructure only as far as it can serve the country's own demand (docs/coalitions.md):

- each term is a maximum flow (`deliverable`) from its sources into the country's domestic demand
  nodes (each at most its peak-day demand), over the country's own built pipelines only;
- transit is held: every entry and internal pipeline loses the capacity that carries gas from
  abroad to other countries in the base peak-day solution (traced by proportional mixing at
  nodes, `Trace`), so a pipe full of transit gas adds nothing and an idle transit pipe adds only
  what the country's own network can take from it;
- EP_m: sources are the entry arcs (built links from a node abroad into the country, forward or
  reverse); P_m: the country's built supplies (not at LNG nodes); S_m: its storages at their
  withdrawal rate; LNG_m: supplies at nodes whose `kind` mentions LNG. A supply whose gas cannot
  reach the country's demand without leaving it (raw gas processable only abroad) counts for
  nothing, or for the local demand it can reach;
- I_m: the single largest of the country's own infrastructures (an entry, an internal pipeline
  - parallel links between the same two nodes are one -, a supply or storage in it) among those
  that carry gas to its domestic demand on the base peak day (traced; an idle pipe cannot fail
  the country). Its size is what EP + P + S + LNG lose without it (they count only what can
  reach the demand, so an internal trunk line counts); ties go to the one carrying more gas.
  Infrastructures abroad (a pipeline or field upstream) are outside the formula's area; the
  disruption runs test them, chosen by the gas they carry to the country;
- D_max: `network.yaml` `security: {COUNTRY: {d_max, unit, source}}` where given (a 1-in-20 cold
  day), else the country's domestic demands at the peak of their profile (with a monthly profile
  the peak month's mean day, which understates the Regulation's D_max). `D_max_basis` says which.

Disruptions are simulated on the peak day: every profile at its peak, each country's domestic
demand scaled to its D_max where given, storages turned into supplies at their withdrawal rate,
route targets dropped; the infrastructure is taken out and the optimiser finds the unserved
demand per country in two modes:

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

N1_COLUMNS = ["EP", "P", "S", "LNG", "I", "I_infrastructure", "I_carried", "D_max",
              "D_max_basis", "N-1", "EP_nameplate", "transit"]
MODES = ("cooperative", "own demand first")
PROFILE_PEAK = "profile peak"  # D_max_basis when the network gives no peak-day figure
EPS = 1e-9


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
    """Entry infrastructures into a country: built links across its border, parallel ones merged,
    at their nameplate capacity into the country (`EP_nameplate`)."""
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
    """The country's own supply infrastructures at nameplate: entries, production, LNG, storage."""
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


def profile_peak_demand(net: Network, country: str) -> float:
    """The country's domestic gas demand at the peak of each demand's profile (mcm/d)."""
    d = net.demands[(net.demands["country"] == country) & (net.demands["market"] == "domestic")]
    return float((d["amount"] * _peak(d, net.profiles)).sum())


def peak_demand(net: Network, country: str) -> tuple[float, str]:
    """D_max (mcm/d) and its basis: the network's peak-day figure for the country (`network.yaml`
    `security`) with its source, else the profile peak."""
    given = net.meta.security.get(country)
    if given is None:
        return profile_peak_demand(net, country), PROFILE_PEAK
    if given.mean_day is None:
        return given.mcm_per_day, f"network.yaml security ({given.source})"
    d = net.demands[(net.demands["country"] == country) & (net.demands["market"] == "domestic")]
    scale = float(d["amount"].sum()) / given.mean_day
    note = "" if abs(scale - 1) < 1e-4 else f", scaled x{scale:.3f} with the mean-day demand"
    return given.mcm_per_day * scale, f"network.yaml security ({given.source}{note})"


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


# -- tracing the peak-day flows -----------------------------------------------------------------

@dataclass
class Trace:
    """The base peak-day solution as arcs (a link in one direction) with their flows, and the
    gas each node receives and sends on. Gas mixes at nodes (proportional sharing), so the
    share of a node's gas that ends in a set of demands, or came from a set of supplies, is the
    solution of one linear system; a link's gas is its tail node's mix."""

    day: Network
    storage_ids: pd.Index  # the day's supplies that stand for storages
    arcs: pd.DataFrame  # link, tail, head, flow, loss, capacity
    served: pd.Series  # per demand id, mcm/d
    supplied: pd.Series  # per supply id, mcm/d

    @classmethod
    def of(cls, day: Network, storage_ids: pd.Index) -> Trace:
        """Solve the peak day at least cost and keep its flows on built links."""
        results = optimize(day, 1)
        if not results.optimal:
            raise CoalitionSolveError(f"peak-day LP ended with status {results.status}")
        links = day.links
        fwd = pd.DataFrame({"link": links.index, "tail": links["from"], "head": links["to"],
                            "flow": results.flows_forward.iloc[0].reindex(links.index).to_numpy(),
                            "loss": links["loss"], "capacity": links["capacity"]})
        rev = pd.DataFrame({"link": links.index, "tail": links["to"], "head": links["from"],
                            "flow": results.flows_reverse.iloc[0].reindex(links.index).to_numpy(),
                            "loss": links["loss"], "capacity": links["reverse_capacity"]})
        built = links["status"].isin(BUILT_STATUSES).to_numpy()
        arcs = pd.concat([fwd[built].assign(direction="forward"),
                          rev[built].assign(direction="reverse")], ignore_index=True)
        arcs["flow"] = arcs["flow"].fillna(0.0).clip(lower=0.0)
        served = (day.demands["amount"] - results.unmet.iloc[0].reindex(day.demands.index)
                  .fillna(0.0)).clip(lower=0.0)
        supplied = results.supply.iloc[0].reindex(day.supplies.index).fillna(0.0).clip(lower=0.0)
        return cls(day, pd.Index(storage_ids), arcs, served, supplied)

    def _solve(self, own: pd.Series, weights: pd.DataFrame) -> pd.Series:
        """x_n * own_n - sum over arcs of weight * x_other = rhs_n, for every node."""
        nodes = self.day.nodes.index
        pos = pd.Series(np.arange(len(nodes)), index=nodes)
        a = np.diag(own.reindex(nodes).fillna(0.0).to_numpy(float))
        rows, cols = pos[weights["row"]].to_numpy(), pos[weights["col"]].to_numpy()
        np.subtract.at(a, (rows, cols), weights["w"].to_numpy(float))
        idle = np.diag(a) <= EPS
        a[idle, :] = 0.0
        a[idle, idle] = 1.0
        rhs = weights.attrs["rhs"].reindex(nodes).fillna(0.0).to_numpy(float)
        rhs[idle] = 0.0
        try:
            x = np.linalg.solve(a, rhs)
        except np.linalg.LinAlgError:  # a lossless loop that neither gains nor loses gas
            x = np.linalg.lstsq(a, rhs, rcond=None)[0]
        return pd.Series(np.clip(x, 0.0, 1.0), index=nodes)

    def to_demands(self, mask: pd.Series) -> pd.Series:
        """Per node: the share of the gas leaving it that ends in the demands of `mask`."""
        arcs = self.arcs[self.arcs["flow"] > EPS]
        out = arcs.groupby("tail")["flow"].sum().add(
            self.served.groupby(self.day.demands["node"]).sum(), fill_value=0.0)
        w = pd.DataFrame({"row": arcs["tail"], "col": arcs["head"],
                          "w": arcs["flow"] * (1.0 - arcs["loss"])})
        w.attrs["rhs"] = self.served[mask.reindex(self.served.index, fill_value=False)].groupby(
            self.day.demands["node"]).sum()
        return self._solve(out, w)

    def from_supplies(self, mask: pd.Series) -> pd.Series:
        """Per node: the share of the gas at it that came from the supplies of `mask`."""
        arcs = self.arcs[self.arcs["flow"] > EPS]
        arrive = arcs["flow"] * (1.0 - arcs["loss"])
        into = arrive.groupby(arcs["head"]).sum().add(
            self.supplied.groupby(self.day.supplies["node"]).sum(), fill_value=0.0)
        w = pd.DataFrame({"row": arcs["head"], "col": arcs["tail"], "w": arrive})
        w.attrs["rhs"] = self.supplied[mask.reindex(self.supplied.index, fill_value=False)] \
            .groupby(self.day.supplies["node"]).sum()
        return self._solve(into, w)

    def country_view(self, country: str) -> CountryView:
        """What the peak day's gas does for one country: transit per arc, gas carried to it."""
        day = self.day
        node_c = day.nodes["country"].fillna("")
        mine = (day.demands["market"] == "domestic") & (day.demands["country"] == country)
        to_me = self.to_demands(mine)
        elsewhere = self.to_demands(~mine)
        abroad = self.from_supplies(day.supplies["node"].map(node_c) != country)
        arcs = self.arcs
        transit = arcs["flow"] * arcs["tail"].map(abroad).to_numpy() \
            * arcs["head"].map(elsewhere).to_numpy()
        carried_arc = arcs["flow"] * (1 - arcs["loss"]) * arcs["head"].map(to_me).to_numpy()
        carried = pd.concat([carried_arc.groupby(arcs["link"]).sum(),
                             self.supplied * day.supplies["node"].map(to_me)])
        return CountryView(country, transit.fillna(0.0), carried.fillna(0.0))


@dataclass
class CountryView:
    """One country's reading of the traced peak day."""

    country: str
    transit: pd.Series  # per arc (Trace.arcs index), mcm/d of foreign gas for other countries
    carried: pd.Series  # per link / supply id, mcm/d delivered to the country's domestic demand


# -- N-1 terms as maximum flows --------------------------------------------------------------------

def deliverable(trace: Trace, view: CountryView, sources: str,
                out: Infrastructure | None = None) -> float:
    """Most gas (mcm/d) that `sources` ("entry", "production", "storage" or "lng") can deliver
    into the country's domestic demand nodes (each at most its peak-day demand) over its own
    built pipelines, with the capacity that carries transit on the peak day held, and `out`
    (an infrastructure) out of service."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    day, c = trace.day, view.country
    node_c = day.nodes["country"].fillna("")
    arcs = trace.arcs.assign(net_cap=(trace.arcs["capacity"] - view.transit).clip(lower=0.0))
    if out is not None and out.table == "links":
        arcs.loc[arcs["link"].isin(out.assets), "net_cap"] = 0.0
    tail_in = arcs["tail"].map(node_c).eq(c)
    head_in = arcs["head"].map(node_c).eq(c)
    use = head_in & (tail_in | (sources == "entry")) & (arcs["net_cap"] > EPS)
    arcs = arcs[use]
    dem = day.demands[(day.demands["market"] == "domestic") & (day.demands["country"] == c)]
    sinks = dem.groupby("node")["amount"].sum()
    sinks = sinks[sinks > EPS]
    sup = _term_supplies(trace, c, sources)
    if out is not None and out.table != "links":
        sup = sup.drop(index=[a for a in out.assets if a in sup.index])
    if sinks.empty or (arcs.empty and sup.empty):
        return 0.0
    nodes = pd.Index(sorted(set(node_c.index[node_c == c])))
    pos = pd.Series(np.arange(len(nodes)), index=nodes)
    n_a, n_s = len(arcs), len(sup)
    inside = tail_in[arcs.index].to_numpy()
    n_k = len(sinks)
    # node balance: arrivals after loss - departures + supply - delivery = 0
    rows = np.concatenate([pos[arcs["head"]].to_numpy(),
                           pos.reindex(arcs["tail"][inside]).to_numpy(),
                           pos[sup["node"]].to_numpy(), pos[sinks.index].to_numpy()]).astype(int)
    cols = np.concatenate([np.arange(n_a), np.flatnonzero(inside),
                           n_a + np.arange(n_s), n_a + n_s + np.arange(n_k)])
    vals = np.concatenate([1.0 - arcs["loss"].to_numpy(float), -np.ones(int(inside.sum())),
                           np.ones(n_s), -np.ones(n_k)])
    n = n_a + n_s + len(sinks)
    a_eq = coo_matrix((vals, (rows, cols)), shape=(len(nodes), n)).tocsr()
    bounds = list(zip(np.zeros(n), np.concatenate([arcs["net_cap"], sup["capacity"], sinks]),
                      strict=True))
    cost = np.concatenate([np.zeros(n_a + n_s), -np.ones(len(sinks))])
    res = linprog(cost, A_eq=a_eq, b_eq=np.zeros(len(nodes)), bounds=bounds, method="highs")
    if res.status != 0:
        raise CoalitionSolveError(f"N-1 maximum flow for {c} ({sources}): {res.message}")
    return max(0.0, float(-res.fun))


def _term_supplies(trace: Trace, country: str, sources: str) -> pd.DataFrame:
    """The peak day's supplies (storages are supplies there) that make up a term of N-1."""
    day = trace.day
    sup = day.supplies
    if sources == "entry":
        return sup.iloc[0:0]
    node_c = sup["node"].map(day.nodes["country"].fillna(""))
    ok = (node_c == country) & sup["status"].isin(BUILT_STATUSES) & (sup["capacity"] > EPS)
    storage = sup.index.isin(trace.storage_ids)
    lng = _is_lng(day, sup).to_numpy()
    kind = {"production": ~storage & ~lng, "storage": storage, "lng": ~storage & lng}
    return sup[ok & kind[sources]]


TERMS = {"EP": "entry", "P": "production", "S": "storage", "LNG": "lng"}


def candidates(gas: Network, view: CountryView) -> list[Infrastructure]:
    """Every pipeline (parallel links merged), supply and storage of the network, ordered by
    the gas it carried to the country's domestic demand on the base peak day, largest first.
    Ties (the links of one chain carry the same gas) go to the entry into the country, then to
    its own supplies and storages, then its own pipelines, then the larger capacity."""
    node_c = gas.nodes["country"].fillna("")
    c = view.country
    out, rank = [], {}
    for infra in pipelines(gas):
        ends = {gas.links.at[a, end] for a in infra.assets for end in ("from", "to")}
        inside = {node_c[e] == c for e in ends}
        kind = "entry" if inside == {True, False} else "pipeline"
        out.append(Infrastructure(infra.name, kind, "links", infra.assets, infra.capacity))
        rank[infra.name] = 0 if kind == "entry" else (2 if inside == {True} else 3)
    built = gas.supplies["status"].isin(BUILT_STATUSES)
    lng = _is_lng(gas, gas.supplies)
    peak = gas.supplies["capacity"] * _peak(gas.supplies, gas.profiles)
    st = gas.storages[gas.storages["status"].isin(BUILT_STATUSES)]
    for table, ids, cap in (("supplies", gas.supplies.index[built], peak), ("storages", st.index,
                                                                             st["rate"])):
        for i in ids:
            kind = "storage" if table == "storages" else ("lng" if lng[i] else "production")
            out.append(Infrastructure(i, kind, table, (i,), float(cap[i])))
            node = getattr(gas, table).at[i, "node"]
            rank[i] = 1 if node_c.get(node, "") == c else 3
    return sorted(out, key=lambda i: (-round(carried(view, i), 6), rank[i.name], -i.capacity,
                                      i.name))


def carried(view: CountryView, infra: Infrastructure) -> float:
    return float(view.carried.reindex(list(infra.assets)).fillna(0.0).sum())


def _is_own(gas: Network, infra: Infrastructure, country: str) -> bool:
    """Whether an infrastructure is the country's: an entry into it, a pipeline inside it, or a
    supply or storage at one of its nodes."""
    node_c = gas.nodes["country"].fillna("")
    if infra.table == "links":
        ends = {gas.links.at[a, end] for a in infra.assets for end in ("from", "to")}
    else:
        ends = {getattr(gas, infra.table).at[a, "node"] for a in infra.assets}
    return any(node_c.get(e, "") == country for e in ends)


def _loss(trace: Trace, view: CountryView, infra: Infrastructure, total: float) -> float:
    """What the country's supply capacity loses without one of its infrastructures (mcm/d):
    the fall of EP + P + S + LNG, which count only what can reach its demand."""
    return total - sum(deliverable(trace, view, src, out=infra) for src in TERMS.values())


def n_minus_one(net: Network, countries=None) -> pd.DataFrame:
    """N-1 per country with every term of the formula (mcm/d), the largest infrastructure (by
    the gas it carries to the country), D_max and its basis, and for comparison the entry
    capacity at nameplate and the transit that the entry arcs carried on the peak day."""
    gas = gas_network(net)
    assessed = n1_countries(gas, countries)
    if not assessed:
        return pd.DataFrame(columns=N1_COLUMNS).rename_axis("country")
    trace = Trace.of(peak_day(net), gas.storages.index)
    rows = {}
    for c in assessed:
        view = trace.country_view(c)
        terms = {k: deliverable(trace, view, src) for k, src in TERMS.items()}
        largest, lost = None, 0.0
        for infra in (i for i in candidates(gas, view)
                      if carried(view, i) > EPS and _is_own(gas, i, c)):
            loss = _loss(trace, view, infra, sum(terms.values()))
            if largest is None or loss > lost + 1e-9:
                largest, lost = infra, loss
        d_max, basis = peak_demand(gas, c)
        total = sum(terms.values()) - lost
        n1 = round(100.0 * total / d_max, 9) + 0.0 if d_max > 0 else np.nan  # no "-0"
        node_c = trace.day.nodes["country"].fillna("")
        entry = trace.arcs["head"].map(node_c).eq(c) & trace.arcs["tail"].map(node_c).ne(c)
        rows[c] = {**terms, "I": lost, "I_infrastructure": largest.name if largest else "",
                   "I_carried": carried(view, largest) if largest else 0.0, "D_max": d_max,
                   "D_max_basis": basis, "N-1": n1,
                   "EP_nameplate": float(sum(i.capacity for i in entries(gas, c))),
                   "transit": float(view.transit[entry].sum())}
    return pd.DataFrame.from_dict(rows, orient="index", columns=N1_COLUMNS).rename_axis("country")


# -- disruption simulation ----------------------------------------------------------------------

def peak_day(net: Network) -> Network:
    """One peak day of the gas network: profiles at their peak, each country's domestic demand
    scaled to its D_max where `network.yaml` `security` gives one, storages as supplies at their
    withdrawal rate (a day cannot run a storage's annual cycle), no route targets or contracts.
    Security is about physical quantities: demand is fixed at its amount (price responses and
    bands are dropped) and a supply offers its capacity."""
    gas = gas_network(net)
    amount = gas.demands["amount"] * _peak(gas.demands, gas.profiles)
    for country in gas.meta.security:  # scale to the 1-in-20 day where given
        mine = (gas.demands["country"] == country) & (gas.demands["market"] == "domestic")
        total = float(amount[mine].sum())
        if total > 0:
            amount[mine] *= peak_demand(gas, country)[0] / total
    demands = gas.demands.assign(amount=amount, profile="", price=np.nan, elasticity=np.nan,
                                 price_cap=np.nan)
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
                              "country": st["country"], "carrier": st["carrier"], "profile": "",
                              "status": st["status"]},
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


def disruption_cases(net: Network, n1: pd.DataFrame, top: int = 4) -> list[Infrastructure]:
    """For each assessed country, the `top` infrastructures (pipelines, supplies, storages of
    the whole network) that carry the most gas to its domestic demand on the base peak day, the
    largest first (its N-1 `I_infrastructure`). Each is tested once, and of the links of one
    chain (same gas carried to the country) only the first in `candidates` order."""
    gas = gas_network(net)
    trace = Trace.of(peak_day(net), gas.storages.index)
    chosen: list[Infrastructure] = []
    for c in n1.index:
        view = trace.country_view(c)
        loads: list[float] = []
        mine: list[Infrastructure] = []
        for i in candidates(gas, view):
            load = carried(view, i)
            if len(mine) == max(top, 1) or load <= EPS:
                break
            if any(abs(load - seen) <= 1e-6 * max(1.0, load) for seen in loads):
                continue  # the same stream as one already chosen
            loads.append(load)
            mine.append(i)
        chosen += [i for i in mine if i.name not in {j.name for j in chosen}]
    return chosen


def simulate(net: Network, countries=None, top: int = 4) -> pd.DataFrame:
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
