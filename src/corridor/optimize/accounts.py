"""Surplus accounting: who gains what from one solved run, by country and by owner.

Every money flow of the run is one entry of a *ledger* (element, country, owner, component, USD
over the horizon); the tables by country and by owner are its sums. With nodal prices p:

- consumer surplus of a demand band: (band price - p) x served; a fixed demand has no demand
  curve, so its value is not welfare and its consumers' surplus is minus their bill, -p x served;
  under a price cap the LP values the band at the cap and the buyer also keeps (value - cap) x
  served (`cap_wedge`, also shown as a detail), which welfare() adds to tariff revenue - objective;
- producer surplus of a supply unit: (p - marginal cost) x produced;
- transport revenue of a link: tariff x flow entering it; congestion rent: flow x (what arrives
  is worth at the far end - what entered cost - tariff), i.e. the rest of the price spread
  (losses included); both, with the build cost, split among the link's countries by km share;
- storage rent: p x (withdrawn - injected) - storage cost, the intertemporal spread;
- contract transfer: a contract's buyer pays the contract price instead of the nodal price at
  its node, (price - p) x volume, plus any take-or-pay payment for volume not taken; the seller
  receives it (the transfers add up to zero);
- build cost (annualised, of built projects) and shortage cost (fixed demand left unserved, at
  its value of lost load) are subtracted.

Welfare = consumer surplus + producer surplus + transport revenue + congestion rent + storage rent
+ contract transfers - build cost - shortage cost. Shippers pay tariffs, so the optimiser charges
them; to the region they are income, so welfare = tariff revenue - objective. Because the balance
of every node holds, the price terms cancel and the components add up to that whatever the prices
are: `identity_gap` checks it on every run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from corridor.validation import parse_segments

WELFARE_COMPONENTS = ("consumer_surplus", "producer_surplus", "transport_revenue",
                      "congestion_rent", "storage_rent", "contract_transfer", "build_cost",
                      "shortage_cost")
SUBTRACTED = ("build_cost", "shortage_cost")
DETAIL_COLUMNS = ("consumer_payment", "producer_revenue", "production_cost", "implicit_subsidy",
                  "contract_revenue", "take_or_pay", "cap_wedge")


def link_shares(net) -> pd.DataFrame:
    """(link, country, share) rows: each link's km share per country from `segments`, else all
    of it to its `country`, else to its `from` node's country."""
    links = net.links
    fallback = links["country"].where(links["country"] != "").fillna(
        net.nodes["country"].reindex(links["from"]).set_axis(links.index)).fillna("")
    rows = []
    for lid, spec in links["segments"].items():
        parts = parse_segments(spec) if spec else [(fallback[lid], 1.0)]
        total = sum(km for _, km in parts)
        rows += [(lid, country, km / total) for country, km in parts]
    return pd.DataFrame(rows, columns=["link", "country", "share"])


def _owner(table: pd.DataFrame) -> pd.Series:
    own = table["owner"] if "owner" in table else pd.Series("", index=table.index)
    return own.where(own != "", table["country"])


