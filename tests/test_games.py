"""TU games against published values, and the axioms of the Shapley value and the nucleolus.

Published cases (all reproduced to 1e-9):
- Taxi game: three riders on one route, solo fares 6, 12, 42; a shared ride costs the longest
  fare. It is an airport game, whose Shapley value is sequential equal sharing of each leg
  (Littlechild & Owen 1973, Management Science 20(3) 370-372): 6/3 = 2, 2 + 6/2 = 5, 5 + 30 = 35.
- Talmud bankruptcy games (Aumann & Maschler 1985, J. Economic Theory 36 195-213): claims 100,
  200, 300; the nucleolus is the Talmud's division: estate 100 -> 33 1/3 each, 200 -> 50, 75, 75,
  300 -> 50, 100, 150.
- Glove game, one left glove (player 0) and two right gloves (Maschler, Solan & Zamir 2013,
  Game Theory, ch. 17-18): Shapley 2/3, 1/6, 1/6; the core is {(1, 0, 0)}, hence the nucleolus.
- UN Security Council after 1965: 5 permanent members with veto and 10 others, 9 votes to pass
  (Shapley & Shubik 1954, APSR 48(3) 787-792, for the method): Shapley-Shubik index 421/2145 for
  each permanent member and 4/2145 for each other member.
- The four-player example of the R package CoopGame (Staudacher & Anwander, `nucleolus` help page):
  nucleolus 3.5, 4.5, 5.5, 7.5.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from corridor.coalitions import GameError, TUGame
from corridor.coalitions.game import gray_order, popcount

EXACT = 1e-9
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def subsets(n: int):
    return [frozenset(s) for k in range(1, n + 1) for s in itertools.combinations(range(n), k)]


def bankruptcy(estate: float, claims) -> TUGame:
    """v(S) = what is left for S after everyone else's claims are paid in full."""
    n = len(claims)
    return TUGame(range(n), {s: max(0.0, estate - sum(claims[j] for j in range(n) if j not in s))
                             for s in subsets(n)})


def airport(costs) -> TUGame:
    """A coalition pays for the runway its largest plane needs."""
    return TUGame(range(len(costs)), {s: max(costs[i] for i in s) for s in subsets(len(costs))})


# -- published values ---------------------------------------------------------------------------

def test_taxi_game_shapley():
    assert np.allclose(airport([6, 12, 42]).shapley(), [2, 5, 35], rtol=0, atol=EXACT)


@pytest.mark.parametrize("estate, expected", [
    (100, [100 / 3, 100 / 3, 100 / 3]), (200, [50, 75, 75]), (300, [50, 100, 150])])
def test_talmud_nucleolus(estate, expected):
    game = bankruptcy(estate, [100, 200, 300])
    assert np.allclose(game.nucleolus(), expected, rtol=0, atol=EXACT)
    assert np.allclose(game.prenucleolus(), expected, rtol=0, atol=EXACT)
    assert game.kohlberg(game.nucleolus())


def test_glove_game():
    game = TUGame(["L", "R1", "R2"], {s: min(int("L" in s), len(s - {"L"}))
                                      for s in map(frozenset, itertools.chain.from_iterable(
                                          itertools.combinations(["L", "R1", "R2"], k)
                                          for k in (1, 2, 3)))})
    assert np.allclose(game.shapley(), [2 / 3, 1 / 6, 1 / 6], rtol=0, atol=EXACT)
    assert np.allclose(game.nucleolus(), [1, 0, 0], rtol=0, atol=EXACT)
    check = game.core_contains(game.shapley())
    assert not check and check.coalition in ({"L", "R1"}, {"L", "R2"})
    assert check.excess == pytest.approx(1 / 6, abs=EXACT)
    assert game.core_contains([1, 0, 0])
    assert game.is_superadditive() and not game.is_convex()


def test_security_council_shapley_shubik():
    n = 15
    masks = np.arange(1 << n)
    wins = ((masks & 0b11111) == 0b11111) & (popcount(masks) >= 9)
    phi = TUGame(range(n), wins.astype(float)).shapley()
    assert np.allclose(phi[:5], 421 / 2145, rtol=0, atol=EXACT)
    assert np.allclose(phi[5:], 4 / 2145, rtol=0, atol=EXACT)


def test_coopgame_four_player_nucleolus():
    values = [0, 0, 0, 0, 5, 5, 8, 9, 10, 8, 13, 15, 16, 17, 21]  # CoopGame's coalition order
    game = TUGame(range(4), dict(zip(subsets(4), values, strict=True)))
    assert np.allclose(game.nucleolus(), [3.5, 4.5, 5.5, 7.5], rtol=0, atol=EXACT)


