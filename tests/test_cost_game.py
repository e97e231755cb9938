"""Cost games: Shapley, nucleolus and SCRB cost shares against published and hand-computed values,
and the axioms of each method (hypothesis).

Where each expected number comes from:
- TVA (Tennessee Valley Authority) game of Straffin & Heaney (1981, "Game theory and the Tennessee
  Valley Authority", Int. J. Game Theory 10(1) 35-43), costs from Ransmeier (1942, "The Tennessee
  Valley Authority", Vanderbilt University Press), in thousands of USD. The paper's allocation
  tables were not in the reference library, so every expected share is worked out in the test by
  explicit arithmetic, independently of the module: SCRB from its definition, the Shapley value
  from the six orders in which the purposes can join, the nucleolus from its excesses.
- Young, Okada & Hashimoto (1979, IIASA WP-79-77, "Cost allocation in water resources development
  - a case study of Sweden"; Water Resources Research 18(3) 1982): Table 8 gives each town's
  alternative cost c({i}) and marginal cost c(N) - c(N - i), Table 7 the SCRB shares of 83.82
  million crowns. SCRB needs only those numbers, so it is checked to the tables' rounding (0.01).
  The cost of every other coalition (needed for Shapley and the nucleolus) was not in the library,
  so Table 7's Shapley and nucleolus rows are not tested.
- Airport games (Littlechild & Owen 1973, Management Science 20(3) 370-372): the Shapley value is
  sequential equal sharing of each runway segment; the taxi game (solo fares 6, 12, 42) gives
  2, 5, 35. The nucleolus follows Littlechild's (1974, "A simple expression for the nucleolus in a
  special case", Int. J. Game Theory 3(1) 21-29) rule, restated below.
- R package CoopGame (`costSharingGameVector` help page): flat-sharing costs 300, 270, 280; 410 for
  any two; 550 for three give savings 0, 0, 0, 160, 170, 140, 300.
- R package GameTheoryAllocation (`Shapley_value` help page, game = "cost"): costs 1, 1, 2, 1, 2,
  2, 2 give the Shapley value 1/3, 1/3, 4/3.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.coalitions import CoreCheck, GameError
from corridor.coalitions.cost_game import CostGame

EXACT = 1e-9
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def subsets(players):
    return [frozenset(s) for k in range(1, len(players) + 1)
            for s in itertools.combinations(players, k)]


# -- TVA: Straffin & Heaney (1981) ---------------------------------------------------------------

NAV, FLOOD, POWER = "navigation", "flood control", "power"
C1, C2, C3 = 163_520, 140_826, 250_096
C12, C13, C23 = 301_607, 378_821, 367_370
C123 = 412_584
TVA_COSTS = {frozenset({NAV}): C1, frozenset({FLOOD}): C2, frozenset({POWER}): C3,
             frozenset({NAV, FLOOD}): C12, frozenset({NAV, POWER}): C13,
             frozenset({FLOOD, POWER}): C23, frozenset({NAV, FLOOD, POWER}): C123}


def tva() -> CostGame:
    return CostGame([NAV, FLOOD, POWER], TVA_COSTS)


def test_tva_scrb_by_hand():
    """SC = c(N) - c(N - i); r = c(i) - SC; NSC = c(N) - sum SC; x = SC + NSC r / sum r."""
    sc1, sc2, sc3 = C123 - C23, C123 - C13, C123 - C12  # 45 214, 33 763, 110 977
    nsc = C123 - (sc1 + sc2 + sc3)  # 222 630
    r1, r2, r3 = C1 - sc1, C2 - sc2, C3 - sc3  # 118 306, 107 063, 139 119
    total_r = r1 + r2 + r3  # 364 488
    expected = [sc1 + nsc * r1 / total_r, sc2 + nsc * r2 / total_r, sc3 + nsc * r3 / total_r]
    assert np.allclose(tva().scrb(), expected, rtol=0, atol=EXACT)
    assert np.allclose(expected, [117_475.5416, 99_157.2947, 195_951.1637], atol=1e-4)


def test_tva_shapley_by_hand():
    """Average over the six joining orders of each purpose's extra cost (each order weighs 1/6:
    alone first in two orders, after each other purpose in one, last in two)."""
    phi1 = (2 * C1 + (C12 - C2) + (C13 - C3) + 2 * (C123 - C23)) / 6
    phi2 = (2 * C2 + (C12 - C1) + (C23 - C3) + 2 * (C123 - C13)) / 6
    phi3 = (2 * C3 + (C13 - C1) + (C23 - C2) + 2 * (C123 - C12)) / 6
    assert [phi1, phi2, phi3] == [117_829, 100_756.5, 193_998.5]
    assert np.allclose(tva().shapley(), [phi1, phi2, phi3], rtol=0, atol=EXACT)


def test_tva_nucleolus_by_hand():
    """In savings terms (x_i = c(i) - y_i) a singleton's excess is -x_i and a pair's is
    x_k - (V - v(N - k)), k the purpose left out. Splitting the total savings V equally puts all
    three singletons at -V/3 and every pair below that; no efficient x can raise one x_i without
    lowering another, so the equal split of savings is the nucleolus."""
    savings = C1 + C2 + C3 - C123  # 141 858
    share = savings / 3  # 47 286
    pair_savings = {3: C1 + C2 - C12, 2: C1 + C3 - C13, 1: C2 + C3 - C23}  # 2 739, 34 795, 23 552
    assert all(share - (savings - pair_savings[k]) < -share for k in (1, 2, 3))
    expected = [C1 - share, C2 - share, C3 - share]  # 116 234, 93 540, 202 810
    assert np.allclose(tva().nucleolus(), expected, rtol=0, atol=EXACT)


def test_tva_allocations_table_and_core():
    result = tva().allocations()
    assert list(result.shares.columns) == ["shapley", "nucleolus", "scrb"]
    assert list(result.shares.index) == [NAV, FLOOD, POWER]
    assert np.allclose(result.shares.sum(), C123, rtol=0, atol=EXACT)
    assert result.in_core.to_dict() == {"shapley": True, "nucleolus": True, "scrb": True}
    assert all(isinstance(check, CoreCheck) for check in result.core.values())
    assert tva().is_subadditive() and tva().is_concave()


def test_tva_objecting_coalition():
    """Power pays nothing: navigation + flood control pay 412 584 for what costs them 301 607."""
    check = tva().core_contains({NAV: C123 / 2, FLOOD: C123 / 2, POWER: 0.0})
    assert not check and check.coalition == {NAV, FLOOD}
    assert check.excess == pytest.approx(C123 - C12, abs=EXACT)
    assert "flood control+navigation would pay 110,977 less" in check.describe()


def test_tva_core_check_of_totals():
    uncovered = tva().core_contains([C1 / 2, C2 / 2, C3 / 2])
    assert not uncovered and uncovered.coalition is None
    assert uncovered.shortfall == pytest.approx(C123 - (C1 + C2 + C3) / 2, abs=EXACT)
    overcharged = tva().core_contains([C1, C2, C3])  # everyone pays their solo cost
    assert not overcharged and overcharged.coalition == {NAV, FLOOD, POWER}
    assert overcharged.excess == pytest.approx(C1 + C2 + C3 - C123, abs=EXACT)


def test_tva_scrb_with_alternative_benefits():
    """Navigation's benefit 100 000 caps its remaining benefit: r1 = 100 000 - SC1."""
    sc1, sc2, sc3 = C123 - C23, C123 - C13, C123 - C12
    nsc = C123 - (sc1 + sc2 + sc3)
    r1, r2, r3 = 100_000 - sc1, C2 - sc2, C3 - sc3
    total_r = r1 + r2 + r3
    expected = [sc1 + nsc * r1 / total_r, sc2 + nsc * r2 / total_r, sc3 + nsc * r3 / total_r]
    shares = tva().scrb({NAV: 100_000, FLOOD: 1e9})  # a benefit above c(i) changes nothing
    assert np.allclose(shares, expected, rtol=0, atol=EXACT)
    with pytest.raises(GameError, match="unknown player"):
        tva().scrb({"irrigation": 1.0})


