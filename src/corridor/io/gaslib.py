"""Read GasLib instances (.net network, .scn nominations, .cs compressor stations) as published.

GasLib (Zuse Institute Berlin, CC BY 3.0) is the standard library of gas network benchmarks.
The files are namespaced XML with mixed units for the same quantity (km or m, mm or m, bar or
barg, Celsius or K, heights with or without a unit). This reader matches elements by their local
name (so any namespace prefix works), converts every quantity with pint, and builds a checked
Corridor `Network`: gas nodes with height and pressure bounds, links whose `kind` is the GasLib
element type, and the nominations as supplies (entries) and demands (exits). Pressures are stored
in absolute bar; flows keep GasLib's unit (1000 m3/h at 0 degC and 1.01325 bar) in the raw
tables and are converted to Corridor's base unit (mcm/d) by `build_network`.
"""

from __future__ import annotations

import math
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from corridor.network import Network, NetworkMeta
from corridor.units import registry
from corridor.validation import build_network

NODE_TYPES = ("source", "sink", "innode")
ELEMENT_TYPES = ("pipe", "shortPipe", "valve", "controlValve", "resistor", "compressorStation")
FLOW_UNIT = "1000 m3/h"  # GasLib's flow unit, as Corridor's unit parser spells it
ATMOSPHERE_BAR = 1.01325  # barg -> bar (GasLib's standard conditions use the same pressure)
NORMAL_TEMPERATURE_K = 273.15
_M3H = "meter ** 3 / hour"

# GasLib unit names -> pint expressions (the rest, e.g. bar, km, mm, m, K, pass through).
_UNITS = {
    "1000m_cube_per_hour": "1000 * meter ** 3 / hour",
    "m_cube_per_hour": "meter ** 3 / hour",
    "MJ_per_m_cube": "megajoule / meter ** 3",
    "kg_per_m_cube": "kilogram / meter ** 3",
    "kg_per_kmol": "kilogram / kilomole",
    "W_per_m_square_per_K": "watt / meter ** 2 / kelvin",
    "meter": "meter",
    "Celsius": "degree_Celsius",
    "celsius": "degree_Celsius",
    "C": "degree_Celsius",
    "per_min": "1 / minute",
}


class GasLibError(ValueError):
    """A GasLib file that cannot be read, naming the file and the element."""


@dataclass(frozen=True)
class _Quantity:
    """How to read one child element's value: target unit and what a unit-less value means."""

    tag: str
    unit: str
    default_unit: str | None = None
    scale: float = 1.0  # applied after conversion (pint refuses scaled target units)


def _local(tag: str) -> str:
    """Tag name without its namespace: '{http://gaslib.zib.de/Gas}pipe' -> 'pipe'."""
    return tag.rsplit("}", 1)[-1]


def _describe(elem: ET.Element) -> str:
    ident = elem.get("id")
    return f"<{_local(elem.tag)} id={ident!r}>" if ident else f"<{_local(elem.tag)}>"


@lru_cache(maxsize=128)
def _factor(unit: str, target: str) -> float:
    """Multiplier from a (non-offset) unit to the target unit, through pint."""
    ureg = registry()
    expr = _UNITS.get(unit, unit)
    return float(ureg.Quantity(f"1 * {expr}").to(target).magnitude)


def _convert(value: float, unit: str | None, target: str, where: str) -> float:
    """Convert a value with a GasLib unit to `target` (bar absolute, K, km, mm, m, ...)."""
    if unit is None or unit == "":
        raise GasLibError(f"{where}: value {value} has no unit")
    try:
        if target == "bar" and unit == "barg":
            return value * _factor("bar", "bar") + ATMOSPHERE_BAR
        if target == "kelvin":
            ureg = registry()
            return float(ureg.Quantity(value, _UNITS.get(unit, unit)).to("kelvin").magnitude)
        return value * _factor(unit, target)
    except GasLibError:
        raise
    except Exception as exc:  # pint raises several unrelated exception types
        raise GasLibError(f"{where}: unit {unit!r} cannot be read as {target} ({exc})") from None


def _number(text: str | None, where: str) -> float:
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise GasLibError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise GasLibError(f"{where}: {text!r} is not a finite number")
    return value


def _children(elem: ET.Element) -> dict[str, list[ET.Element]]:
    out: dict[str, list[ET.Element]] = {}
    for child in elem:
        if isinstance(child.tag, str):
            out.setdefault(_local(child.tag), []).append(child)
    return out


