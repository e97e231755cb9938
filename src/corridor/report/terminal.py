"""The run summary printed to the terminal: welfare, bottlenecks, shortages, prices, who gains.

Volumes are shown as annual figures in the units the region speaks (bcm/yr for gas, Mt/yr for
oil), prices per 1000 m3 and per tonne, money in million USD.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from corridor.optimize import Results
from corridor.units import DISPLAY_PRICE, PRICE_DIVISOR, format_rate


def _short(text: str, width: int = 46) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _musd(value: float) -> str:
    return f"{value / 1e6:,.1f}"


def header(results: Results) -> str:
    net, stats = results.network, results.stats
    text = (f"[bold]{net.name}[/bold]: {len(net.nodes)} nodes, {len(net.active_links())} of "
            f"{len(net.links)} links built, {results.n_periods} period(s)\n"
            f"status [bold]{results.status}[/bold]")
    if results.optimal:
        text += f", welfare {results.welfare() / 1e9:,.2f} bn USD"
    text += (f"  ({stats.get('variables', 0):,} variables, build "
             f"{stats.get('build_seconds', 0):.2f} s, HiGHS {stats.get('solve_seconds', 0):.2f} s)")
    return text


def bottleneck_table(results: Results, n: int = 10) -> Table:
    links = results.network.links
    table = Table(title=f"The {n} most utilised links", title_justify="left")
    for col in ("link", "name", "mean use", "peak use", "mean flow", "congestion rent, M USD"):
        table.add_column(col, justify="left" if col in ("link", "name") else "right")
    for lid, row in results.bottlenecks(n).iterrows():
        table.add_row(lid, _short(str(links.at[lid, "name"])) if "name" in links else "",
                      f"{row.mean_utilisation:.0%}", f"{row.peak_utilisation:.0%}",
                      format_rate(row.mean_flow, row.carrier), _musd(row.congestion_rent))
    return table


def unmet_table(results: Results) -> Table | str:
    """Fixed demand left unserved: shortages, with their cost at the value of lost load.

    Price-responsive demand (bands, demand curves, export markets) that is not taken is not a
    shortage: its buyers chose not to pay the price."""
    demands = results.network.demands
    unmet = results.volume(results.unmet)
    total = results.volume(results.demand_amount())
    short = unmet[unmet > 1e-6 * total.clip(lower=1.0)]
    if short.empty:
        return "[green]No shortage: all fixed demand is served.[/green]"
    cost = results.ledger().query("component == 'shortage_cost'").groupby("element")["usd"].sum()
    table = Table(title="Shortages (fixed demand left unserved)", title_justify="left")
    for col in ("demand", "node", "country", "unmet", "share", "cost, M USD"):
        table.add_column(col, justify="left" if col in ("demand", "node", "country") else "right")
    days = results.days.sum()
    order = demands.loc[short.index].assign(v=short).sort_values("v", ascending=False)
    for did, d in order.iterrows():
        table.add_row(did, d["node"], d["country"], format_rate(d["v"] / days, d["carrier"]),
                      f"{d['v'] / total[did]:.0%}", _musd(cost.get(did, 0.0)), style="red")
    return table


def price_table(results: Results, max_nodes: int = 10) -> Table:
    net = results.network
    keys = net.meta.key_nodes or list(net.demands["node"].drop_duplicates()[:max_nodes])
    table = Table(title="Prices at key nodes (mean over periods; min-max)", title_justify="left")
    for col in ("node", "country", "price", "range"):
        table.add_column(col, justify="left" if col in ("node", "country") else "right")
    for node in keys:
        p = results.prices[node]
        carrier = net.nodes.at[node, "carrier"]
        mean = (p * results.days).sum() / results.days.sum() / PRICE_DIVISOR
        table.add_row(node, net.nodes.at[node, "country"], f"{mean:,.0f} {DISPLAY_PRICE[carrier]}",
                      f"{p.min() / PRICE_DIVISOR:,.0f}-{p.max() / PRICE_DIVISOR:,.0f}")
    return table


WELFARE_SHOWN = {"consumer_surplus": "consumer surplus", "producer_surplus": "producer surplus",
                 "transport_revenue": "transport revenue", "congestion_rent": "congestion rent",
                 "storage_rent": "storage rent", "contract_transfer": "contracts",
                 "build_cost": "- build cost", "shortage_cost": "- shortage cost",
                 "welfare": "welfare"}


def money_table(results: Results, by: str = "country") -> Table:
    """Welfare and its components per country (or owner), million USD over the horizon."""
    money = results.welfare_by(by)
    shown = money[list(WELFARE_SHOWN)]
    shown = shown.loc[shown.abs().sum(axis=1) > 0.5e6].sort_values("welfare", ascending=False)
    table = Table(title=f"Welfare by {by}, million USD over the horizon", title_justify="left",
                  caption="welfare = consumer + producer surplus + transport revenue + "
                          "congestion and storage rent + contract transfers - build cost - "
                          f"shortage cost; identity gap {results.identity_gap():.1e}")
    table.add_column(by)
    for label in WELFARE_SHOWN.values():
        table.add_column(label, justify="right")
    for name, row in shown.iterrows():
        table.add_row(_short(str(name), 28), *(_musd(row[c]) for c in WELFARE_SHOWN))
    total = shown.sum()
    table.add_row("total", *(_musd(total[c]) for c in WELFARE_SHOWN), style="bold")
    return table


def contract_table(results: Results) -> Table | str:
    """Each contract's volume, its money beside the nodal value, take-or-pay, shadow price."""
    ct = results.network.contracts
    if ct.empty:
        return ""
    money = results.contract_table()
    table = Table(title="Contracts, over the horizon", title_justify="left",
                  caption="transfer: what the seller gains over nodal prices (the buyer loses "
                          "it); shadow price: what the minimum costs per unit when it binds")
    for col in ("contract", "volume", "price", "revenue, M USD", "at nodal price, M USD",
                "take-or-pay, M USD", "transfer, M USD", "shadow price"):
        table.add_column(col, justify="left" if col == "contract" else "right")
    sellers = results.network.supplies["carrier"]
    for cid, row in money.iterrows():
        carrier = sellers[row["seller"]]
        days = results.days.sum()
        table.add_row(cid, format_rate(row["volume"] / days, carrier),
                      f"{row['price'] / PRICE_DIVISOR:,.0f} {DISPLAY_PRICE[carrier]}",
                      _musd(row["contract_revenue"]), _musd(row["nodal_value"]),
                      _musd(row["take_or_pay"]), _musd(row["transfer"]),
                      f"{row['shadow_price'] / PRICE_DIVISOR:,.1f} {DISPLAY_PRICE[carrier]}")
    return table