def test_costs_as_mapping_array_or_callable_agree():
    players = [NAV, FLOOD, POWER]
    by_mask = np.zeros(8)
    for coalition, cost in TVA_COSTS.items():
        by_mask[sum(1 << players.index(p) for p in coalition)] = cost
    games = [tva(), CostGame(players, by_mask), CostGame(players, TVA_COSTS.__getitem__)]
    for game in games[1:]:
        pd.testing.assert_frame_equal(game.allocations().shares, games[0].allocations().shares,
                                      rtol=0, atol=EXACT)


# -- Young, Okada & Hashimoto (1979/1982): Swedish towns ---------------------------------------

TOWNS = "AHKLMT"
ALONE = dict(zip(TOWNS, [21.95, 17.08, 10.91, 15.88, 20.81, 21.98], strict=True))  # Table 8
MARGINAL = dict(zip(TOWNS, [17.36, 9.85, 0.82, 6.40, 12.90, 14.06], strict=True))  # Table 8
SCRB_PUBLISHED = [19.54, 13.28, 5.62, 10.90, 16.66, 17.82]  # Table 7
TOTAL = 83.82


def test_swedish_scrb_from_published_tables():
    """Only c({i}), c(N - i) = c(N) - marginal cost and c(N) are known; the cost function refuses
    any other coalition, which also shows SCRB never asks for one."""
    everyone = frozenset(TOWNS)
    asked = []

    def cost(coalition: frozenset) -> float:
        asked.append(coalition)
        if coalition == everyone:
            return TOTAL
        if len(coalition) == 1:
            return ALONE[next(iter(coalition))]
        assert len(coalition) == 5, f"SCRB asked for c({''.join(sorted(coalition))})"
        (left_out,) = everyone - coalition
        return TOTAL - MARGINAL[left_out]

    shares = CostGame(list(TOWNS), cost).scrb()
    assert np.allclose(shares, SCRB_PUBLISHED, rtol=0, atol=0.01)  # inputs rounded to 0.01
    assert shares.sum() == pytest.approx(TOTAL, abs=EXACT)
    assert len(set(asked)) == 2 * len(TOWNS) + 1


