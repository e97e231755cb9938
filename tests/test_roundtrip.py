"""write_network(read_network(folder)) reads back to an identical Network (floats bit for bit),
in base units."""

from __future__ import annotations

import dataclasses
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.io import read_network, write_network
from corridor.network import Network, NetworkMeta
from corridor.validation import NetworkWarning, build_network

TABLE_NAMES = ("nodes", "links", "supplies", "demands", "storages", "targets", "profiles")


def assert_frames_identical(a: pd.DataFrame, b: pd.DataFrame, obj: str,
                            check_like: bool = False) -> None:
    """Same labels, dtypes and values, floats bit for bit (no tolerance; -0.0 is not 0.0)."""
    pd.testing.assert_frame_equal(a, b, check_exact=True, check_like=check_like, obj=obj)
    b = b.reindex_like(a)
    for col in a.columns[[dt == np.float64 for dt in a.dtypes]]:
        bits_a, bits_b = (f[col].to_numpy().view(np.int64) for f in (a, b))
        assert np.array_equal(bits_a, bits_b), f"{obj}.{col}: float bits differ"


def assert_networks_equal(a: Network, b: Network, check_like: bool = False) -> None:
    for name in TABLE_NAMES:
        assert_frames_identical(getattr(a, name), getattr(b, name), name, check_like=check_like)
    assert a.meta == b.meta


@pytest.fixture
def tiny(tiny_dir: Path) -> Network:
    return read_network(tiny_dir)


def test_tiny_round_trips(tiny: Network, tmp_path: Path) -> None:
    written = write_network(tiny, tmp_path / "out")
    again = read_network(written)
    assert_networks_equal(tiny, again)
    assert again.meta.key_nodes == ["KZ_ASTANA", "UZ_TASHKENT", "RU_NOVOROSSIYSK"]
    assert again.meta.value_of_lost_load == {"gas": 900000.0, "oil": 1200000.0}


def test_second_round_trip_writes_identical_files(tiny: Network, tmp_path: Path) -> None:
    first = write_network(tiny, tmp_path / "one")
    second = write_network(read_network(first), tmp_path / "two")
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert "profiles.csv" in names and "network.yaml" in names
    for name in names:
        assert (first / name).read_text() == (second / name).read_text(), name


def test_written_files_use_base_units(tiny: Network, tmp_path: Path) -> None:
    out = write_network(tiny, tmp_path / "out")
    links = pd.read_csv(out / "links.csv", dtype=str, keep_default_na=False).set_index("id")
    assert links["unit"].to_dict() == {
        "cac_north": "mcm/d", "cac_south": "mcm/d", "bbs": "mcm/d", "saryarka": "mcm/d",
        "uz_trunk": "mcm/d", "cpc": "kt/d", "tengiz_atyrau": "kt/d", "atyrau_aktau": "kt/d"}
    # 20 bcm/yr = 20000 mcm / 365 d; 5 bcm/yr reverse; 72.5 Mt/yr; 400 kb/d at 7.33 bbl/t
    assert float(links.at["cac_north", "capacity"]) == pytest.approx(20000 / 365, rel=1e-12)
    assert float(links.at["cac_north", "reverse_capacity"]) == pytest.approx(5000 / 365)
    assert float(links.at["cpc", "capacity"]) == pytest.approx(72500 / 365, rel=1e-12)
    assert float(links.at["tengiz_atyrau", "capacity"]) == pytest.approx(400 / 7.33, rel=1e-9)
    assert float(links.at["bbs", "capacity"]) == 40.0
    supplies = pd.read_csv(out / "supplies.csv").set_index("id")
    assert supplies["unit"].to_dict() == {"ru_gas": "mcm/d", "uz_gas": "mcm/d",
                                          "tengiz_oil": "kt/d"}
    demands = pd.read_csv(out / "demands.csv").set_index("id")
    assert set(demands["unit"]) == {"mcm/d", "kt/d"}
    assert demands.at["novo_export", "unit"] == "kt/d"
    storages = pd.read_csv(out / "storages.csv").set_index("id")
    assert storages.at["bozoi", "volume_unit"] == "mcm"
    assert storages.at["bozoi", "volume"] == pytest.approx(1500.0)
    assert storages.at["bozoi", "rate_unit"] == "mcm/d"
    targets = pd.read_csv(out / "targets.csv").set_index("id")
    assert targets.at["cpc_min", "unit"] == "kt/d"
    assert targets.at["cpc_min", "minimum"] == pytest.approx(50000 / 365)


