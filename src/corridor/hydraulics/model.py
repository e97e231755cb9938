"""The hydraulic model: named arrays of nodes and elements, built from a Corridor Network.

A `HydraulicModel` is what the solver reads. It is deliberately plain: one numpy array per
quantity, named, in SI or explicitly named units, so a reader can see every input of the
equations (no shared index tables). `model_from_network` decides which links are hydraulic
elements, where the pressure reference (slack) is, and the default set points of regulators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from corridor.hydraulics.compressibility import MODELS as Z_MODELS
from corridor.hydraulics.friction import MODELS as FRICTION_MODELS
from corridor.hydraulics.gas import SECONDS_PER_DAY, Gas, gas_from_nodes
from corridor.network import Network

PIPE, SHORT_PIPE, VALVE = "pipe", "shortPipe", "valve"
CONTROL_VALVE, RESISTOR, COMPRESSOR = "controlValve", "resistor", "compressorStation"
KINDS = (PIPE, SHORT_PIPE, VALVE, CONTROL_VALVE, RESISTOR, COMPRESSOR)
REGULATORS = (CONTROL_VALVE, COMPRESSOR)
# How a regulator (compressor station, control valve) is operated; valves are open or closed.
CONTROLS = ("auto", "active", "bypass", "closed")
VALVE_STATES = ("auto", "open", "closed")
DEFAULT_MAOP_BAR = 75.0
DEFAULT_ROUGHNESS_MM = 0.05


class HydraulicsError(ValueError):
    """A hydraulic model that cannot be built or solved, naming the nodes and elements."""


@dataclass
class HydraulicModel:
    """Nodes and elements of a gas network as named arrays (pressures in bar absolute)."""

    name: str
    node_ids: np.ndarray  # str
    height_m: np.ndarray
    p_min_bar: np.ndarray  # NaN: no bound
    p_max_bar: np.ndarray
    withdrawal_kg_s: np.ndarray  # demand minus supply at each node
    slack_bar: np.ndarray  # fixed pressure of reference nodes, NaN elsewhere
    element_ids: np.ndarray  # str
    kind: np.ndarray  # one of KINDS
    from_node: np.ndarray  # int index into node_ids
    to_node: np.ndarray
    length_m: np.ndarray
    diameter_m: np.ndarray
    roughness_m: np.ndarray
    drag: np.ndarray  # loss coefficient zeta (resistors); 0 for pipes
    control: np.ndarray  # regulators: auto/active/bypass/closed; valves: auto/open/closed
    set_pressure_bar: np.ndarray  # regulators: outlet (to-node) pressure set point
    set_ratio: np.ndarray  # compressors: pressure ratio set point (used if no set pressure)
    set_inlet_bar: np.ndarray  # regulators that hold their inlet side: inlet set point
    loss_in_bar: np.ndarray  # regulators: pressure loss before the machine/valve
    loss_out_bar: np.ndarray
    p_in_min_bar: np.ndarray  # regulators: least inlet pressure
    p_out_max_bar: np.ndarray  # regulators: highest outlet pressure (set point limit)
    reverse_allowed: np.ndarray  # bool: may carry flow from `to` to `from`
    gas: Gas = field(default_factory=Gas)
    friction: str = "colebrook"
    compressibility: str = "linear"
    slack_adjustable: bool = True  # the solver may move reference pressures into bounds
    skipped: dict[str, str] = field(default_factory=dict)  # link id -> why it is not modelled
    assumptions: list[str] = field(default_factory=list)

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_elements(self) -> int:
        return len(self.element_ids)

    def kg_s_per_mcm_d(self) -> float:
        """Mass flow (kg/s) of one mcm/d at normal conditions."""
        return 1e6 * self.gas.norm_density / SECONDS_PER_DAY

    def kg_s_per_1000m3_h(self) -> float:
        """Mass flow (kg/s) of 1000 normal m3/h (GasLib's flow unit)."""
        return 1000.0 * self.gas.norm_density / 3600.0

    def check(self) -> None:
        """Raise HydraulicsError naming every element with impossible data."""
        if self.friction not in FRICTION_MODELS:
            raise HydraulicsError(f"unknown friction model {self.friction!r}; expected one of "
                                  f"{', '.join(FRICTION_MODELS)}")
        if self.compressibility not in Z_MODELS:
            raise HydraulicsError(f"unknown compressibility model {self.compressibility!r}; "
                                  f"expected one of {', '.join(Z_MODELS)}")
        problems = []
        resistive = (self.kind == PIPE) | (self.kind == RESISTOR)
        bad_d = resistive & ~(self.diameter_m > 0)
        bad_l = (self.kind == PIPE) & ~(self.length_m > 0)
        bad_k = (self.kind == PIPE) & ~(self.roughness_m > 0)
        bad_z = (self.kind == RESISTOR) & ~(self.drag >= 0)
        for mask, what in ((bad_d, "diameter must be > 0"), (bad_l, "length must be > 0"),
                           (bad_k, "roughness must be > 0"), (bad_z, "drag factor must be >= 0")):
            problems += [f"{e}: {what}" for e in self.element_ids[mask]]
        if problems:
            raise HydraulicsError("; ".join(problems[:12]))


def first_number(text: object) -> float:
    """The first number in a text such as '1220/1420' (real data lists several diameters)."""
    if isinstance(text, (int, float, np.floating)):
        return float(text)
    found = re.search(r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?", str(text))
    return float(found.group()) if found else np.nan


def _num(df: pd.DataFrame, col: str, default: float = np.nan) -> np.ndarray:
    if col not in df:
        return np.full(len(df), default)
    return pd.to_numeric(df[col], errors="coerce").fillna(default).to_numpy(float)


def _text(df: pd.DataFrame, col: str, default: str = "") -> np.ndarray:
    if col not in df:
        return np.full(len(df), default, dtype=object)
    return df[col].fillna(default).astype(str).str.strip().replace("", default).to_numpy(object)


def hydraulic_links(net: Network) -> tuple[pd.DataFrame, dict[str, str]]:
    """The links that are hydraulic elements, each with a GasLib kind, and why others are not.

    GasLib kinds are taken as they are; any other operating gas link with a length and a
    diameter is a pipe; the rest are skipped with a reason.
    """
    links = net.links
    gas = links["carrier"] == "gas"
    kind = links["kind"].astype(str)
    gaslib = gas & kind.isin(KINDS)
    length = _num(links, "length_km")
    diameter = np.array([first_number(d) for d in links.get("diameter_mm", [""] * len(links))])
    other = gas & ~gaslib & (links["status"] == "operating")
    pipe_like = other & (length > 0) & (diameter > 0)
    skipped = {}
    for lid in links.index[other & ~pipe_like]:
        i = links.index.get_loc(lid)
        missing = [n for n, v in (("length", length[i]), ("diameter", diameter[i]))
                   if not v > 0]
        skipped[str(lid)] = f"no {' and '.join(missing)}"
    chosen = links[gaslib | pipe_like].copy()
    chosen["kind"] = np.where(chosen["kind"].isin(KINDS), chosen["kind"], PIPE)
    return chosen, skipped


def _islands(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def model_from_network(net: Network, *, gas: Gas | None = None, friction: str = "colebrook",
                       compressibility: str = "linear", slack: str | None = None,
                       slack_pressure_bar: float | None = None,
                       default_maop_bar: float = DEFAULT_MAOP_BAR,
                       default_roughness_mm: float = DEFAULT_ROUGHNESS_MM) -> HydraulicModel:
    """A hydraulic model of a Network's gas elements with its supplies and demands as loads.

    Supplies inject their capacity scaled, per connected island, to the island's demand
    (exactly the nominations for a GasLib network, which balance). Each island gets one
    pressure reference: `slack` if given, else the node of the island's largest supply, held
    at `slack_pressure_bar`, else at its highest allowed pressure, else `default_maop_bar`.
    Regulators without a set point get the highest outlet pressure their data allow.
    """
    links, skipped = hydraulic_links(net)
    assumptions: list[str] = []
    node_used = pd.Index(pd.unique(np.concatenate([links["from"].to_numpy(),
                                                   links["to"].to_numpy()]).astype(str)))
    nodes = net.nodes.loc[node_used] if len(node_used) else net.nodes.iloc[0:0]
    index = pd.Series(np.arange(len(nodes)), index=nodes.index.astype(str))
    frm = index[links["from"].astype(str)].to_numpy()
    to = index[links["to"].astype(str)].to_numpy()
    n = len(nodes)

    supply = net.supplies[net.supplies["carrier"] == "gas"]
    demand = net.demands[net.demands["carrier"] == "gas"]
    sup = supply.groupby("node")["capacity"].sum().reindex(nodes.index).fillna(0.0).to_numpy()
    dem = demand.groupby("node")["amount"].sum().reindex(nodes.index).fillna(0.0).to_numpy()
    closed = _text(links, "control", "") == "closed"
    island = _islands(n, frm[~closed], to[~closed])
    sup_island = np.bincount(island, sup, minlength=island.max() + 1 if n else 0)
    dem_island = np.bincount(island, dem, minlength=len(sup_island))
    scale = np.divide(dem_island, sup_island, out=np.zeros_like(sup_island),
                      where=sup_island > 0)
    if n and np.any(np.abs(scale[sup_island > 0] - 1.0) > 1e-9):
        assumptions.append("supplies scaled pro rata to meet the demand of their island")
    inflow = pd.Series(sup * scale[island], index=nodes.index)
    gas = gas or gas_from_nodes(nodes, inflow)
    to_kg_s = 1e6 * gas.norm_density / SECONDS_PER_DAY
    withdrawal = (dem - sup * scale[island]) * to_kg_s

    p_max = _num(nodes, "pressure_max_bar")
    p_min = _num(nodes, "pressure_min_bar")
    contract = _num(nodes, "contract_pressure_max_bar")
    slack_bar = _num(nodes, "slack_pressure_bar")
    if slack is not None:
        if slack not in index:
            raise HydraulicsError(f"slack node {slack!r} is not a node of the hydraulic network")
        slack_bar[:] = np.nan
        slack_bar[index[slack]] = np.nan  # filled below
    for isl in range(island.max() + 1 if n else 0):
        members = np.flatnonzero(island == isl)
        if slack is not None and index[slack] in members:
            ref = index[slack]
        elif np.isfinite(slack_bar[members]).any():
            continue
        else:
            ref = members[np.argmax(sup[members])] if sup[members].max() > 0 else members[0]
        level = (slack_pressure_bar if slack_pressure_bar is not None
                 else np.fmin(p_max[ref], contract[ref]))
        if not np.isfinite(level):
            level = default_maop_bar
            assumptions.append(f"pressure reference {nodes.index[ref]} held at "
                               f"{default_maop_bar:g} bar (no pressure data)")
        slack_bar[ref] = level

    kind = links["kind"].to_numpy(object)
    diameter_mm = np.array([first_number(d) for d in links.get("diameter_mm", [""] * len(links))])
    roughness_mm = _num(links, "roughness_mm")
    no_rough = (kind == PIPE) & ~(roughness_mm > 0)
    if no_rough.any():
        assumptions.append(f"roughness {default_roughness_mm:g} mm where the data has none "
                           f"({no_rough.sum()} pipes)")
        roughness_mm = np.where(no_rough, default_roughness_mm, roughness_mm)
    regulator = np.isin(kind, REGULATORS)
    control = _text(links, "control", "")
    control = np.where(regulator & (control == ""), "auto", control)
    control = np.where((kind == VALVE) & (control == ""), "auto", control)
    bad = [f"{lid} ({c!r})" for lid, c, k in zip(links.index, control, kind, strict=True)
           if (k in REGULATORS and c not in CONTROLS) or (k == VALVE and c not in VALVE_STATES)]
    if bad:
        raise HydraulicsError(f"unknown control of element(s) {', '.join(bad[:8])}; regulators: "
                              f"{', '.join(CONTROLS)}; valves: {', '.join(VALVE_STATES)}")
    p_out_max = _num(links, "pressure_out_max_bar")
    set_p = _num(links, "set_pressure_bar")
    default_set = np.fmin(p_out_max, p_max[to])
    default_set = np.where(np.isfinite(default_set), default_set, default_maop_bar)
    set_ratio = _num(links, "set_ratio")
    set_p = np.where(regulator & np.isnan(set_p) & np.isnan(set_ratio), default_set, set_p)

    model = HydraulicModel(
        name=net.name, node_ids=nodes.index.astype(str).to_numpy(object),
        height_m=_num(nodes, "height_m", 0.0), p_min_bar=p_min, p_max_bar=p_max,
        withdrawal_kg_s=withdrawal, slack_bar=slack_bar,
        element_ids=links.index.astype(str).to_numpy(object), kind=kind,
        from_node=frm, to_node=to, length_m=_num(links, "length_km", 0.0) * 1000.0,
        diameter_m=np.nan_to_num(diameter_mm, nan=0.0) / 1000.0,
        roughness_m=np.nan_to_num(roughness_mm, nan=0.0) / 1000.0,
        drag=_num(links, "drag_factor", 0.0), control=control, set_pressure_bar=set_p,
        set_ratio=set_ratio, set_inlet_bar=_num(links, "set_inlet_pressure_bar"),
        loss_in_bar=_num(links, "pressure_loss_in_bar", 0.0),
        loss_out_bar=_num(links, "pressure_loss_out_bar", 0.0),
        p_in_min_bar=_num(links, "pressure_in_min_bar"), p_out_max_bar=p_out_max,
        reverse_allowed=_num(links, "reverse_capacity", 1.0) > 0,
        gas=gas, friction=friction, compressibility=compressibility, skipped=skipped,
        assumptions=assumptions, slack_adjustable=slack_pressure_bar is None)
    model.check()
    return model
