"""N-1 (EU Regulation 2017/1938, Annex II) on hand-computed networks, the peak-day disruption
simulation in its two modes, and `corridor security`."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from corridor.cli import app
from corridor.coalitions.game import GameError
from corridor.coalitions.security import n_minus_one, peak_day, simulate
from corridor.network import NetworkMeta

from builders import gas_network, monthly_profile

WINTER = monthly_profile("winter", [2, 1.5, 1, 1, 0.5, 0.5, 0.5, 0.5, 1, 1, 1.5, 2])


def two_entry_network(security=None):
    """Country C1 (nodes a1, b1): entries L1 + L2 (parallel, 10 + 5) from C2 and L3's reverse
    capacity 4 from C3; production 12; storage withdrawal 6; demand 10 peaking at x2. Imports
    (0.5/mcm) are cheapest, then storage (0.9), then C1's own field (1.0), so on the peak day
    L1 + L2 carry 15 to C1 and the storage 5."""
    net = gas_network(
        ["a1", "b1", "c2", "d3"],
        [("L1", "c2", "a1", 10, 0.0), ("L2", "c2", "a1", 5, 0.0),
         ("L3", "a1", "d3", 8, 0.0, 0.0, 4), ("L4", "a1", "b1", 50, 0.0)],
        supplies=[("S1", "b1", 12, 1.0), ("S2", "c2", 40, 0.5)],
        demands=[("D1", "b1", 10, 500.0, "winter")],
        storages=[("K1", "b1", 900, 6, 0.5, float("nan"), 0.9)],
        profiles=WINTER)
    if security is not None:
        net = net.replace(meta=NetworkMeta(name="test", security=security))
    return net


def test_n1_terms_by_hand():
    n1 = n_minus_one(two_entry_network())
    assert list(n1.index) == ["C1"]  # the only country with domestic demand
    row = n1.loc["C1"]
    assert (row["EP"], row["P"], row["S"], row["LNG"]) == pytest.approx((19.0, 12.0, 6.0, 0.0))
    # the largest is L4, the internal line every import needs (without it EP is 0), ahead of
    # the parallel entries L1 + L2 (one infrastructure; without them EP falls to 4)
    assert row["I_infrastructure"] == "L4" and row["I_carried"] == pytest.approx(15.0)
    assert row["I"] == pytest.approx(19.0)
    assert row["D_max"] == 20.0 and row["D_max_basis"] == "profile peak"
    assert row["N-1"] == pytest.approx(100 * (19 + 12 + 6 + 0 - 19) / 20, abs=1e-9)
    without_l4 = two_entry_network()
    without_l4 = without_l4.replace(links=without_l4.links.drop(index="L4"))
    row = n_minus_one(without_l4).loc["C1"]  # the entries at a1 cannot reach the demand at b1
    assert row["EP"] == 0.0
    assert row["EP_nameplate"] == 19.0 and row["transit"] == pytest.approx(0.0)


def test_d_max_given_in_the_network_replaces_the_profile_peak():
    """A 1-in-20 figure in network.yaml `security` is D_max (any gas rate unit), and the peak
    day's demand is scaled to it; without it the profile peak is used and said so."""
    given = two_entry_network({"C1": {"d_max": 9.125, "unit": "bcm/yr", "source": "TEST_KEY"}})
    row = n_minus_one(given).loc["C1"]
    assert row["D_max"] == pytest.approx(25.0) and "TEST_KEY" in row["D_max_basis"]
    assert peak_day(given).demands.at["D1", "amount"] == pytest.approx(25.0)
    # EP, P, S can each serve at most the 25 now; L4's loss still takes EP to 0
    assert row["N-1"] == pytest.approx(100 * (19 + 12 + 6 - 19) / 25, abs=1e-9)
    assert n_minus_one(two_entry_network()).loc["C1", "D_max"] == 20.0


def test_a_peak_day_figure_for_an_unknown_country_is_an_error(tmp_path):
    from corridor.io import read_network
    from corridor.validation import NetworkError

    net = two_entry_network()
    folder = tmp_path / "net"
    from corridor.io import write_network

    write_network(net, folder)
    (folder / "network.yaml").write_text(
        "name: test\nsecurity:\n  XX: {d_max: 5, unit: mcm/d, source: S}\n", encoding="utf-8")
    with pytest.raises(NetworkError, match="security.*XX"):
        read_network(folder)
    (folder / "network.yaml").write_text(
        "name: test\nsecurity:\n  C1: {d_max: 5, unit: Mt/yr, source: S}\n", encoding="utf-8")
    with pytest.raises(NetworkError, match="security"):
        read_network(folder)


def transit_country():
    """Country C1 lies on a transit pipe from C2 to C3: T1 (c2 -> a1, 100) and T2 (a1 -> b3,
    100) carry 60 for C3's demand. C1's demand (10) sits at d1 and is served by its own field
    F (12, cheaper than the imports); a spur SP (a1 -> d1, 3) could take some transit gas."""
    return gas_network(
        ["c2", "a1", "d1", "b3"],
        [("T1", "c2", "a1", 100, 0.0), ("T2", "a1", "b3", 100, 0.0), ("SP", "a1", "d1", 3, 0.0)],
        supplies=[("S2", "c2", 200, 2.0), ("F", "d1", 12, 1.0)],
        demands=[("D1", "d1", 10, 500.0), ("D3", "b3", 60, 500.0)])