def ledger(results) -> pd.DataFrame:
    """Every money entry of a solved run: element, kind, country, owner, component, usd."""
    net, days = results.network, results.days
    prices = results.prices
    parts: list[pd.DataFrame] = []

    def add(kind: str, ids, country, owner, **components) -> None:
        frame = pd.DataFrame({"element": list(ids), "kind": kind, "country": list(country),
                              "owner": list(owner), **{k: np.asarray(v, float)
                                                       for k, v in components.items()}})
        parts.append(frame.melt(id_vars=["element", "kind", "country", "owner"],
                                var_name="component", value_name="usd"))

    def at_nodes(nodes) -> np.ndarray:
        return prices.reindex(columns=list(nodes)).to_numpy()

    def horizon(rate: np.ndarray) -> np.ndarray:
        return (np.asarray(rate) * days[:, None]).sum(axis=0)

    # demand units: consumer surplus (bands) or minus the bill (fixed), shortage cost
    d_units, demands = results.demand_units, net.demands
    parent = demands.loc[d_units["demand"]]
    served = results.unit_served[d_units.index].to_numpy()
    p_unit = at_nodes(parent["node"])
    fixed = d_units["fixed"].to_numpy(bool)
    value = d_units["price"].to_numpy(float)
    bill = horizon(p_unit * served)
    wedge = horizon(np.where(fixed, 0.0, d_units["wedge"].to_numpy(float)) * served)
    worth = horizon(np.where(fixed, 0.0, value) * served) + wedge
    unmet = results.unit_amount()[d_units.index].to_numpy() - served
    regulated = parent["regulated_price"].to_numpy(float)
    subsidy = np.where(np.isnan(regulated), 0.0, horizon((p_unit - np.nan_to_num(regulated))
                                                         * served))
    add("demand", d_units["demand"], parent["country"], _owner(parent),
        consumer_surplus=worth - bill, shortage_cost=horizon(np.where(fixed, value, 0.0) * unmet),
        consumer_payment=bill, implicit_subsidy=subsidy, cap_wedge=wedge)

    # supply units: producer surplus
    s_units, supplies = results.supply_units, net.supplies
    sparent = supplies.loc[s_units["supply"]]
    produced = results.unit_supply[s_units.index].to_numpy()
    revenue = horizon(at_nodes(sparent["node"]) * produced)
    cost = horizon(s_units["price"].to_numpy(float) * produced)
    add("supply", s_units["supply"], sparent["country"], _owner(sparent),
        producer_surplus=revenue - cost, producer_revenue=revenue, production_cost=cost)
    for table, kind in (("supplies", "supply"), ("storages", "storage")):  # built by a scenario
        rows = getattr(net, table)
        charge = results.asset_build_cost(table) if len(rows) else pd.Series(dtype=float)
        charged = charge[charge != 0].index
        if len(charged):
            add(kind, charged, rows.loc[charged, "country"], _owner(rows.loc[charged]),
                build_cost=charge[charged].to_numpy())

    # links: tariff revenue, congestion rent and build cost, split by segment
    links = net.links
    fwd_spread, rev_spread = results.spreads()
    rent = horizon(results.flows_forward.to_numpy() * np.nan_to_num(fwd_spread.to_numpy())
                   + results.flows_reverse.to_numpy() * np.nan_to_num(rev_spread.to_numpy()))
    money = pd.DataFrame({"transport_revenue": results.tariff_revenue().to_numpy(),
                          "congestion_rent": rent,
                          "build_cost": results.build_cost().to_numpy()}, index=links.index)
    shares = link_shares(net)
    split = money.loc[shares["link"]].mul(shares["share"].to_numpy(), axis=0)
    owner = links["owner"].reindex(shares["link"]).to_numpy()
    add("link", shares["link"], shares["country"],
        np.where(owner == "", shares["country"].to_numpy(), owner), **split)

    # storages: the intertemporal spread
    st = net.storages
    if len(st):
        p_st = at_nodes(st["node"])
        net_out = (results.storage_withdraw - results.storage_inject).to_numpy()
        st_cost = horizon(results.storage_withdraw.to_numpy() * st["cost"].to_numpy(float))
        add("storage", st.index, st["country"], _owner(st),
            storage_rent=horizon(p_st * net_out) - st_cost)

    # contracts: transfers from buyer to seller
    ct = net.contracts
    if len(ct):
        money = contract_money(results)
        seller, buyer = supplies.loc[ct["seller"]], demands.loc[ct["buyer"]]
        add("contract", ct.index, seller["country"], _owner(seller),
            contract_transfer=money["transfer"], contract_revenue=money["contract_revenue"],
            take_or_pay=money["take_or_pay"])
        add("contract", ct.index, buyer["country"], _owner(buyer),
            contract_transfer=-money["transfer"])

    out = pd.concat(parts, ignore_index=True)
    out["country"] = out["country"].where(out["country"] != "", "(none)")
    out["owner"] = out["owner"].where(out["owner"] != "", "(none)")
    return out


def contract_money(results) -> pd.DataFrame:
    """Per contract, USD over the horizon: volume (base units), what the buyer pays under the
    contract (price x volume + take-or-pay), the same volume at the buyer's nodal price, the
    take-or-pay payment for volume not taken, and the transfer from buyer to seller."""
    ct, days = results.network.contracts, results.days
    delivered = results.contracts[ct.index].to_numpy()
    p_buyer = results.prices.reindex(
        columns=results.network.demands.loc[ct["buyer"], "node"]).to_numpy()
    volume = (delivered * days[:, None]).sum(axis=0)
    nodal = (p_buyer * delivered * days[:, None]).sum(axis=0)
    price = ct["price"].to_numpy(float)
    owed = ct["take_or_pay"].to_numpy(float) * ct["max"].to_numpy(float) * days.sum()
    top = price * np.clip(owed - volume, 0.0, None)
    return pd.DataFrame({"volume": volume, "contract_revenue": price * volume + top,
                         "nodal_value": nodal, "take_or_pay": top,
                         "transfer": price * volume + top - nodal}, index=ct.index)


def welfare_table(entries: pd.DataFrame, by: str = "country") -> pd.DataFrame:
    """USD over the horizon per country (or owner): the welfare components, welfare, then the
    detail columns (bills, revenues, costs, subsidies, contract money)."""
    wide = entries.pivot_table(index=by, columns="component", values="usd", aggfunc="sum",
                               fill_value=0.0)
    wide = wide.reindex(columns=[*WELFARE_COMPONENTS, *DETAIL_COLUMNS], fill_value=0.0)
    sign = pd.Series(1.0, index=list(WELFARE_COMPONENTS))
    sign[list(SUBTRACTED)] = -1.0
    wide.insert(len(WELFARE_COMPONENTS), "welfare",
                wide[list(WELFARE_COMPONENTS)].mul(sign).sum(axis=1))
    wide.index.name = by
    return wide


def total_welfare(entries: pd.DataFrame) -> float:
    """The welfare identity's right-hand side over the whole network."""
    parts = entries[entries["component"].isin(WELFARE_COMPONENTS)]
    sign = np.where(parts["component"].isin(SUBTRACTED), -1.0, 1.0)
    return float((parts["usd"] * sign).sum())


def identity_gap(entries: pd.DataFrame, welfare: float) -> float:
    """|sum of the components - welfare| relative to the gross money moved (>= 1 USD)."""
    gross = float(entries.loc[entries["component"].isin(WELFARE_COMPONENTS), "usd"].abs().sum())
    return abs(total_welfare(entries) - welfare) / max(gross, 1.0)