# -- other published examples -------------------------------------------------------------------

def test_savings_game_of_coopgame_flat_sharing_example():
    costs = dict(zip(subsets("ABC"), [300, 270, 280, 410, 410, 410, 550], strict=True))
    savings = CostGame("ABC", costs).savings
    assert [savings.value(s) for s in subsets("ABC")] == [0, 0, 0, 160, 170, 140, 300]


def test_gametheoryallocation_shapley_example():
    game = CostGame([1, 2, 3], dict(zip(subsets([1, 2, 3]), [1, 1, 2, 1, 2, 2, 2], strict=True)))
    assert np.allclose(game.shapley(), [1 / 3, 1 / 3, 4 / 3], rtol=0, atol=EXACT)


# -- airport games: Littlechild & Owen (1973), Littlechild (1974) -------------------------------

def airport(runways) -> CostGame:
    """A coalition pays for the runway its largest plane needs."""
    players = list(range(len(runways)))
    return CostGame(players, {s: max(runways[i] for i in s) for s in subsets(players)})


def sequential_equal_split(runways) -> list[Fraction]:
    """Littlechild & Owen (1973): each runway segment is shared equally by the planes that use
    it, so the k-th smallest plane pays sum over j <= k of (c_j - c_{j-1}) / (n - j + 1)."""
    order = sorted(range(len(runways)), key=lambda i: runways[i])
    n, paid, previous, shares = len(runways), Fraction(0), 0, {}
    for rank, i in enumerate(order):
        paid += Fraction(runways[i] - previous, n - rank)
        previous = runways[i]
        shares[i] = paid
    return [shares[i] for i in range(n)]