def test_transit_capacity_is_not_entry_capacity():
    n1 = n_minus_one(transit_country(), ["C1"])
    row = n1.loc["C1"]
    # the 60 on T1 are transit (foreign gas for C3): T1 keeps 40 for C1, but only the spur's 3
    # reach C1's demand; at nameplate EP would be 100
    assert row["transit"] == pytest.approx(60.0) and row["EP_nameplate"] == 100.0
    assert row["EP"] == pytest.approx(3.0) and row["P"] == pytest.approx(10.0)
    # the field carries all of C1's gas: it is the largest infrastructure; without it P is 0
    assert row["I_infrastructure"] == "F" and row["I"] == pytest.approx(10.0)
    assert row["N-1"] == pytest.approx(100 * (3 + 10 - 10) / 10)  # nameplate: (100+12-100)/10


def raw_gas_country(local: float):
    """Country C1's raw-gas field R (20) at r1 can only send its gas abroad, to a processing
    plant in C2 (export demand P2); C1's demand D1 (8) at e1 is served over entry E (10) from
    C3; `local` is a demand at the field itself (0 for none)."""
    demands = [("D1", "e1", 8, 500.0), ("P2", "p2", 20, 100.0)]
    if local:
        demands.append(("DL", "r1", local, 500.0))
    net = gas_network(
        ["r1", "e1", "p2", "y3"], [("RAW", "r1", "p2", 20, 0.0), ("E", "y3", "e1", 10, 0.0)],
        supplies=[("R", "r1", 20, 1.0), ("SY", "y3", 50, 1.0)], demands=demands)
    demands = net.demands.copy()
    demands.loc["P2", "market"] = "export"
    return net.replace(demands=demands)


def test_raw_gas_that_cannot_reach_the_country_is_not_production():
    row = n_minus_one(raw_gas_country(0.0), ["C1"]).loc["C1"]
    assert row["P"] == 0.0 and row["EP"] == pytest.approx(8.0)  # nameplate P would be 20
    assert row["I_infrastructure"] == "E" and row["N-1"] == pytest.approx(0.0)
    # a demand at the field itself is what the raw gas can serve at home
    local = n_minus_one(raw_gas_country(2.0), ["C1"]).loc["C1"]
    assert local["P"] == pytest.approx(2.0)


def two_entries():
    """C1's demand (15) can come over a big idle entry BIG (100, from a dear supply in C2) or a
    small one SMALL (20, from a cheap one in C3), which carries all of it on the peak day."""
    return gas_network(
        ["a1", "x2", "y3"], [("BIG", "x2", "a1", 100, 0.0), ("SMALL", "y3", "a1", 20, 0.0)],
        supplies=[("SX", "x2", 200, 10.0), ("SY", "y3", 200, 1.0)],
        demands=[("D1", "a1", 15, 500.0)])


def test_the_largest_infrastructure_is_the_one_that_carries_the_gas():
    from corridor.coalitions.security import disruption_cases

    n1 = n_minus_one(two_entries())
    row = n1.loc["C1"]
    assert row["I_infrastructure"] == "SMALL" and row["I_carried"] == pytest.approx(15.0)
    # BIG can take over SMALL's 15: the entry terms lose nothing, N-1 is 100 % (at nameplate
    # it would have been (120 - 100) / 15)
    assert row["I"] == pytest.approx(0.0) and row["N-1"] == pytest.approx(100.0)
    cases = [i.name for i in disruption_cases(two_entries(), n1, top=2)]
    assert cases[0] == "SMALL" and "BIG" not in cases  # BIG carries nothing to C1


def test_n1_of_named_countries_and_unknown_ones():
    net = two_entry_network()
    n1 = n_minus_one(net, ["C1", "C2"])
    assert n1.loc["C2", "D_max"] == 0 and n1["N-1"].isna()["C2"]
    with pytest.raises(GameError, match="XX not a country"):
        n_minus_one(net, ["XX"])


def test_peak_day_turns_storage_into_supply_at_its_rate():
    day = peak_day(two_entry_network())
    assert day.storages.empty and day.supplies.at["K1", "capacity"] == 6.0
    assert day.supplies.at["K1", "status"] == "operating"  # not dropped as "not built"
    assert day.demands.at["D1", "amount"] == 20.0


def neighbours():
    """C1 exports over a 6 mcm/d line to C2, which values gas more; each produces its own."""
    return gas_network(["a1", "b2"], [("L", "a1", "b2", 6, 0.0)],
                       supplies=[("s1", "a1", 10, 1.0), ("s2", "b2", 8, 1.0)],
                       demands=[("dA", "a1", 8, 1000.0), ("dB", "b2", 8, 2000.0)])