def _value(elem: ET.Element, kids: dict, q: _Quantity, file: str,
           required: bool = False) -> float:
    """The converted value of child `q.tag` of an element, NaN when absent and optional."""
    where = f"{file}: {_describe(elem)}, <{q.tag}>"
    found = kids.get(q.tag)
    if not found:
        if required:
            raise GasLibError(f"{file}: {_describe(elem)} has no <{q.tag}>")
        return math.nan
    child = found[0]
    value = _number(child.get("value"), where)
    unit = child.get("unit") or q.default_unit
    if q.unit == "1":
        return value
    return _convert(value, unit, q.unit, where) * q.scale


def _parse(path: Path) -> ET.Element:
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as exc:
        line, col = exc.position
        raise GasLibError(f"{path.name}: not well-formed XML at line {line}, column {col}") \
            from None
    except OSError as exc:
        raise GasLibError(f"{path}: cannot be read ({exc.strerror})") from None


_NODE_FIELDS = {
    "height_m": _Quantity("height", "meter", default_unit="meter"),
    "pressure_min_bar": _Quantity("pressureMin", "bar"),
    "pressure_max_bar": _Quantity("pressureMax", "bar"),
    "flow_min": _Quantity("flowMin", _M3H, scale=1e-3),
    "flow_max": _Quantity("flowMax", _M3H, scale=1e-3),
    "gas_temperature_k": _Quantity("gasTemperature", "kelvin"),
    "calorific_value_mj_per_m3": _Quantity("calorificValue", "megajoule / meter ** 3"),
    "norm_density_kg_per_m3": _Quantity("normDensity", "kilogram / meter ** 3"),
    "molar_mass_kg_per_kmol": _Quantity("molarMass", "kilogram / kilomole"),
    "pseudocritical_pressure_bar": _Quantity("pseudocriticalPressure", "bar"),
    "pseudocritical_temperature_k": _Quantity("pseudocriticalTemperature", "kelvin"),
    "heat_capacity_a": _Quantity("coefficient-A-heatCapacity", "1"),
    "heat_capacity_b": _Quantity("coefficient-B-heatCapacity", "1"),
    "heat_capacity_c": _Quantity("coefficient-C-heatCapacity", "1"),
}

_LINK_FIELDS = {
    "flow_min": _Quantity("flowMin", _M3H, scale=1e-3),
    "flow_max": _Quantity("flowMax", _M3H, scale=1e-3),
    "length_km": _Quantity("length", "kilometer"),
    "diameter_mm": _Quantity("diameter", "millimeter"),
    "roughness_mm": _Quantity("roughness", "millimeter"),
    "pipe_pressure_max_bar": _Quantity("pressureMax", "bar"),
    "heat_transfer_w_per_m2k": _Quantity("heatTransferCoefficient", "watt / meter ** 2 / kelvin"),
    "drag_factor": _Quantity("dragFactor", "1"),
    "drag_factor_in": _Quantity("dragFactorIn", "1"),
    "drag_factor_out": _Quantity("dragFactorOut", "1"),
    "diameter_in_mm": _Quantity("diameterIn", "millimeter"),
    "diameter_out_mm": _Quantity("diameterOut", "millimeter"),
    "pressure_loss_in_bar": _Quantity("pressureLossIn", "bar"),
    "pressure_loss_out_bar": _Quantity("pressureLossOut", "bar"),
    "pressure_in_min_bar": _Quantity("pressureInMin", "bar"),
    "pressure_out_max_bar": _Quantity("pressureOutMax", "bar"),
    "pressure_differential_min_bar": _Quantity("pressureDifferentialMin", "bar"),
    "pressure_differential_max_bar": _Quantity("pressureDifferentialMax", "bar"),
}

_REQUIRED = {
    "pipe": ("length", "diameter", "roughness"),
    "resistor": ("dragFactor", "diameter"),
}


def _section(root: ET.Element, name: str, file: str) -> ET.Element:
    for child in root:
        if isinstance(child.tag, str) and _local(child.tag) == name:
            return child
    raise GasLibError(f"{file}: <{_local(root.tag)}> has no <{name}> section")


