"""N-1 (EU Regulation 2017/1938, Annex II) on hand-computed networks, the peak-day disruption
simulation in its two modes, and `corridor security`."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from corridor.cli import app
from corridor.coalitions.game import GameError
from corridor.coalitions.security import n_minus_one, peak_day, simulate

from builders import gas_network, monthly_profile

WINTER = monthly_profile("winter", [2, 1.5, 1, 1, 0.5, 0.5, 0.5, 0.5, 1, 1, 1.5, 2])


def two_entry_network():
    """Country C1 (nodes a1, b1): entries L1 + L2 (parallel, 10 + 5) from C2 and L3's reverse
    capacity 4 from C3; production 12; storage withdrawal 6; demand 10 peaking at x2."""
    return gas_network(
        ["a1", "b1", "c2", "d3"],
        [("L1", "c2", "a1", 10, 0.0), ("L2", "c2", "a1", 5, 0.0),
         ("L3", "a1", "d3", 8, 0.0, 0.0, 4), ("L4", "a1", "b1", 50, 0.0)],
        supplies=[("S1", "b1", 12, 1.0), ("S2", "c2", 40, 1.0)],
        demands=[("D1", "b1", 10, 500.0, "winter")],
        storages=[("K1", "b1", 900, 6, 0.5)],
        profiles=WINTER)


def test_n1_terms_by_hand():
    n1 = n_minus_one(two_entry_network())
    assert list(n1.index) == ["C1"]  # the only country with domestic demand
    row = n1.loc["C1"]
    assert (row["EP"], row["P"], row["S"], row["LNG"]) == (19.0, 12.0, 6.0, 0.0)
    assert row["I"] == 15.0 and row["I_infrastructure"] == "L1+L2"  # parallel lines are one
    assert row["D_max"] == 20.0
    assert row["N-1"] == pytest.approx(100 * (19 + 12 + 6 + 0 - 15) / 20, abs=1e-12)


def test_n1_of_named_countries_and_unknown_ones():
    net = two_entry_network()
    n1 = n_minus_one(net, ["C1", "C2"])
    assert n1.loc["C2", "D_max"] == 0 and n1["N-1"].isna()["C2"]
    with pytest.raises(GameError, match="XX not a country"):
        n_minus_one(net, ["XX"])


def test_peak_day_turns_storage_into_supply_at_its_rate():
    day = peak_day(two_entry_network())
    assert day.storages.empty and day.supplies.at["K1", "capacity"] == 6.0
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
