"""The Corridor network behind the service: its interconnection points, and whether a gas day's
plan is feasible on the whole network.

Interconnection points are the gas links between nodes of two different member countries; a link
with reverse capacity gives a second, reverse point. The feasibility check fixes the flow through
every interconnection link to the day's allocated plan (netted per link: a pipe flows one way) and
lets the optimiser route everything else on the whole network at least cost, at the network's
annual-average daily supply and demand. Points whose planned flow the network cannot carry are
reported with their shortfall. Where links have length and diameter, the hydraulic plan check then
tells whether the pressures hold (with compressor stations as needed).
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd

from corridor.network import Network

TARGET_PREFIX = "ICP_"


@lru_cache(maxsize=4)
def load_network(name: str) -> Network:
    """The network (folder or bundled name), read once per process."""
    from corridor.data import resolve
    from corridor.io import read_network

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_network(resolve(name))


def interconnection_points(net: Network, members: list[str]) -> list[dict]:
    """One point per direction with capacity of every operating gas link between two members."""
    nodes, links = net.nodes, net.active_links()
    gas = links[links["carrier"] == "gas"]
    frm = nodes["country"].reindex(gas["from"]).to_numpy()
    to = nodes["country"].reindex(gas["to"]).to_numpy()
    border = gas[(frm != to) & pd.Series(frm).isin(members).to_numpy()
                 & pd.Series(to).isin(members).to_numpy()]
    points = []
    for lid, link in border.iterrows():  # a handful of border links
        a, b = nodes.loc[link["from"]], nodes.loc[link["to"]]
        for direction, cap, start, end in (("forward", link["capacity"], a, b),
                                           ("reverse", link["reverse_capacity"], b, a)):
            if not cap > 0:
                continue
            points.append({
                "code": str(lid) if direction == "forward" else f"{lid}-R",
                "name": f"{link['name']}" + (" (reverse)" if direction == "reverse" else ""),
                "link": str(lid), "direction": direction,
                "from_node": str(start.name), "to_node": str(end.name),
                "from_country": str(start["country"]), "to_country": str(end["country"]),
                "capacity": round(float(cap), 6),
                "from_lat": _num(start.get("lat")), "from_lon": _num(start.get("lon")),
                "to_lat": _num(end.get("lat")), "to_lon": _num(end.get("lon"))})
    return points


def _num(value: object) -> float | None:
    value = pd.to_numeric(value, errors="coerce")
    return float(value) if pd.notna(value) else None


def link_plan(point_flows: list[dict]) -> dict[str, float]:
    """Net planned flow per link (positive from -> to) from allocated totals per point."""
    plan: dict[str, float] = {}
    for p in point_flows:
        sign = 1.0 if p["direction"] == "forward" else -1.0
        plan[p["link"]] = plan.get(p["link"], 0.0) + sign * float(p["allocated"])
    return plan


def plan_network(net: Network, plan: dict[str, float]) -> Network:
    """The network with each planned link's flow fixed: a minimum equal to the plan and a
    capacity of the plan but never above the link's technical capacity in that direction (a
    plan beyond it is infeasible, with the excess as its shortfall), in the planned direction
    (a reversed link is turned around). Contracts are left out: their volume bands are annual
    and commercial, and one gas day is not held to them."""
    links = net.links.copy()
    rows = []
    for lid, flow in plan.items():
        technical = float(links.at[lid, "capacity" if flow >= 0 else "reverse_capacity"])
        if flow < 0:
            links.loc[lid, ["from", "to"]] = links.loc[lid, ["to", "from"]].to_numpy()
        links.loc[lid, ["capacity", "reverse_capacity"]] = [min(abs(flow), technical), 0.0]
        if abs(flow) > 0:
            rows.append({"id": TARGET_PREFIX + lid, "links": lid, "minimum": abs(flow),
                         "unit": "mcm/d", "source": "day plan", "carrier": "gas"})
    targets = pd.DataFrame(rows, columns=["id", "links", "minimum", "unit", "source", "carrier"])
    targets = targets.set_index("id").astype({"minimum": float})
    targets = pd.concat([net.targets, targets]) if len(net.targets) else targets
    return net.replace(links=links, targets=targets, contracts=net.contracts.iloc[0:0])


def check_day_plan(net: Network, point_flows: list[dict], hydraulics: bool = True) -> dict:
    """Check a day plan (allocated total per point) on the whole network; JSON-ready result."""
    from corridor.optimize import optimize

    plan = link_plan(point_flows)
    fixed = plan_network(net, plan)
    results = optimize(fixed, periods=1)
    total_days = float(np.sum(results.days))
    shortfall: dict[str, float] = {}
    other = []
    for v in results.violations:
        if v.block == "target" and v.element.startswith(TARGET_PREFIX):
            link = v.element[len(TARGET_PREFIX):]
            shortfall[link] = shortfall.get(link, 0.0) + abs(v.amount) / total_days
        else:
            other.append(f"{v.block} {v.element}: {v.amount:g}")
    points = []
    for p in point_flows:
        short = shortfall.get(p["link"], 0.0) if p["allocated"] > 0 else 0.0
        points.append({"point": p["point"], "link": p["link"], "allocated": p["allocated"],
                       "feasible": short <= 1e-6, "shortfall": short})
    out = {"status": "feasible" if results.status == "optimal" else
           ("infeasible" if results.status == "infeasible" else "error"),
           "solver_status": results.status, "network": net.name,
           "objective": float(results.objective) if results.status == "optimal" else None,
           "plan": plan, "points": points,
           "infeasible_points": [p["point"] for p in points if not p["feasible"]],
           "other_violations": other,
           "assumption": "annual-average daily supply and demand of the network; every other "
                         "link routed at least cost"}
    if results.status == "optimal":
        unmet = results.unmet.iloc[0]
        out["unmet_demand"] = {str(k): float(v) for k, v in unmet[unmet > 1e-6].items()}
        if hydraulics:
            out["hydraulics"] = _hydraulics(fixed, results, point_flows)
    return out


def _hydraulics(net: Network, results, point_flows: list[dict]) -> dict:
    """Pressure check of the optimised flows where links have geometry."""
    from corridor.hydraulics import HydraulicsError
    from corridor.hydraulics.check import check_plan

    flows = (results.flows_forward - results.flows_reverse).iloc[0]
    try:
        check = check_plan(net, flows)
    except (HydraulicsError, ValueError, np.linalg.LinAlgError) as exc:
        return {"checked": False, "message": str(exc)}
    links = {p["link"] for p in point_flows}
    at_points = sorted({p for p in check.problems for lid in links
                        if p.startswith((lid + ":", lid + " "))})
    return {"checked": True, "converged": bool(check.result.converged),
            "problems": check.problems, "problems_at_points": at_points,
            "links_without_geometry": len(check.skipped),
            "stations": int(check.segments["stations"].sum())}