def unserved(sim, disruption, mode):
    rows = sim[(sim["disruption"] == disruption) & (sim["mode"] == mode)]
    return rows.set_index("country")["unserved"].round(9).to_dict()


def test_disruption_modes_differ_where_they_should():
    sim = simulate(neighbours())
    assert unserved(sim, "(none)", "cooperative") == {"C1": 0.0, "C2": 0.0}
    # C2 loses its production (its largest infrastructure): at least cost the 6 mcm/d line
    # carries C1's gas to C2, who values it more; with own demand first C1 keeps what it needs
    assert unserved(sim, "s2", "cooperative") == {"C1": 4.0, "C2": 2.0}
    assert unserved(sim, "s2", "own demand first") == {"C1": 0.0, "C2": 6.0}
    assert unserved(sim, "s1", "own demand first") == {"C1": 8.0, "C2": 0.0}
    n1 = n_minus_one(neighbours())
    assert n1.loc["C2", "N-1"] == pytest.approx(100 * (6 + 8 - 8) / 8)


def test_cli_security_prints_every_term(runner):
    result = runner.invoke(app, ["security"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    for word in ("N-1", "EP", "LNG", "D_max", "KZ", "UZ", "KG", "cooperative", "own demand first"):
        assert word in text


def test_cli_security_json(runner):
    result = runner.invoke(app, ["security", "--json", "--top", "1"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc["n_minus_one"]) == {"KG", "KZ", "UZ"}
    assert {"EP", "P", "S", "LNG", "I", "D_max", "N-1"} <= set(doc["n_minus_one"]["UZ"])
    assert {r["mode"] for r in doc["disruptions"]} == {"cooperative", "own demand first"}


def test_cli_security_unknown_country(runner):
    result = runner.invoke(app, ["security", "--countries", "KZ,XX"])
    assert result.exit_code == 2 and "XX not a country" in result.stderr


def test_a_proposed_supply_is_not_entry_capacity(tiny_dir):
    """N-1 counts what exists on the day: a proposed field (only a plan may build it) adds
    nothing to a country's production term."""
    from corridor.coalitions.security import n_minus_one
    from corridor.io import read_network

    net = read_network(tiny_dir)
    extra = net.supplies.iloc[[0]].assign(status="proposed", capacity=100.0,
                                          capex=1e9).rename(index=lambda _: "NEW_FIELD")
    proposed = net.replace(supplies=pd.concat([net.supplies, extra]))
    country = extra["country"].iloc[0]
    assert n_minus_one(proposed, [country]).equals(n_minus_one(net, [country]))


def test_bundled_network_n1_counts_no_transit_and_tests_what_carries_gas(capsys):
    """On the bundled network Kazakhstan's N-1 no longer counts the CAGP's Chinese transit or
    the idle CAC strings as entry capacity (it was about 700 % at nameplate), D_max is the
    network's 1-in-20 figure, and the infrastructures tested are those that carry gas to the
    countries: the CAGP (G09 and its chain), the Tengiz gas plant, Beineu-Bozoi-Shymkent."""
    from corridor.coalitions.security import disruption_cases, gas_network, infrastructures
    from corridor.data import resolve
    from corridor.io import read_network

    net = read_network(resolve("central-asia"))
    n1 = n_minus_one(net)
    with capsys.disabled():
        print("\n" + n1.round(1).drop(columns="D_max_basis").to_string())
    kz = n1.loc["KZ"]
    gas = gas_network(net)
    nameplate = {i.kind: 0.0 for i in infrastructures(gas, "KZ")}
    for i in infrastructures(gas, "KZ"):
        nameplate[i.kind] += i.capacity
    old = 100 * (sum(nameplate.values()) - max(i.capacity for i in infrastructures(gas, "KZ"))) \
        / kz["D_max"]
    with capsys.disabled():
        print(f"KZ N-1 at nameplate (old method, same D_max): {old:.0f} %; now {kz['N-1']:.0f} %")
    assert kz["transit"] > 20.0  # mcm/d of foreign gas for China crossing on KZ's entries
    assert kz["EP"] < kz["EP_nameplate"] / 3
    assert 0 < kz["N-1"] < old / 2 and kz["N-1"] < 300
    assert kz["D_max_basis"].startswith("network.yaml security")
    kz_gas = net.demands.query("country == 'KZ' and market == 'domestic' and carrier == 'gas'")
    assert kz["D_max"] > kz_gas[
        "amount"].sum() * 1.3  # a 1-in-20 day, well above the mean day
    assert kz["I_carried"] > 0 and kz["I_infrastructure"] not in ("G03", "G05", "G06")
    cases = {i.name for i in disruption_cases(net, n1)}
    with capsys.disabled():
        print("tested:", ", ".join(sorted(cases)))
    assert cases & {"G09", "G10+G11", "G12+G13"}  # the CAGP into southern Kazakhstan
    assert cases & {"G18", "G19", "G20", "UGS_BOZOI"}  # Beineu-Bozoi-Shymkent (and its storage)
    assert "S_KZ_TENGIZ_GAS" in cases
