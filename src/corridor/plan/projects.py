"""Projects: the proposed and under-construction links, supplies and storages a plan decides on,
with what they cost per year, when they may first operate and whom they cross."""

from __future__ import annotations

import numpy as np
import pandas as pd

from corridor.finance import DEFAULT_LIFETIME
from corridor.network import Network
from corridor.optimize.accounts import link_shares

PROJECT_TABLES = ("links", "supplies", "storages")


class PlanError(ValueError):
    """A plan that cannot be set up: no horizon, a project without a cost, a bad group."""


def projects_of(net: Network, first_year: int) -> pd.DataFrame:
    """One row per project (index: its id): table, expansion, capacity, capex, lifetime,
    annual cost (USD/yr: build_cost + capex annuity + fixed O&M), the first year it may
    operate, `committed` (under construction: built as soon as it may be), countries.

    A proposed project needs a capital cost; without one a plan would build it for free."""
    rows = []
    annual = {name: net.annual_cost(name) for name in PROJECT_TABLES}
    shares = link_shares(net)
    for name in PROJECT_TABLES:
        table = getattr(net, name)
        if "status" not in table:
            continue
        for pid, row in table[table["status"] != "operating"].iterrows():
            cost = float(annual[name][pid])
            if not cost > 0:
                raise PlanError(f"{name}.csv (id {pid}): a {row['status']} project needs a "
                                "capex (or build_cost) for a plan to weigh it")
            lead = float(row.get("lead_time", 0.0) or 0.0)
            earliest = row.get("earliest_year", np.nan)
            first = max(first_year + int(np.ceil(lead)),
                        int(earliest) if earliest == earliest else first_year)
            lifetime = row.get("lifetime", np.nan)
            if name == "links":
                countries = tuple(dict.fromkeys(shares.loc[shares["link"] == pid, "country"]))
                ends = net.nodes["country"].reindex([row["from"], row["to"]])
                countries = tuple(dict.fromkeys([*countries, *(c for c in ends if c)]))
                capacity = float(row["capacity"])
            else:
                countries = (row["country"],)
                capacity = float(row["capacity"] if name == "supplies" else row["volume"])
            rows.append({
                "id": pid, "table": name, "status": row["status"],
                "expansion": row.get("expansion", "binary") or "binary",
                "capacity": capacity, "capex": float(np.nan_to_num(row.get("capex", 0.0))),
                "lifetime": float(lifetime) if lifetime == lifetime else DEFAULT_LIFETIME,
                "annual_cost": cost, "first_year": first,
                "committed": row["status"] == "under_construction",
                "countries": countries,
            })
    columns = ["id", "table", "status", "expansion", "capacity", "capex", "lifetime",
               "annual_cost", "first_year", "committed", "countries"]
    return pd.DataFrame(rows, columns=columns).set_index("id")


def cost_by_country(net: Network, projects: pd.DataFrame) -> pd.DataFrame:
    """(project, country, share) of each project's cost: a link's by km (`segments`, else its
    country), a supply's or storage's to its country."""
    shares = link_shares(net)
    rows = []
    for pid, row in projects.iterrows():
        if row["table"] == "links":
            mine = shares[shares["link"] == pid]
            rows += [(pid, c, s) for c, s in zip(mine["country"], mine["share"], strict=True)]
        else:
            rows.append((pid, row["countries"][0], 1.0))
    return pd.DataFrame(rows, columns=["project", "country", "share"])
