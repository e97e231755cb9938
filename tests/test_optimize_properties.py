"""The optimiser against independent solvers on random networks, plus conservation and bounds.

networkx's network simplex solves lossless single-period cases exactly (integer data); a dense
`scipy.optimize.linprog` model written here from the definition in docs/model.md covers losses,
reverse flow, storage and several periods.
"""

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from corridor.optimize import optimize
from corridor.optimize.inputs import ModelInputs
from corridor.periods import period_days

from builders import gas_network

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def networks(draw, lossy: bool = False, with_storage: bool = False):
    """A random gas network: 2-7 nodes, 1-10 links, supplies, demands, maybe losses/storage."""
    n = draw(st.integers(2, 7))
    nodes = [f"N{i}" for i in range(n)]
    pair = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1])
    links = []
    for k, (a, b) in enumerate(draw(st.lists(pair, min_size=1, max_size=10))):
        loss = draw(st.sampled_from([0.0, 0.01, 0.05, 0.2])) if lossy else 0.0
        links.append((f"L{k}", nodes[a], nodes[b], draw(st.integers(0, 20)),
                      float(draw(st.integers(0, 9))), loss, draw(st.integers(0, 10))))
    supplies = [(f"S{k}", nodes[draw(st.integers(0, n - 1))], draw(st.integers(0, 30)),
                 float(draw(st.integers(0, 50)))) for k in range(draw(st.integers(1, 3)))]
    demands = [(f"D{k}", nodes[draw(st.integers(0, n - 1))], draw(st.integers(0, 25)),
                float(draw(st.integers(60, 200)))) for k in range(draw(st.integers(1, 3)))]
    storages = []
    if with_storage and draw(st.booleans()):
        storages = [("K0", nodes[draw(st.integers(0, n - 1))], draw(st.integers(0, 2000)),
                     draw(st.integers(0, 10)), 0.5, None, float(draw(st.integers(0, 5))))]
    return gas_network(nodes, links, supplies, demands, storages)


def networkx_cost(net) -> int:
    """Least daily cost by network simplex on an equivalent graph (one arc chain per option)."""
    g = nx.DiGraph()
    total = int(net.demands["amount"].sum())
    g.add_node("source", demand=-total)
    for node in net.nodes.index:
        g.add_node(node, demand=int(net.demands.loc[net.demands["node"] == node, "amount"].sum()))
    for lid, lk in net.links.iterrows():
        g.add_edge(lk["from"], ("f", lid), capacity=int(lk["capacity"]), weight=int(lk["tariff"]))
        g.add_edge(("f", lid), lk["to"])
        g.add_edge(lk["to"], ("r", lid), capacity=int(lk["reverse_capacity"]),
                   weight=int(lk["tariff"]))
        g.add_edge(("r", lid), lk["from"])
    for sid, s in net.supplies.iterrows():
        g.add_edge("source", ("s", sid), capacity=int(s["capacity"]), weight=int(s["cost"]))
        g.add_edge(("s", sid), s["node"])
    for did, d in net.demands.iterrows():  # shedding: the demand is met from nowhere at VOLL
        g.add_edge("source", ("u", did), capacity=int(d["amount"]), weight=int(d["value"]))
        g.add_edge(("u", did), d["node"])
    return nx.min_cost_flow_cost(g)


def linprog_solution(net, n_periods: int):
    """Objective of the same model written densely, variable by variable, for scipy's HiGHS."""
    days = period_days(n_periods)
    amount = ModelInputs.from_network(net, n_periods).demand_amount
    cols, lower_upper = [], []  # (kind, id, period), bounds

    def var(kind, eid, t, ub, cost):
        cols.append((kind, eid, t, cost))
        lower_upper.append((0.0, ub))
        return len(cols) - 1

    balance = {(n, t): {} for n in net.nodes.index for t in range(n_periods)}
    storage_rows = {}
    for t in range(n_periods):
        for lid, lk in net.links.iterrows():
            j = var("f", lid, t, lk["capacity"], lk["tariff"] * days[t])
            balance[lk["from"], t][j] = -1.0
            balance[lk["to"], t][j] = 1.0 - lk["loss"]
            j = var("r", lid, t, lk["reverse_capacity"], lk["tariff"] * days[t])
            balance[lk["to"], t][j] = -1.0
            balance[lk["from"], t][j] = 1.0 - lk["loss"]
        for sid, s in net.supplies.iterrows():
            balance[s["node"], t][var("s", sid, t, s["capacity"], s["cost"] * days[t])] = 1.0
        for k, (did, d) in enumerate(net.demands.iterrows()):
            balance[d["node"], t][var("u", did, t, amount[t, k], d["value"] * days[t])] = 1.0
        for kid, k in net.storages.iterrows():
            w = var("w", kid, t, k["rate"], k["cost"] * days[t])
            i = var("i", kid, t, k["rate"], 0.0)
            lvl = var("l", kid, t, k["volume"], 0.0)
            balance[k["node"], t][w] = 1.0
            balance[k["node"], t][i] = -1.0
            storage_rows[kid, t] = {lvl: 1.0, i: -days[t], w: days[t]}
    for (kid, t), row in storage_rows.items():  # cyclic: previous level of period 0 is the last
        prev = next(j for j, c in enumerate(cols) if c[:3] == ("l", kid, (t - 1) % n_periods))
        row[prev] = row.get(prev, 0.0) - 1.0
    a_eq, b_eq = [], []
    for (node, t), row in balance.items():
        a_eq.append(row)
        b_eq.append(amount[t, net.demands["node"].to_numpy() == node].sum())
    a_eq += list(storage_rows.values())
    b_eq += [0.0] * len(storage_rows)
    dense = np.zeros((len(a_eq), len(cols)))
    for r, row in enumerate(a_eq):
        for j, c in row.items():
            dense[r, j] += c
    res = linprog([c[3] for c in cols], A_eq=dense, b_eq=b_eq, bounds=lower_upper,
                  method="highs-ipm")
    assert res.status == 0
    return res.fun