def littlechild_nucleolus(runways) -> list[Fraction]:
    """Littlechild (1974), restated: sort c_1 <= ... <= c_n. With the first `done` planes paying
    `paid` in total, the next block of planes done+1 .. k (k < n) each pays
    t = min over k of (c_k - paid) / (k - done + 1) (equalising the excess paid + (k - done) t - c_k
    of the coalition {1..k} with the excess -t of N minus a plane of the block); the block ends
    at the largest minimising k. The largest plane pays the rest."""
    order = sorted(range(len(runways)), key=lambda i: runways[i])
    cost = [Fraction(runways[i]) for i in order]
    n, done, paid, pay = len(cost), 0, Fraction(0), [Fraction(0)] * len(cost)
    while done < n - 1:
        candidates = [((cost[k] - paid) / (k - done + 2), k) for k in range(done, n - 1)]
        t = min(c for c, _ in candidates)
        last = max(k for c, k in candidates if c == t)
        for k in range(done, last + 1):
            pay[k] = t
        paid += t * (last + 1 - done)
        done = last + 1
    pay[n - 1] = cost[n - 1] - paid
    shares = dict(zip(order, pay, strict=True))
    return [shares[i] for i in range(n)]


def test_taxi_game():
    game = airport([6, 12, 42])
    assert np.allclose(game.shapley(), [2, 5, 35], rtol=0, atol=EXACT)
    assert littlechild_nucleolus([6, 12, 42]) == [3, Fraction(9, 2), Fraction(69, 2)]
    assert np.allclose(game.nucleolus(), [3, 4.5, 34.5], rtol=0, atol=EXACT)


@SETTINGS
@given(st.lists(st.integers(0, 100), min_size=1, max_size=6))
def test_airport_games_match_closed_forms(runways):
    game = airport(runways)
    assert np.allclose(game.shapley(), [float(x) for x in sequential_equal_split(runways)],
                       rtol=0, atol=EXACT)
    assert np.allclose(game.nucleolus(), [float(x) for x in littlechild_nucleolus(runways)],
                       rtol=0, atol=EXACT)
    assert game.is_concave()
    assert game.core_contains(game.shapley()) and game.core_contains(game.nucleolus())


# -- axioms (hypothesis) ------------------------------------------------------------------------

@st.composite
def cost_games(draw, min_n: int = 2, max_n: int = 5) -> CostGame:
    n = draw(st.integers(min_n, max_n))
    costs = draw(st.lists(st.integers(0, 60), min_size=2**n - 1, max_size=2**n - 1))
    return CostGame(range(n), np.array([0, *costs], dtype=float))


def costs_of(game: CostGame) -> np.ndarray:
    return game.cost.values()


def grand_cost(game: CostGame) -> float:
    return float(costs_of(game)[-1])


def scrb_or_none(game: CostGame):
    """SCRB, or None after checking it was refused exactly when it is undefined."""
    c, n = costs_of(game), game.n
    separable = c[-1] - c[(1 << n) - 1 - (1 << np.arange(n))]
    remaining = c[1 << np.arange(n)] - separable
    undefined = abs(c[-1] - separable.sum()) > 1e-9 and remaining.sum() <= 1e-9
    if undefined:
        with pytest.raises(GameError, match="SCRB is undefined"):
            game.scrb()
        return None
    return game.scrb()


@SETTINGS
@given(cost_games())
def test_every_method_is_efficient(game):
    assert game.shapley().sum() == pytest.approx(grand_cost(game), abs=EXACT)
    shares = scrb_or_none(game)
    if shares is not None:
        assert shares.sum() == pytest.approx(grand_cost(game), abs=EXACT)
    alone = costs_of(game)[1 << np.arange(game.n)]
    if grand_cost(game) <= alone.sum():
        assert game.nucleolus().sum() == pytest.approx(grand_cost(game), abs=EXACT)
        assert (game.nucleolus().to_numpy() <= alone + EXACT).all()  # no one pays above c(i)
    else:
        with pytest.raises(GameError, match="nucleolus is undefined"):
            game.nucleolus()