def violation_table(results: Results) -> Table:
    table = Table(title="What could not be met (elastic re-solve)", title_justify="left")
    for col in ("constraint", "element", "period", "violation"):
        table.add_column(col)
    for v in results.violations[:20]:
        table.add_row(v.block, v.element, str(v.period), f"{v.amount:,.3f}")
    return table


def print_summary(results: Results, console: Console, by: str = "country") -> None:
    """Print the whole run summary."""
    console.print(header(results))
    if not results.optimal:
        console.print(f"[red]The model is {results.status} ({results.message}).[/red]")
        for line in results.explain_violations():
            console.print(f"[red]- {line}[/red]")
        if results.violations:
            console.print(violation_table(results))
        return
    for part in (bottleneck_table(results), binding_line(results), unmet_table(results),
                 price_table(results), money_table(results, by), contract_table(results)):
        if part != "":
            console.print(part)


def binding_line(results: Results) -> str:
    """The links whose capacity limits the optimum: those earning a congestion rent."""
    rent = results.congestion_rent()
    rent = rent[rent > 1e3].sort_values(ascending=False)
    if rent.empty:
        return ("No link's capacity limits the optimal plan (no congestion rent); full links "
                "above have an equally cheap alternative.")
    shown = ", ".join(f"{lid} ({v / 1e6:,.1f} M USD)" for lid, v in rent.head(8).items())
    return f"Binding capacity (congestion rent): {shown}"