def test_unknown_columns_survive(tiny_copy: Path, tmp_path: Path) -> None:
    path = tiny_copy / "nodes.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",operator"]
                              + [f"{line},op{i}" for i, line in enumerate(lines[1:])]) + "\n")
    net = read_network(tiny_copy)
    assert net.nodes.at["KZ_ASTANA", "operator"] == "op3"
    again = read_network(write_network(net, tmp_path / "out"))
    assert_networks_equal(net, again)


def test_in_memory_network_round_trips_with_check_like(tiny: Network, tmp_path: Path) -> None:
    """Row and column order of a hand-built network may change; content may not."""
    raw = {name: getattr(tiny, name).reset_index().iloc[::-1]
           for name in TABLE_NAMES if name != "profiles"}
    profiles = tiny.profiles.reset_index()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        built = build_network(raw, profiles, tiny.meta)
    again = read_network(write_network(built, tmp_path / "out"))
    for name in TABLE_NAMES:
        assert_frames_identical(getattr(tiny, name).sort_index(), getattr(again, name).sort_index(),
                                name, check_like=True)


def test_profile_periods_are_integers(tiny: Network) -> None:
    assert tiny.profiles.index.tolist() == list(range(1, 13))


def test_profile_rows_are_matched_by_period(tiny_copy: Path, tiny: Network) -> None:
    path = tiny_copy / "profiles.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")  # period 12 first
    shuffled = read_network(tiny_copy)
    winter = shuffled.profiles["winter"]
    assert winter.iloc[0] == tiny.profiles["winter"].iloc[0] == 1.5  # January


def test_profile_values_read_back_bit_for_bit(tiny: Network, tmp_path: Path) -> None:
    """Multiples of pi: pandas 2.3's fast parser (pd.to_numeric) reads 6 of the 12 one bit off."""
    values = np.linspace(0, 1.5, 12) * np.pi
    net = dataclasses.replace(tiny, profiles=tiny.profiles.assign(winter=values))
    again = read_network(write_network(net, tmp_path / "out"))
    assert np.array_equal(again.profiles["winter"].to_numpy().view(np.int64),
                          values.view(np.int64))
    assert (tmp_path / "out" / "profiles.csv").read_text().splitlines()[2].split(",")[1] == \
        repr(float(values[1]))  # written as the shortest exact text


# --- random networks built in Python -------------------------------------------------------------

RATE_UNITS = {"gas": ["bcm/yr", "mcm/d", "MWh/d", "tcm/d"], "oil": ["Mt/yr", "kt/d", "kb/d"]}
AMOUNT_UNITS = {"gas": ["bcm", "mcm", "GWh"], "oil": ["Mt", "kt", "mb"]}
STATUSES = ["operating", "proposed", "under_construction"]

amounts = st.floats(0, 1e4, allow_nan=False, allow_infinity=False)
# Free text that CSV must quote: commas, quotes, newlines, non-ASCII. Not blank, not padded
# (the reader strips cells and turns blank text into the column's default).
free_text = st.text(st.sampled_from("ab ,\"'é;\n#Ж1."), min_size=1, max_size=8).filter(
    lambda s: s == s.strip() and s != "")