def read_net(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Nodes and links of a GasLib .net file as raw tables (absolute bar, km, mm), plus info."""
    path = Path(path)
    file = path.name
    root = _parse(path)
    if _local(root.tag) != "network":
        raise GasLibError(f"{file}: root element is <{_local(root.tag)}>, expected <network>")
    info: dict = {"file": file}
    for child in root:
        if isinstance(child.tag, str) and _local(child.tag) == "information":
            for item in child:
                if isinstance(item.tag, str):
                    info[_local(item.tag)] = (item.text or "").strip()
    nodes, links = [], []
    for elem in _section(root, "nodes", file):
        if not isinstance(elem.tag, str):
            continue
        kind = _local(elem.tag)
        if kind not in NODE_TYPES:
            raise GasLibError(f"{file}: unsupported node type {_describe(elem)}; expected one of "
                              f"{', '.join(NODE_TYPES)}")
        if not elem.get("id"):
            raise GasLibError(f"{file}: a <{kind}> node has no id")
        kids = _children(elem)
        row = {"id": elem.get("id"), "carrier": "gas", "kind": kind,
               "name": elem.get("alias") or elem.get("id")}
        for attr, col in (("x", "x"), ("y", "y"), ("geoWGS84Lat", "lat"),
                          ("geoWGS84Long", "lon")):
            if elem.get(attr) not in (None, ""):
                row[col] = _number(elem.get(attr), f"{file}: {_describe(elem)}, {attr}")
        for col, q in _NODE_FIELDS.items():
            row[col] = _value(elem, kids, q, file, required=q.tag in ("pressureMin",
                                                                      "pressureMax"))
        if math.isnan(row["height_m"]):
            row["height_m"] = 0.0
        nodes.append(row)
    for elem in _section(root, "connections", file):
        if not isinstance(elem.tag, str):
            continue
        kind = _local(elem.tag)
        if kind not in ELEMENT_TYPES:
            raise GasLibError(f"{file}: unsupported element type {_describe(elem)}; expected one "
                              f"of {', '.join(ELEMENT_TYPES)}")
        for attr in ("id", "from", "to"):
            if not elem.get(attr):
                raise GasLibError(f"{file}: {_describe(elem)} has no {attr!r} attribute")
        kids = _children(elem)
        for tag in _REQUIRED.get(kind, ()):
            if tag not in kids:
                raise GasLibError(f"{file}: {_describe(elem)} has no <{tag}>")
        row = {"id": elem.get("id"), "from": elem.get("from"), "to": elem.get("to"),
               "carrier": "gas", "kind": kind, "name": elem.get("alias") or elem.get("id")}
        for col, q in _LINK_FIELDS.items():
            row[col] = _value(elem, kids, q, file)
        for attr, col in (("fuelGasVertex", "fuel_gas_node"),
                          ("internalBypassRequired", "internal_bypass_required"),
                          ("gasPreheaterExisting", "gas_preheater"),
                          ("gasCoolerExisting", "gas_cooler")):
            if elem.get(attr) is not None:
                row[col] = elem.get(attr)
        links.append(row)
    if not nodes:
        raise GasLibError(f"{file}: the network has no nodes")
    node_df = pd.DataFrame(nodes)
    link_df = pd.DataFrame(links) if links else pd.DataFrame(
        columns=["id", "from", "to", "carrier", "kind"])
    known = set(node_df["id"])
    for _, row in link_df.iterrows():
        for end in ("from", "to"):
            if row[end] not in known:
                raise GasLibError(f"{file}: <{row['kind']} id={row['id']!r}> refers to unknown "
                                  f"node {row[end]!r} ({end})")
    return node_df, link_df, info


def read_scenario(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Nominations of a GasLib .scn file: one row per node (flow in 1000 m3/h, bar absolute)."""
    path = Path(path)
    file = path.name
    root = _parse(path)
    if _local(root.tag) != "boundaryValue":
        raise GasLibError(f"{file}: root element is <{_local(root.tag)}>, expected "
                          "<boundaryValue>")
    scenarios = [c for c in root if isinstance(c.tag, str) and _local(c.tag) == "scenario"]
    if not scenarios:
        raise GasLibError(f"{file}: no <scenario> element")
    scenario = scenarios[0]
    info = {"file": file, "scenario": scenario.get("id", "")}
    rows, ranged = [], []
    for node in scenario:
        if not isinstance(node.tag, str) or _local(node.tag) != "node":
            continue
        where = f"{file}: {_describe(node)}"
        ntype = node.get("type")
        if ntype not in ("entry", "exit"):
            raise GasLibError(f"{where}: type {ntype!r} is not 'entry' or 'exit'")
        row = {"node": node.get("id"), "type": ntype, "flow_lower": math.nan,
               "flow_upper": math.nan, "pressure_min_bar": math.nan,
               "pressure_max_bar": math.nan}
        for child in node:
            if not isinstance(child.tag, str):
                continue
            tag, bound = _local(child.tag), child.get("bound", "both")
            value = _number(child.get("value"), f"{where}, <{tag}>")
            if tag == "flow":
                value = _convert(value, child.get("unit"), _M3H, f"{where}, <flow>") * 1e-3
                if bound in ("lower", "both"):
                    row["flow_lower"] = value
                if bound in ("upper", "both"):
                    row["flow_upper"] = value
            elif tag == "pressure":
                value = _convert(value, child.get("unit"), "bar", f"{where}, <pressure>")
                if bound in ("lower", "both"):
                    row["pressure_min_bar"] = value
                if bound in ("upper", "both"):
                    row["pressure_max_bar"] = value
            elif tag == "contractPressureMax":
                row["contract_pressure_max_bar"] = _convert(
                    value, child.get("unit"), "bar", f"{where}, <contractPressureMax>")
        lo, hi = row["flow_lower"], row["flow_upper"]
        if math.isnan(lo) and math.isnan(hi):
            raise GasLibError(f"{where} has no <flow> nomination")
        lo = hi if math.isnan(lo) else lo
        hi = lo if math.isnan(hi) else hi
        if lo < 0 or hi < lo:
            raise GasLibError(f"{where}: flow bounds [{lo}, {hi}] are not a valid nomination")
        if hi > lo:
            ranged.append(row["node"])
        row["flow"] = 0.5 * (lo + hi)
        rows.append(row)
    if ranged:
        info["ranged_nominations"] = ranged
    return pd.DataFrame(rows), info


def read_compressor_stations(path: str | Path) -> pd.DataFrame:
    """Summary of a GasLib .cs file per station: machines, drives and configurations."""
    path = Path(path)
    file = path.name
    root = _parse(path)
    if _local(root.tag) != "compressorStations":
        raise GasLibError(f"{file}: root element is <{_local(root.tag)}>, expected "
                          "<compressorStations>")
    rows = []
    for station in root:
        if not isinstance(station.tag, str) or _local(station.tag) != "compressorStation":
            continue
        if not station.get("id"):
            raise GasLibError(f"{file}: a <compressorStation> has no id")
        kids = _children(station)
        machines = [m for sec in kids.get("compressors", []) for m in sec
                    if isinstance(m.tag, str)]
        drives = [d for sec in kids.get("drives", []) for d in sec if isinstance(d.tag, str)]
        confs = [c for sec in kids.get("configurations", []) for c in sec
                 if isinstance(c.tag, str)]
        types = sorted({_local(m.tag) for m in machines})
        for m in machines:
            if _local(m.tag) not in ("turboCompressor", "pistonCompressor"):
                raise GasLibError(f"{file}: station {station.get('id')!r}: unsupported "
                                  f"compressor type {_describe(m)}")
        rows.append({"id": station.get("id"), "cs_machines": len(machines),
                     "cs_machine_types": " ".join(types),
                     "cs_drives": " ".join(sorted({_local(d.tag) for d in drives})),
                     "cs_configurations": len(confs)})
    return pd.DataFrame(rows, columns=["id", "cs_machines", "cs_machine_types", "cs_drives",
                                       "cs_configurations"])


def _merge_nominations(nodes: pd.DataFrame, noms: pd.DataFrame, file: str
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Supplies (entries) and demands (exits) from nominations; scenario pressure bounds."""
    kinds = nodes.set_index("id")["kind"]
    unknown = noms.loc[~noms["node"].isin(kinds.index), "node"].tolist()
    if unknown:
        raise GasLibError(f"{file}: nomination for unknown node(s) {', '.join(unknown[:5])}")
    expect = {"entry": "source", "exit": "sink"}
    bad = [n for n, t in zip(noms["node"], noms["type"], strict=True)
           if kinds[n] != expect[t]]
    if bad:
        raise GasLibError(f"{file}: node(s) {', '.join(bad[:5])} are nominated as the wrong type "
                          "(an entry must be a source, an exit a sink)")
    entries, exits = noms[noms["type"] == "entry"], noms[noms["type"] == "exit"]
    supplies = pd.DataFrame({"id": entries["node"], "node": entries["node"],
                             "capacity": entries["flow"], "unit": FLOW_UNIT,
                             "source": "GasLib nomination"})
    demands = pd.DataFrame({"id": exits["node"], "node": exits["node"],
                            "amount": exits["flow"], "unit": FLOW_UNIT,
                            "source": "GasLib nomination"})
    return supplies, demands


def read_gaslib(net_file: str | Path, scenario: str | Path | None = None,
                compressors: str | Path | None = None) -> Network:
    """A checked Network from a GasLib .net file and optional .scn and .cs files.

    Node pressure bounds are the .net bounds tightened by the scenario's (both absolute bar);
    the scenario's nominations become supplies (entries) and demands (exits) in 1000 m3/h.
    """
    net_file = Path(net_file)
    nodes, links, info = read_net(net_file)
    supplies = pd.DataFrame(columns=["id", "node", "capacity", "unit"])
    demands = pd.DataFrame(columns=["id", "node", "amount", "unit"])
    scen_info: dict = {}
    if scenario is not None:
        noms, scen_info = read_scenario(scenario)
        supplies, demands = _merge_nominations(nodes, noms, Path(scenario).name)
        bounds = noms.set_index("node")
        lo = bounds["pressure_min_bar"].reindex(nodes["id"]).to_numpy()
        hi = bounds["pressure_max_bar"].reindex(nodes["id"]).to_numpy()
        nodes["nomination_pressure_min_bar"] = lo
        nodes["nomination_pressure_max_bar"] = hi
        nodes["pressure_min_bar"] = nodes["pressure_min_bar"].where(
            ~(lo > nodes["pressure_min_bar"]), lo)
        nodes["pressure_max_bar"] = nodes["pressure_max_bar"].where(
            ~(hi < nodes["pressure_max_bar"]), hi)
        if "contract_pressure_max_bar" in bounds:
            nodes["contract_pressure_max_bar"] = (
                bounds["contract_pressure_max_bar"].reindex(nodes["id"]).to_numpy())
        if scen_info.get("ranged_nominations"):
            warnings.warn(f"{Path(scenario).name}: nominations with a flow range use its middle: "
                          f"{', '.join(scen_info['ranged_nominations'][:5])}", stacklevel=2)
    if compressors is not None:
        stations = read_compressor_stations(compressors)
        cs_ids = set(links.loc[links["kind"] == "compressorStation", "id"])
        missing = sorted(set(stations["id"]) - cs_ids)
        if missing:
            raise GasLibError(f"{Path(compressors).name}: compressor station(s) "
                              f"{', '.join(missing)} are not in {net_file.name}")
        links = links.merge(stations, on="id", how="left")
    flow_max = links["flow_max"].fillna(math.inf) if "flow_max" in links else math.inf
    flow_min = links["flow_min"].fillna(-math.inf) if "flow_min" in links else -math.inf
    links["capacity"] = pd.Series(flow_max, index=links.index).clip(lower=0.0)
    links["reverse_capacity"] = (-pd.Series(flow_min, index=links.index)).clip(lower=0.0) + 0.0
    big = 1e9  # GasLib marks "unbounded" by omission; Corridor capacities must be numbers
    links["capacity"] = links["capacity"].replace(math.inf, big)
    links["reverse_capacity"] = links["reverse_capacity"].replace(math.inf, big)
    links["unit"] = FLOW_UNIT
    links["diameter_mm"] = links["diameter_mm"].map(lambda v: "" if pd.isna(v) else f"{v:g}")
    meta = NetworkMeta(
        name=net_file.stem, description=info.get("documentation", ""),
        gaslib={"net": net_file.name, "scenario": scen_info.get("scenario"),
                "scenario_file": scen_info.get("file"),
                "compressor_file": Path(compressors).name if compressors else None,
                "flow_unit": FLOW_UNIT, "normal_conditions": "273.15 K, 1.01325 bar",
                "pressure": "bar absolute"})
    raw = {"nodes": nodes, "links": links, "supplies": supplies, "demands": demands}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*no supply can reach.*")
        return build_network(raw, profiles=None, meta=meta, origin=str(net_file))
