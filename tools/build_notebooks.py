"""Write the example notebooks of examples/ from the cells below and execute them in place.

    .venv/bin/python tools/build_notebooks.py            # write and execute all three
    .venv/bin/python tools/build_notebooks.py 02         # only those whose name contains 02

The notebooks are generated, not edited by hand, so they are reproducible: nbformat writes the
cells, nbclient runs them in a fresh `python3` kernel (the interpreter running this script)
with examples/ as the working directory, and the outputs are stored with volatile metadata
(timings, kernel ids) stripped. Figures are PNG images drawn with matplotlib (small, and
rendered by any notebook viewer without the internet; see examples/README.md). The last cell of
each notebook, tagged `key-figures`, prints its headline numbers as JSON:
tests/test_notebooks.py executes the notebooks again and checks those numbers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TIMEOUT = 300  # seconds per cell

SETTINGS = """\
%config InlineBackend.figure_formats = ["png"]
plt.rcParams["figure.dpi"] = 72
pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 12)
pd.set_option("display.float_format", "{:,.2f}".format)"""


def setup(stdlib: str = "", local: str = "") -> str:
    """The first code cell: imports (sorted as ruff's isort wants them), then display settings."""
    imports = "\n".join(sorted(["import json", *filter(None, stdlib.splitlines())],
                                key=lambda line: (line.startswith("from"), line)))
    third = "import matplotlib.pyplot as plt\nimport pandas as pd"
    if local:
        third += "\n" + local
    return f"{imports}\n\n{third}\n\nimport corridor as cr\n\n{SETTINGS}"


def md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(text.strip())


def code(text: str, tags: tuple[str, ...] = ()) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def key_figures(expression: str) -> nbformat.NotebookNode:
    return code(f"# The headline numbers, checked by tests/test_notebooks.py\n"
                f"print(json.dumps({expression}, indent=1))", tags=("key-figures",))


BASE_AND_SCENARIOS = [
    md("""
# The base year and a scenario

This notebook solves the bundled Central Asia / Caspian network (base year 2024) month by month,
reads its flows, prices and welfare as pandas tables, draws the flows on a map, and compares the
base year with a one-month stop of the CPC oil pipeline (the `cpc-outage-month` scenario). It uses
only the public API, `import corridor as cr`, and is what `corridor run --periods 12` and
`corridor compare base cpc-outage-month` print, as tables.

Generated and executed by `tools/build_notebooks.py`; CI executes it again
(`tests/test_notebooks.py`)."""),
    code(setup(local="from mapping import flow_map  # examples/mapping.py: the static map")),
    md("""
## The network

A bundled name or a network folder (docs/data-contract.md); `read_network` validates it and
says what is wrong with file, line and column."""),
    code("""
net = cr.read_network("central-asia")
print(net.name, "base year", net.meta.base_year)
pd.Series(net.counts(), name="rows").to_frame().T"""),
    md("""
## The base year, month by month

`optimize` maximises total surplus over twelve monthly periods (the LP of docs/model.md) and
returns a `Run`. Money is in USD over the year; `identity_gap` checks that the welfare by
country adds up to the objective."""),
    code("""
base = cr.optimize(net, periods=12)
base.summary()"""),
    md("""
The most utilised links, with the congestion rent a full link earns (mean flow in bcm/yr for
gas and Mt/yr for oil with `units="display"`):"""),
    code("""
base.bottlenecks(8, units="display")"""),
    md("""
Prices are the duals of the node balances. The mean price at the network's key nodes over the
year (days-weighted), and the monthly path of a few of them:"""),
    code("""
prices = base.prices(units="display")
key = prices[prices["node"].isin(net.meta.key_nodes)]
mean_price = (key.assign(weighted=key["price"] * key["days"])
              .groupby(["node", "country", "unit"])[["weighted", "days"]].sum())
mean_price = (mean_price["weighted"] / mean_price["days"]).rename("mean price").reset_index()
mean_price"""),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
for ax, carrier in zip(axes, ("gas", "oil"), strict=True):
    sub = key[key["carrier"] == carrier].pivot(index="period", columns="node", values="price")
    sub.plot(ax=ax, marker=".")
    ax.set_title(f"{carrier}: nodal price by month")
    ax.set_ylabel(key.loc[key["carrier"] == carrier, "unit"].iloc[0])
    ax.legend(fontsize=7)
fig.tight_layout()"""),
    md("""
## Who gains

Every money flow is booked to a country: consumer and producer surplus, transport revenue,
congestion rent, contract transfers, build and shortage cost. In bn USD over the year:"""),
    code("""
welfare = base.welfare(by="country") / 1e9
columns = ["consumer_surplus_usd", "producer_surplus_usd", "transport_revenue_usd",
           "congestion_rent_usd", "contract_transfer_usd", "welfare_usd"]
welfare[columns].sort_values("welfare_usd", ascending=False).head(8)"""),
    md("""
## The flows on a map

The mean flow of every link over the year: line width is flow, colour is utilisation (drawn by
examples/mapping.py; `run.write(folder)` writes Corridor's interactive plotly map into
`report.html`, below)."""),
    code("""
def mean_links(run):
    \"\"\"Days-weighted mean flow and utilisation per link, in display units.\"\"\"
    flows = run.flows(units="display")
    sums = (flows.assign(flow=flows["flow"] * flows["days"],
                         utilisation=flows["utilisation"] * flows["days"])
            .groupby("link")[["flow", "utilisation", "days"]].sum())
    return sums[["flow", "utilisation"]].div(sums["days"], axis=0)


links = net.links[["from", "to"]].join(mean_links(base)).fillna(0.0)
fig = flow_map(net.nodes, links, "Base year 2024: mean flows (width) and utilisation (colour)")"""),
    md("""
## A scenario: CPC stopped for a month

`apply_scenario` takes a bundled scenario's name or a YAML file (README, "Scenarios"), and
`compare` lines runs up against the first: objective and welfare, flows that changed most,
prices at the key nodes, transport revenue by country."""),
    code("""
cpc = cr.optimize(cr.apply_scenario(net, "cpc-outage-month"), periods=12)
comparison = cr.compare(base, cpc)
comparison.headline()"""),
    code("""
comparison.flow_changes().head(6)"""),
    code("""
comparison.price_changes()"""),
    code("""
comparison.transport_revenue().head(6)  # million USD"""),
    md("""
Who pays for the outage: the change in welfare by country (bn USD over the year)."""),
    code("""
change = (cpc.welfare(by="country")["welfare_usd"]
          - base.welfare(by="country")["welfare_usd"]) / 1e9
change = change[change.abs() > 0.005].sort_values()
ax = change.plot.barh(figsize=(7, 3), color=["#c0392b" if v < 0 else "#27ae60" for v in change])
ax.set_xlabel("change in welfare, bn USD")
ax.set_title("cpc-outage-month against the base year")
change.round(3).to_frame("bn USD")"""),
    md("""
## The interactive report

`run.write(folder)` writes the run's tables (Parquet), `summary.json` and the offline HTML report
(plotly map, Sankey diagrams, charts; nothing loads from the internet), as `corridor run --out`
does. Here into a temporary folder, removed again; give it a folder of your own to keep them:"""),
    code("""
import tempfile
from pathlib import Path

with tempfile.TemporaryDirectory() as tmp:
    folder = base.write(Path(tmp) / "base")
    written = sorted(p.name for p in folder.iterdir())
written"""),
    key_figures("""{
    "welfare_bn": base.total_welfare / 1e9,
    "identity_gap": float(base.summary().loc["identity_gap", "value"]),
    "cpc_welfare_change_bn": (cpc.total_welfare - base.total_welfare) / 1e9,
    "cpc_terminal_mt": float(links.loc["O03", "flow"]),
    "mean_price_astana": float(mean_price.set_index("node").loc["KZ_ASTANA", "mean price"]),
    "welfare_by_country_bn": float(welfare["welfare_usd"].sum()),
    "report_written": "report.html" in written,
}"""),
]

GAS_UNION_GAME = [
    md("""
# The gas union as a coalition game

What is a union of Russia, Kazakhstan and Uzbekistan worth against the bilateral deals its
members could strike instead, and what is a fair split of it? The value of a coalition is the
welfare the optimiser finds when only its members' assets can be used (a link needs every
country it touches; markets and supplies of non-players stay open at their price). All
2^3 coalitions are solved on one warm-started LP; the split is given by the Shapley value and
the nucleolus, and checked against the core (docs/coalitions.md). This is
`corridor coalition --players RU,KZ,UZ`, as tables.

Generated and executed by `tools/build_notebooks.py`; CI executes it again
(`tests/test_notebooks.py`)."""),
    code(setup("from itertools import combinations\nfrom math import factorial")),
    code("""
net = cr.read_network("central-asia")
game = cr.coalition(net, ["RU", "KZ", "UZ"])  # gas and oil, one period (the year)
musd = game.coalitions.assign(value=game.coalitions["value"] / 1e6,
                              gain=game.coalitions["gain"] / 1e6)
musd  # million USD a year; gain: over the members' values alone"""),
    md("""
Per player: its value alone, its Shapley value, its nucleolus, and its marginal contribution to
the union v(N) − v(N∖i), in million USD a year. The levels include the consumer surplus on
linear demand curves and are large; the gains are what the game is about."""),
    code("""
players = game.table / 1e6
players"""),
    md("""
An independent check of the Shapley value: the average of every player's marginal contribution
over all orders of arrival, computed here from the coalition values alone."""),
    code("""
value = {frozenset(name.split("+")): v for name, v in musd["value"].items()}
value[frozenset()] = 0.0
names = list(players.index)
n = len(names)


def shapley(player):
    others = [p for p in names if p != player]
    total = 0.0
    for size in range(n):
        weight = factorial(size) * factorial(n - size - 1) / factorial(n)
        for group in combinations(others, size):
            s = frozenset(group)
            total += weight * (value[s | {player}] - value[s])
    return total


by_hand = pd.Series({p: shapley(p) for p in names}, name="shapley by hand")
check = pd.concat([players["shapley"], by_hand], axis=1)
check["difference"] = check["shapley by hand"] - check["shapley"]
check"""),
    code("""
print("core:", game.core)
print("best arrangement without the union:", game.bilateral["best_split"],
      f"{game.bilateral['value'] / 1e6:,.1f} M USD;",
      f"the union adds {game.bilateral['union_gain'] / 1e6:,.1f} M USD a year")
print("properties:", game.properties)"""),
    code("""
fig, ax = plt.subplots(figsize=(7, 3.2))
gain = players[["shapley", "nucleolus"]].sub(players["alone"], axis=0)
gain.plot.bar(ax=ax, rot=0)
ax.set_ylabel("million USD a year")
ax.set_title("What each player gains from the union over staying alone")
fig.tight_layout()"""),
    md("""
## Gas alone

The same game on the gas network only (`carrier="gas"`), the gas union proper: what the union
adds over the best arrangement without it, and each country's marginal contribution, which shows
where the bargaining power of a transit country lies."""),
    code("""
gas = cr.coalition(net, ["RU", "KZ", "UZ"], carrier="gas")
print("best arrangement without the union:", gas.bilateral["best_split"],
      f"; the union adds {gas.bilateral['union_gain'] / 1e6:,.1f} M USD a year")
gas.table / 1e6"""),
    key_figures("""{
    "union_value_musd": float(musd.loc["RU+KZ+UZ", "value"]),
    "union_gain_musd": game.bilateral["union_gain"] / 1e6,
    "shapley_musd": players["shapley"].to_dict(),
    "nucleolus_musd": players["nucleolus"].to_dict(),
    "shapley_check_max_abs": float(check["difference"].abs().max()),
    "shapley_in_core": bool(game.core["shapley_in_core"]),
    "gas_union_gain_musd": gas.bilateral["union_gain"] / 1e6,
}"""),
]

OUTAGE_SWEEP = [
    md("""
# A sweep of outages and its risk charts

The bundled `outages` sweep draws random outages of the Central Asia–Center gas system (CAC),
CPC and the Druzhba route to Schwedt over the base year, month by month: each outage group has
a Poisson rate or a probability, a duration distribution and a remaining availability (the
rates are Corridor's estimates from the public record of incidents, stated in the file). Each
draw is a warm re-solve of one LP. The file asks for 1,000 draws; this notebook runs 200 in this
process so it takes seconds. Draw *i* is the same whatever the number of draws or workers.
This is `corridor sweep outages --draws 200` then `corridor sweep-report`, as tables.

Generated and executed by `tools/build_notebooks.py`; CI executes it again
(`tests/test_notebooks.py`)."""),
    code(setup("import tempfile\nfrom pathlib import Path")),
    code("""
with tempfile.TemporaryDirectory() as tmp:  # keep the draws out of the user's results store
    report = cr.sweep("outages", draws=200, workers=0, store=Path(tmp) / "sweeps.duckdb")
print(report.meta["draws"], "draws of", report.meta["network"], "in",
      f"{report.meta['seconds']:.1f} s;", report.statuses.to_dict())"""),
    md("""
## Loss of load

Per country and carrier: the probability that a draw leaves some domestic demand unserved
(LOLP) and the expected unserved volume (EUE) over the year, in bcm of gas or Mt of oil. `base`
is what the base year already leaves unserved (consumers on demand curves priced out of their
reference amount); `eue_beyond_base` is what the outages add."""),
    code("""
security = report.domestic.copy()
volumes = ["demand", "base", "eue", "eue_beyond_base", "p95", "worst"]
security[volumes] = security[volumes] / 1000  # mcm -> bcm, kt -> Mt
security"""),
    code("""
shown = security[security["demand"] > 0]
labels = shown["country"] + " " + shown["carrier"]
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
axes[0].bar(labels, shown["lolp"])
axes[0].set_title("Loss-of-load probability")
axes[0].set_ylabel("share of draws")
axes[1].bar(labels, shown["eue_beyond_base"] * 1000)
axes[1].set_title("Expected unserved volume beyond the base year")
axes[1].set_ylabel("mcm (gas) / kt (oil)")
fig.tight_layout()"""),
    md("""
## Who loses transit revenue

Transport revenue by country over the draws (million USD a year): the base case, the mean and
percentiles, for the countries whose revenue varies. The boxes below (the five that vary most)
span the 25th to 75th percentile, the whiskers the 5th to 95th; the triangle is the mean."""),
    code("""
revenue = report.revenue.set_index(["item", "carrier"]) / 1e6
revenue["spread"] = revenue["p95"] - revenue["p5"]
varying = revenue[revenue["spread"] > 0.5].sort_values("spread", ascending=False)
varying.head(8)"""),
    code("""
stats = [{"label": f"{c} {k}", "whislo": r["p5"], "q1": r["p25"], "med": r["p50"],
          "q3": r["p75"], "whishi": r["p95"], "mean": r["mean"]}
         for (c, k), r in varying.head(5).iterrows()]
fig, axes = plt.subplots(1, len(stats), figsize=(2.2 * len(stats), 3.2))
for ax, box, (_, row) in zip(axes, stats, varying.head(5).iterrows(), strict=True):
    ax.bxp([box], showmeans=True, showfliers=False)
    ax.plot([1], [row["base"]], "D", color="#d35400", label="base case")
    ax.set_title(box["label"], fontsize=9)
    ax.set_xticks([])
axes[0].set_ylabel("million USD a year")
axes[0].legend(fontsize=7)
fig.suptitle("Transport revenue over the draws (box 25-75 %, whiskers 5-95 %)", fontsize=10)
fig.tight_layout()"""),
    md("""
## Flows and the cost of the draws

The links whose annual flow varies most (Mt of oil or bcm of gas over the year), and the
distribution of the welfare lost against the base year."""),
    code("""
flows = report.flows.set_index("item")
flows[["base", "mean", "p5", "p50", "p95"]] = flows[["base", "mean", "p5", "p50", "p95"]] / 1000
flows[["name", "carrier", "base", "mean", "p5", "p50", "p95"]].head(6)"""),
    code("""
base_objective = float(report.objective["base"].iloc[0])
loss = (report.objectives - base_objective) / 1e9  # objective = minus the surplus
ax = loss.plot.hist(bins=30, figsize=(7, 3))
ax.set_xlabel("welfare lost against the base year, bn USD")
ax.set_ylabel("draws")
ax.set_title(f"{len(loss)} draws: mean loss {loss.mean():.2f} bn USD, "
             f"P95 {loss.quantile(0.95):.2f}")
print(report.costliest.to_string(index=False, max_colwidth=90))"""),
    key_figures("""{
    "draws": int(report.meta["draws"]),
    "optimal": int(report.statuses.get("optimal", 0)),
    "lolp": {f"{r.country} {r.carrier}": float(r.lolp) for r in security.itertuples()},
    "cpc_terminal_mean_mt": float(flows.loc["O03", "mean"]),
    "cpc_terminal_base_mt": float(flows.loc["O03", "base"]),
    "ru_oil_revenue_mean_musd": float(revenue.loc[("RU", "oil"), "mean"]),
    "ru_oil_revenue_base_musd": float(revenue.loc[("RU", "oil"), "base"]),
    "mean_loss_bn": float(loss.mean()),
}"""),
]

NOTEBOOKS = {
    "01-base-year-and-scenarios.ipynb": BASE_AND_SCENARIOS,
    "02-gas-union-game.ipynb": GAS_UNION_GAME,
    "03-outage-sweep.ipynb": OUTAGE_SWEEP,
}


def new_notebook(cells: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                       "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nb


def execute(nb: nbformat.NotebookNode, timeout: int = TIMEOUT) -> nbformat.NotebookNode:
    """Run every cell in a fresh python3 kernel with examples/ as the working directory; an
    error in any cell raises nbclient's CellExecutionError naming the cell."""
    client = NotebookClient(nb, kernel_name="python3", timeout=timeout,
                            resources={"metadata": {"path": str(EXAMPLES)}})
    client.execute()
    return nb


def strip_volatile(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what changes on every execution but says nothing: timings and kernel metadata."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def build(name: str) -> Path:
    nb = new_notebook(NOTEBOOKS[name])
    # cell ids from the position, so a rebuild changes only what changed
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:02d}"
    execute(nb)
    path = EXAMPLES / name
    nbformat.validate(nb)
    nbformat.write(strip_volatile(nb), path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="build only notebooks whose name contains this")
    args = parser.parse_args(argv)
    for name in NOTEBOOKS:
        if args.only and not any(part in name for part in args.only):
            continue
        path = build(name)
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1024:,.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