@st.composite
def raw_networks(draw) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None, NetworkMeta]:
    n_nodes = draw(st.integers(2, 7))
    node_ids = [f"N{i}" for i in range(n_nodes)]
    carriers = draw(st.lists(st.sampled_from(["gas", "oil"]), min_size=n_nodes,
                             max_size=n_nodes))
    nodes = pd.DataFrame({
        "id": node_ids, "carrier": carriers,
        "name": draw(st.lists(free_text, min_size=n_nodes, max_size=n_nodes)),
        "country": draw(st.lists(st.sampled_from(["KZ", "RU", "UZ", ""]), min_size=n_nodes,
                                 max_size=n_nodes)),
        "lat": draw(st.lists(st.one_of(st.just(np.nan), st.floats(-90, 90)), min_size=n_nodes,
                             max_size=n_nodes)),
    })
    with_profiles = draw(st.booleans())
    profile_names = ["p1", "p2"] if with_profiles else []
    profile_ref = st.sampled_from(["", *profile_names])

    pairs = [(a, b) for a in range(n_nodes) for b in range(n_nodes)
             if a != b and carriers[a] == carriers[b]]
    chosen = draw(st.lists(st.sampled_from(pairs), max_size=6)) if pairs else []
    link_rows = []
    for k, (a, b) in enumerate(chosen):
        c = carriers[a]
        link_rows.append({
            "id": f"L{k}", "from": node_ids[a], "to": node_ids[b],
            "capacity": draw(amounts), "unit": draw(st.sampled_from(RATE_UNITS[c])),
            "reverse_capacity": draw(amounts), "tariff": draw(amounts),
            "loss": draw(st.floats(0, 0.99)), "status": draw(st.sampled_from(STATUSES)),
            "owner": draw(free_text), "profile": draw(profile_ref), "note": draw(free_text),
        })
    links = pd.DataFrame(link_rows, columns=["id", "from", "to", "capacity", "unit",
                                             "reverse_capacity", "tariff", "loss", "status",
                                             "owner", "profile", "note"])
    links["note"] = links["note"].astype(str)  # unknown columns are kept as text

    def at_nodes(prefix: str, max_size: int, row) -> pd.DataFrame:
        at = draw(st.lists(st.integers(0, n_nodes - 1), max_size=max_size))
        return pd.DataFrame([{"id": f"{prefix}{k}", "node": node_ids[i], **row(carriers[i])}
                             for k, i in enumerate(at)])

    supplies = at_nodes("S", 3, lambda c: {
        "capacity": draw(amounts), "unit": draw(st.sampled_from(RATE_UNITS[c])),
        "cost": draw(st.floats(-100, 1e5)), "profile": draw(profile_ref)})
    demands = at_nodes("D", 3, lambda c: {
        "amount": draw(amounts), "unit": draw(st.sampled_from(RATE_UNITS[c])),
        "value": draw(st.one_of(st.just(np.nan), amounts)),
        "country": draw(st.sampled_from(["", "CN"])), "profile": draw(profile_ref)})
    storages = at_nodes("T", 2, lambda c: {
        "volume": draw(amounts), "volume_unit": draw(st.sampled_from(AMOUNT_UNITS[c])),
        "rate": draw(amounts), "rate_unit": draw(st.sampled_from(RATE_UNITS[c])),
        "initial": draw(st.floats(0, 1)), "final": draw(st.one_of(st.just(np.nan),
                                                                  st.floats(0, 1)))})
    target_rows = []
    for c in ("gas", "oil"):
        ids = [r["id"] for r in link_rows if carriers[node_ids.index(r["from"])] == c]
        if ids and draw(st.booleans()):
            members = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True))
            target_rows.append({"id": f"T_{c}", "links": " ".join(members),
                                "minimum": draw(amounts),
                                "unit": draw(st.sampled_from(RATE_UNITS[c]))})
    raw = {"nodes": nodes, "links": links,
           "supplies": supplies if len(supplies) else None,
           "demands": demands if len(demands) else None,
           "storages": storages if len(storages) else None,
           "targets": pd.DataFrame(target_rows) if target_rows else None}
    profiles = None
    if with_profiles:
        months = draw(st.integers(0, 1))
        n = (12, 365)[months]
        values = draw(st.lists(st.floats(0, 10), min_size=2, max_size=2))
        profiles = pd.DataFrame({"period": range(1, n + 1),
                                 "p1": np.linspace(0, values[0], n), "p2": values[1]})
    meta = NetworkMeta(name=draw(st.sampled_from(["random", "Сеть"])),
                       base_year=draw(st.one_of(st.none(), st.integers(1990, 2050))),
                       key_nodes=node_ids[:draw(st.integers(0, n_nodes))])
    return raw, profiles, meta


def _fill_optional_tables(raw: dict) -> dict:
    """Demands, supplies and links files are mandatory in a folder; give them empty tables."""
    empty = {"supplies": ["id", "node", "capacity", "unit"],
             "demands": ["id", "node", "amount", "unit"]}
    return {k: (pd.DataFrame(columns=empty[k]) if v is None and k in empty else v)
            for k, v in raw.items()}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_networks())
def test_random_networks_round_trip_exactly(drawn) -> None:
    raw, profiles, meta = drawn
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NetworkWarning)
        net = build_network(_fill_optional_tables(raw), profiles, meta)
        with tempfile.TemporaryDirectory() as tmp:
            again = read_network(write_network(net, Path(tmp) / "net"))
    assert_networks_equal(net, again)
    for name, table in (("links", again.links), ("supplies", again.supplies),
                        ("demands", again.demands)):
        assert set(table["unit"]) <= {"mcm/d", "kt/d"}, name
    assert set(again.storages["volume_unit"]) <= {"mcm", "kt"}