def test_airport_game_is_sequential_sharing():
    costs = [3.0, 5.0, 5.0, 11.0, 20.0]
    legs = np.diff([0.0, *costs]) / (len(costs) - np.arange(len(costs)))
    assert np.allclose(airport(costs).shapley(), np.cumsum(legs), rtol=0, atol=EXACT)


# -- axioms (hypothesis) ------------------------------------------------------------------------

@st.composite
def games(draw, min_n: int = 2, max_n: int = 5):
    n = draw(st.integers(min_n, max_n))
    v = np.array([0] + draw(st.lists(st.integers(-20, 60), min_size=2**n - 1,
                                     max_size=2**n - 1)), dtype=float)
    return TUGame(range(n), v)


@SETTINGS
@given(games())
def test_shapley_efficiency(game):
    assert game.shapley().sum() == pytest.approx(game.values()[-1], abs=1e-9)


@SETTINGS
@given(games(), st.data())
def test_shapley_symmetry(game, data):
    i, j = data.draw(st.sampled_from(list(itertools.combinations(range(game.n), 2))))
    masks = np.arange(1 << game.n)
    swapped = masks ^ (((masks >> i & 1) ^ (masks >> j & 1)) * ((1 << i) | (1 << j)))
    symmetric = TUGame(range(game.n), game.values() + game.values()[swapped])
    phi = symmetric.shapley()
    assert phi[i] == pytest.approx(phi[j], abs=1e-9)


@SETTINGS
@given(games(max_n=4))
def test_shapley_null_player(game):
    masks = np.arange(1 << (game.n + 1))
    with_null = TUGame(range(game.n + 1), game.values()[masks & game.grand])
    phi = with_null.shapley()
    assert phi[game.n] == pytest.approx(0.0, abs=1e-9)
    assert np.allclose(phi[:game.n], game.shapley(), atol=1e-9)


@SETTINGS
@given(games(), st.data())
def test_shapley_additivity(game, data):
    other = data.draw(st.lists(st.integers(-20, 60), min_size=2**game.n - 1,
                               max_size=2**game.n - 1))
    w = np.array([0.0, *other])
    total = TUGame(range(game.n), game.values() + w).shapley()
    assert np.allclose(total, game.shapley() + TUGame(range(game.n), w).shapley(), atol=1e-9)


@st.composite
def balanced_games(draw):
    """Convex games (v = (sum of weights)^2 plus an additive part) have a non-empty core."""
    n = draw(st.integers(2, 5))
    w = np.array(draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)), dtype=float)
    a = np.array(draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n)), dtype=float)
    members = ((np.arange(1 << n)[:, None] >> np.arange(n)) & 1).astype(float)
    return TUGame(range(n), (members @ w) ** 2 + members @ a)


def has_imputations(game: TUGame) -> bool:
    """The imputation set is not empty: the players' solo values add up to at most v(N)."""
    return game.values()[1 << np.arange(game.n)].sum() <= game.values()[-1]


@st.composite
def games_with_imputations(draw, max_n: int = 4):
    """Random games whose v(N) is raised, where needed, to at least the sum of the solo values
    (plus a drawn surplus), so the imputation set is never empty and no draw is thrown away."""
    game = draw(games(max_n=max_n))
    v = game.values().copy()
    v[-1] = max(v[-1], v[1 << np.arange(game.n)].sum() + draw(st.integers(0, 20)))
    return TUGame(range(game.n), v)


@SETTINGS
@given(games(max_n=4))
def test_nucleolus_refused_without_imputations(game):
    assume(not has_imputations(game))
    with pytest.raises(GameError, match="imputation set is empty"):
        game.nucleolus()


@SETTINGS
@given(st.one_of(balanced_games(), games_with_imputations()))
def test_nucleolus_in_core_when_core_not_empty(game):
    assert has_imputations(game)
    eps, _ = game.least_core()
    singles = game.values()[1 << np.arange(game.n)]
    x = game.nucleolus()
    assert x.sum() == pytest.approx(game.values()[-1], abs=1e-9)
    assert (x.to_numpy() >= singles - 1e-9).all()
    if eps <= 1e-9:
        assert game.core_contains(x)
        assert np.allclose(x, game.prenucleolus(), atol=1e-7)  # equal when the core is non-empty


@SETTINGS
@given(st.one_of(balanced_games(), games(max_n=4)))
def test_kohlberg_criterion_holds_for_computed_prenucleolus(game):
    x = game.prenucleolus()
    assert game.kohlberg(x, imputations=False)
    moved = x.to_numpy() + 0.5 * (np.arange(game.n) == 0) - 0.5 * (np.arange(game.n) == 1)
    assert not game.kohlberg(moved, imputations=False)  # the prenucleolus is unique


@SETTINGS
@given(games_with_imputations())
def test_kohlberg_criterion_holds_for_computed_nucleolus(game):
    assert has_imputations(game)
    assert game.kohlberg(game.nucleolus(), imputations=True)