def assert_conserved_and_bounded(net, r):
    """Every node balances in every period; every variable is within its bounds."""
    inputs = ModelInputs.from_network(net, r.n_periods)
    links = net.links
    keep = 1 - links["loss"]
    for t in r.flows.index:
        f, b = r.flows_forward.loc[t], r.flows_reverse.loc[t]
        assert (f >= -1e-7).all() and (f <= links["capacity"] + 1e-7).all()
        assert (b >= -1e-7).all() and (b <= links["reverse_capacity"] + 1e-7).all()
        s, u = r.supply.loc[t], r.unmet.loc[t]
        assert (s >= -1e-7).all() and (s <= net.supplies["capacity"] + 1e-7).all()
        assert (u >= -1e-7).all() and (u <= inputs.demand_amount[t - 1] + 1e-7).all()
        net_in = (f * keep - b).groupby(links["to"]).sum().reindex(net.nodes.index, fill_value=0)
        net_in += (b * keep - f).groupby(links["from"]).sum().reindex(net.nodes.index,
                                                                      fill_value=0)
        net_in += s.groupby(net.supplies["node"]).sum().reindex(net.nodes.index, fill_value=0)
        net_in += u.groupby(net.demands["node"]).sum().reindex(net.nodes.index, fill_value=0)
        store = (r.storage_withdraw.loc[t] - r.storage_inject.loc[t])
        net_in += store.groupby(net.storages["node"]).sum().reindex(net.nodes.index,
                                                                    fill_value=0)
        demand = inputs.demand_amount[t - 1]
        wanted = (net.demands.assign(a=demand).groupby("node")["a"].sum()
                  .reindex(net.nodes.index, fill_value=0))
        np.testing.assert_allclose(net_in, wanted, atol=1e-6)
    level = r.storage_level
    assert ((level >= -1e-7) & (level <= net.storages["volume"] + 1e-7)).all().all()


@SETTINGS
@given(networks())
def test_matches_networkx_min_cost_flow(net):
    r = optimize(net)
    assert r.status == "optimal"
    assert r.objective / 365 == pytest.approx(networkx_cost(net), rel=1e-9, abs=1e-6)
    assert_conserved_and_bounded(net, r)


@SETTINGS
@given(networks(lossy=True, with_storage=True), st.sampled_from([1, 3, 12]))
def test_matches_independent_dense_lp(net, n_periods):
    r = optimize(net, n_periods)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(linprog_solution(net, n_periods), rel=1e-7, abs=1e-4)
    assert_conserved_and_bounded(net, r)


@SETTINGS
@given(networks(lossy=True))
def test_prices_satisfy_complementary_slackness(net):
    """Where a variable is strictly inside its bounds, prices equal its marginal cost:
    supply price = cost; price of unmet demand = its value; (1 - loss) p_to - p_from = tariff."""
    r = optimize(net)
    p = r.prices.loc[1]

    def inside(x, ub):
        return (x > 1e-6) & (x < ub - 1e-6)

    s, d, lk = net.supplies, net.demands, net.links
    s_in = inside(r.supply.loc[1], s["capacity"])
    d_in = inside(r.unmet.loc[1], d["amount"])
    lk_in = inside(r.flows_forward.loc[1], lk["capacity"])
    assume(s_in.any() or d_in.any() or lk_in.any())  # else there is nothing to check
    np.testing.assert_allclose(p[s["node"][s_in]].to_numpy(), s["cost"][s_in], atol=1e-6)
    np.testing.assert_allclose(p[d["node"][d_in]].to_numpy(), d["value"][d_in], atol=1e-6)
    spread = ((1 - lk["loss"][lk_in]) * p[lk["to"][lk_in]].to_numpy()
              - p[lk["from"][lk_in]].to_numpy())
    np.testing.assert_allclose(spread, lk["tariff"][lk_in], atol=1e-6)
