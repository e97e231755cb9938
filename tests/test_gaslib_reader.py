"""The GasLib reader: published files as they are, mixed units, and clear errors naming elements."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from corridor.io.gaslib import GasLibError, read_gaslib, read_net, read_scenario

GASLIB = Path(__file__).parent / "data" / "gaslib"


def instance(n: int | str) -> tuple[Path, Path, Path]:
    folder = GASLIB / f"GasLib-{n}"
    return folder / f"GasLib-{n}.net", folder / f"GasLib-{n}.scn", folder / f"GasLib-{n}.cs"


@pytest.mark.parametrize(("n", "nodes", "kinds"), [
    (11, 11, {"pipe": 8, "valve": 1, "compressorStation": 2}),
    (24, 24, {"pipe": 19, "resistor": 1, "shortPipe": 1, "compressorStation": 3,
              "controlValve": 1}),
    (40, 40, {"pipe": 39, "compressorStation": 6}),
])
def test_instances_read_with_their_element_kinds(n: int, nodes: int, kinds: dict) -> None:
    net_file, scn, cs = instance(n)
    net = read_gaslib(net_file, scn, cs)
    assert len(net.nodes) == nodes
    assert net.links["kind"].value_counts().to_dict() == kinds
    assert set(net.nodes["carrier"]) == {"gas"}
    assert set(net.nodes["kind"]) == {"source", "sink", "innode"}
    # nominations balance: entries == exits (base unit mcm/d; 1000 m3/h = 0.024 mcm/d)
    assert net.supplies["capacity"].sum() == pytest.approx(net.demands["amount"].sum())
    assert net.meta.gaslib["flow_unit"] == "1000 m3/h"


def test_units_are_converted() -> None:
    net = read_gaslib(*instance(11))
    pipe = net.links.loc["pipe01_entry01_entry03"]
    assert pipe["length_km"] == 55 and pipe["diameter_mm"] == "500" and pipe["roughness_mm"] == 0.1
    # flowMax 1100 x 1000 m3/h in mcm/d, flowMin -1100 as reverse capacity
    assert pipe["capacity"] == pytest.approx(1100 * 0.024)
    assert pipe["reverse_capacity"] == pytest.approx(1100 * 0.024)
    assert net.nodes.loc["entry01", "gas_temperature_k"] == pytest.approx(283.15)  # 10 Celsius
    assert net.supplies.loc["entry01", "capacity"] == pytest.approx(160 * 0.024)
    # GasLib-24: a pipe in metres (10 m) and a diameter in metres (2.1 m), heights without a unit
    net24 = read_gaslib(*instance(24))
    assert net24.links.loc["L04", "length_km"] == pytest.approx(0.01)
    assert net24.links.loc["L04", "diameter_mm"] == "2100"
    assert (net24.nodes["height_m"] == 200.0).all()
    assert net24.links.loc["re01", "drag_factor"] == pytest.approx(5.41, abs=1e-2)


def test_barg_is_gauge_pressure() -> None:
    noms, _ = read_scenario(instance(40)[1])
    row = noms.set_index("node").loc["source_1"]
    assert row["pressure_max_bar"] == pytest.approx(80 + 1.01325)
    assert row["pressure_min_bar"] == pytest.approx(1.01325)
    net = read_gaslib(*instance(40))
    assert net.nodes.loc["source_1", "nomination_pressure_max_bar"] == pytest.approx(81.01325)


def test_582_mixed_bar_and_barg() -> None:
    folder = GASLIB / "GasLib-582"
    noms, info = read_scenario(folder / "nomination_cold_8.scn")
    assert info["scenario"] == "nomination_cold_8"
    assert noms.set_index("node").loc["sink_109", "pressure_min_bar"] == pytest.approx(51.01325)
    net = read_gaslib(folder / "GasLib-582.net", folder / "nomination_cold_8.scn")
    assert len(net.nodes) == 582 and len(net.links) == 609
    counts = net.links["kind"].value_counts().to_dict()
    assert counts == {"pipe": 451, "shortPipe": 96, "valve": 26, "controlValve": 23,
                      "resistor": 8, "compressorStation": 5}


def test_compressor_file_is_attached() -> None:
    net = read_gaslib(*instance(24))
    cs = net.links[net.links["kind"] == "compressorStation"]
    assert (cs["cs_machines"] >= 1).all()
    assert set(cs["cs_machine_types"]) <= {"turboCompressor", "pistonCompressor",
                                           "pistonCompressor turboCompressor"}


NET_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<network xmlns="http://gaslib.zib.de/Gas" xmlns:framework="http://gaslib.zib.de/Framework">
  <framework:nodes>
    <source id="a"><height value="0" unit="m"/><pressureMin unit="bar" value="1"/>
      <pressureMax unit="bar" value="70"/></source>
    <sink id="b"><height value="0" unit="m"/><pressureMin unit="bar" value="1"/>
      <pressureMax unit="bar" value="70"/></sink>
  </framework:nodes>
  <framework:connections>
"""
NET_TAIL = """  </framework:connections>
</network>
"""
PIPE = ('<pipe id="p" from="a" to="b"><length unit="{lu}" value="10"/>'
        '<diameter unit="mm" value="500"/><roughness unit="mm" value="0.1"/></pipe>')


def write_net(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bad.net"
    path.write_text(NET_HEAD + body + NET_TAIL)
    return path


@pytest.mark.parametrize(("body", "message"), [
    ('<turbine id="t1" from="a" to="b"/>', "unsupported element type <turbine id='t1'>"),
    ('<pipe id="p" from="a" to="b"><diameter unit="mm" value="500"/></pipe>',
     "<pipe id='p'> has no <length>"),
    (PIPE.format(lu="kg"), "<pipe id='p'>, <length>: unit 'kg' cannot be read"),
    (PIPE.format(lu="bananas"), "<pipe id='p'>, <length>: unit 'bananas'"),
    (PIPE.format(lu="km").replace('value="10"', 'value="ten"'), "'ten' is not a number"),
    ('<pipe id="p" from="a" to="zz"><length unit="km" value="1"/><diameter unit="mm" '
     'value="500"/><roughness unit="mm" value="0.1"/></pipe>', "unknown node 'zz'"),
    (PIPE.format(lu="km") + "<pipe", "not well-formed XML at line"),
])
def test_bad_xml_names_the_element(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(GasLibError, match="bad.net") as info:
        read_net(write_net(tmp_path, body))
    assert message in str(info.value)


def test_nomination_for_unknown_node(tmp_path: Path) -> None:
    net = write_net(tmp_path, PIPE.format(lu="km"))
    scn = tmp_path / "bad.scn"
    scn.write_text('<boundaryValue xmlns="http://gaslib.zib.de/Gas"><scenario id="s">'
                   '<node type="exit" id="nowhere"><flow bound="both" value="1" '
                   'unit="1000m_cube_per_hour"/></node></scenario></boundaryValue>')
    with pytest.raises(GasLibError, match="bad.scn: nomination for unknown node"):
        read_gaslib(net, scn)


def test_small_network_reads(tmp_path: Path) -> None:
    net = read_gaslib(write_net(tmp_path, PIPE.format(lu="m")))
    assert net.links.loc["p", "length_km"] == pytest.approx(0.01)
    assert np.isnan(net.nodes.loc["a", "gas_temperature_k"])