def test_convex_game_has_shapley_in_core():
    game = TUGame("abcd", {s: len(s) ** 2 for s in map(frozenset, itertools.chain.from_iterable(
        itertools.combinations("abcd", k) for k in range(1, 5)))})
    assert game.is_convex() and game.is_superadditive()
    assert game.core_contains(game.shapley())


def test_not_superadditive_names_the_pair():
    game = TUGame([0, 1], {frozenset({0}): 3, frozenset({1}): 2, frozenset({0, 1}): 4})
    assert game.superadditivity_violation() == (frozenset({0}), frozenset({1}))


def test_best_partition_into_pairs():
    v = {s: {1: 1.0, 2: 5.0 if s in ({0, 1}, {2, 3}) else 1.5}.get(len(s), 11.0)
         for s in subsets(4)}
    value, parts = TUGame(range(4), v).best_partition(2)
    assert value == 10.0 and sorted(map(sorted, parts)) == [[0, 1], [2, 3]]


def test_gray_order_visits_every_coalition_one_step_at_a_time():
    order = gray_order(6)
    assert sorted(order) == list(range(64))
    assert (popcount(order[1:] ^ order[:-1]) == 1).all()


# -- sampling -----------------------------------------------------------------------------------

def ten_player_game() -> TUGame:
    rng = np.random.default_rng(7)
    members = ((np.arange(1 << 10)[:, None] >> np.arange(10)) & 1).astype(float)
    v = (members @ rng.uniform(1, 5, 10)) ** 1.5 + rng.normal(0, 2, 1 << 10) * (members.sum(1) > 0)
    v[0] = 0.0
    return TUGame(range(10), v)


@pytest.mark.parametrize("stratified", [True, False])
def test_sampled_shapley_covers_exact_value(stratified):
    game = ten_player_game()
    exact = game.shapley()
    est = game.shapley_sample(samples=300, confidence=0.95, seed=3, stratified=stratified)
    error = (est.value - exact).abs()
    assert (error <= est.half_width).sum() >= 8  # 95 % intervals: most cover
    assert (error <= 2 * est.half_width).all()
    finer = game.shapley_sample(samples=3000, confidence=0.95, seed=4, stratified=stratified)
    assert finer.half_width.mean() < est.half_width.mean() / 2.5  # ~ 1/sqrt(samples)


def test_sampled_shapley_is_exact_when_strata_are_enumerable():
    game = ten_player_game()
    est = game.shapley_sample(samples=2000, seed=1)  # 200 per stratum >= C(9, k) for every k
    assert np.allclose(est.value, game.shapley(), atol=1e-9)
    assert (est.half_width == 0).all()


def test_sampled_shapley_of_a_lazy_game_evaluates_few_coalitions():
    calls = []

    def v(coalition: frozenset) -> float:
        calls.append(coalition)
        return float(sum(coalition)) ** 2

    game = TUGame(range(20), v)
    est = game.shapley_sample(samples=100, seed=0)
    assert len(calls) < 20 * 100 * 2
    assert est.value.sum() == pytest.approx(sum(range(20)) ** 2, rel=0.05)


# -- bad input ----------------------------------------------------------------------------------

def test_missing_coalition_values_are_named():
    with pytest.raises(GameError, match=r"lacks the value of 1 coalition\(s\): a\+b"):
        TUGame("abc", {s: 1.0 for s in map(frozenset, ["a", "b", "c", "ac", "bc", "abc"])})


@pytest.mark.parametrize("bad, message", [
    ({frozenset("a"): 1, frozenset("b"): float("nan"), frozenset("ab"): 2}, "not a finite"),
    ({frozenset("a"): 1, frozenset("b"): 1, frozenset("ab"): 2, frozenset("x"): 1}, "not a player"),
    ({frozenset(): 1, frozenset("a"): 1, frozenset("b"): 1, frozenset("ab"): 2}, "must be 0"),
    ({frozenset("a"): 1, frozenset("b"): "lots", frozenset("ab"): 2}, "not a number"),
])
def test_bad_values_are_refused(bad, message):
    with pytest.raises(GameError, match=message):
        TUGame("ab", bad)


def test_callable_failures_are_game_errors():
    game = TUGame("ab", lambda s: math.inf if len(s) == 2 else 1.0)
    with pytest.raises(GameError, match=r"v\(a\+b\) is inf"):
        game.shapley()


def test_players_must_be_distinct_and_allocations_complete():
    with pytest.raises(GameError, match="repeated: a"):
        TUGame(["a", "a"], lambda s: 0.0)
    game = airport([1, 2])
    with pytest.raises(GameError, match="allocation"):
        game.core_contains([1.0])