@SETTINGS
@given(cost_games(), st.data())
def test_symmetric_players_pay_the_same(game, data):
    i, j = data.draw(st.sampled_from(list(itertools.combinations(range(game.n), 2))))
    masks = np.arange(1 << game.n)
    swapped = masks ^ (((masks >> i & 1) ^ (masks >> j & 1)) * ((1 << i) | (1 << j)))
    symmetric = CostGame(range(game.n), costs_of(game) + costs_of(game)[swapped])
    shares = [symmetric.shapley(), scrb_or_none(symmetric)]
    alone = costs_of(symmetric)[1 << np.arange(game.n)]
    if grand_cost(symmetric) <= alone.sum():
        shares.append(symmetric.nucleolus())
    for x in filter(lambda x: x is not None, shares):
        assert x[i] == pytest.approx(x[j], abs=1e-8)


@SETTINGS
@given(cost_games(max_n=4))
def test_null_player_pays_nothing(game):
    masks = np.arange(1 << (game.n + 1))
    with_null = CostGame(range(game.n + 1), costs_of(game)[masks & ((1 << game.n) - 1)])
    assert with_null.shapley()[game.n] == pytest.approx(0.0, abs=EXACT)
    assert np.allclose(with_null.shapley()[:game.n], game.shapley(), rtol=0, atol=EXACT)
    shares = scrb_or_none(with_null)
    if shares is not None:
        assert shares[game.n] == pytest.approx(0.0, abs=EXACT)


@st.composite
def concave_cost_games(draw) -> CostGame:
    """c(S) = g(w(S)) + a(S) with g(t) = 60 t - t^2 concave and increasing on the drawn range,
    w, a >= 0: a concave function of an additive measure is submodular."""
    n = draw(st.integers(2, 5))
    w = np.array(draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)), dtype=float)
    a = np.array(draw(st.lists(st.integers(0, 10), min_size=n, max_size=n)), dtype=float)
    members = ((np.arange(1 << n)[:, None] >> np.arange(n)) & 1).astype(float)
    load = members @ w
    return CostGame(range(n), 60 * load - load**2 + members @ a)


@SETTINGS
@given(concave_cost_games())
def test_concave_games_have_shapley_and_nucleolus_in_core(game):
    """(SCRB is defined here: concavity gives SC_i <= c(i), so every r_i >= 0, and all r_i = 0
    would make c additive, with nothing non-separable to share.)"""
    assert game.is_concave() and game.is_subadditive()
    result = game.allocations()
    assert result.in_core["shapley"] and result.in_core["nucleolus"]
    assert game.core_contains(game.shapley()) and game.core_contains(game.nucleolus())


# -- refusals -----------------------------------------------------------------------------------

def test_superadditive_costs_refuse_nucleolus_and_scrb():
    """Serving both together costs 3 > 1 + 1: no one should join, and SCRB's remaining benefits
    are 1 - (3 - 1) = -1 each, so the -1 of non-separable cost has no key."""
    game = CostGame("ab", {"a": 1, "b": 1, ("a", "b"): 3})
    assert not game.is_subadditive()
    with pytest.raises(GameError, match="nucleolus is undefined"):
        game.nucleolus()
    with pytest.raises(GameError, match="SCRB is undefined"):
        game.scrb()
    assert np.allclose(game.shapley(), [1.5, 1.5], rtol=0, atol=EXACT)


def test_single_player_pays_everything():
    game = CostGame(["only"], [0.0, 7.5])
    assert game.shapley()["only"] == game.nucleolus()["only"] == game.scrb()["only"] == 7.5
