"""The (pre)nucleolus by a sequence of linear programs, and Kohlberg's criterion to verify it.

Each LP minimises the largest excess t of the coalitions not yet fixed, with the coalitions fixed
earlier held at their levels:

    min t  s.t.  x(N) = v(N);  v(S) - x(S) <= t  (S free);  v(S) - x(S) = t_k  (S fixed at level k)
                 [x_i >= v(i) for the nucleolus, which lives on the imputation set]

A free coalition is fixed only if it is tight in *every* optimum, not merely in the one HiGHS
returns: by complementary slackness, a row with a positive dual in any optimal dual solution is
tight in all primal optima (Guajardo & Jörnsten 2015, "Common mistakes in computing the
nucleolus", EJOR 241(3) 931-935, show how fixing every tight row goes wrong). Coalitions whose
characteristic vectors fall in the span of the fixed ones have constant excess from then on and
leave the free set. Each round raises the rank of the fixed set, so at most n rounds; the final
allocation solves the fixed equalities exactly.

Kohlberg (1971, "On the nucleolus of a characteristic function game", SIAM J. Appl. Math. 20(1)
62-66): x is the prenucleolus iff for every level a the coalitions with excess >= a form a
balanced collection; for the nucleolus the singletons {i} with x_i = v(i) may join each collection
with non-negative weight (see also Peleg & Sudhoelter 2007, Introduction to the Theory of
Cooperative Games, ch. 5).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp

from corridor.coalitions.game import GameError, TUGame, membership, popcount
from corridor.optimize.solve import new_highs

DUAL_TOL = 1e-9  # duals of the min-t rows sum to 1; a positive one is well above this
SPAN_TOL = 1e-8


@dataclass
class NucleolusResult:
    """The allocation and, per round, its level t_k and the coalitions fixed at it."""

    allocation: np.ndarray
    levels: list[tuple[float, list[int]]] = field(default_factory=list)


@dataclass(frozen=True)
class KohlbergCheck:
    """Outcome of Kohlberg's criterion; on failure, the level whose collection is unbalanced."""

    ok: bool
    level: float | None = None
    coalitions: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return self.ok


def _solve(cost, matrix: sp.csc_matrix, col_lower, col_upper, row_lower, row_upper):
    """Solve a small LP with HiGHS' simplex; return (x, row duals) or raise GameError."""
    h = new_highs({"solver": "simplex", "primal_feasibility_tolerance": 1e-10,
                   "dual_feasibility_tolerance": 1e-10})
    n_rows, n_cols = matrix.shape
    h.passModel(n_cols, n_rows, matrix.nnz, 1, 1, 0.0, np.asarray(cost, float),
                np.asarray(col_lower, float), np.asarray(col_upper, float),
                np.asarray(row_lower, float), np.asarray(row_upper, float),
                matrix.indptr.astype(np.int32), matrix.indices.astype(np.int32),
                matrix.data.astype(float), np.zeros(n_cols, dtype=np.int32))
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        return None, None, h.modelStatusToString(status)
    sol = h.getSolution()
    return np.asarray(sol.col_value), np.asarray(sol.row_dual), "optimal"


class _Rounds:
    """State of the sequential LPs on a game scaled to max |v| = 1 (for numerical stability)."""

    def __init__(self, game: TUGame, imputations: bool):
        self.n = game.n
        self.scale = game.scale()
        self.v = game.values() / self.scale
        self.imputations = imputations
        singles = self.v[1 << np.arange(self.n)]
        if imputations and singles.sum() > self.v[game.grand] + 1e-12:
            raise GameError(
                f"the imputation set is empty (sum of v(i) = {singles.sum() * self.scale:,.6g} "
                f"> v(N) = {self.v[game.grand] * self.scale:,.6g}): the nucleolus is undefined; "
                "the prenucleolus exists")
        self.lower = singles if imputations else np.full(self.n, -np.inf)
        self.free = np.arange(1, game.grand, dtype=np.int64)
        self.fixed: list[int] = [game.grand]
        self.fixed_excess: list[float] = [0.0]
        self.basis = np.zeros((0, self.n))
        self._extend_basis([game.grand])

    def _extend_basis(self, masks) -> None:
        rows = np.vstack([self.basis, membership(np.asarray(masks), self.n)])
        u, s, _ = np.linalg.svd(rows.T, full_matrices=False)
        self.basis = u[:, s > SPAN_TOL * max(1.0, s.max())].T  # orthonormal rows spanning

    @property
    def rank(self) -> int:
        return self.basis.shape[0]

    def solve_round(self) -> tuple[float, np.ndarray, np.ndarray]:
        """One LP: the least max excess t of the free coalitions; returns t, x, free duals."""
        n, free, fixed = self.n, self.free, np.asarray(self.fixed)
        a_free = sp.hstack([sp.csr_matrix(membership(free, n)),
                            sp.csr_matrix(np.ones((len(free), 1)))])
        a_fixed = sp.hstack([sp.csr_matrix(membership(fixed, n)),
                             sp.csr_matrix((len(fixed), 1))])
        matrix = sp.vstack([a_free, a_fixed]).tocsc()
        target = self.v[fixed] - np.asarray(self.fixed_excess)
        row_lower = np.concatenate([self.v[free], target])
        row_upper = np.concatenate([np.full(len(free), np.inf), target])
        cost = np.zeros(n + 1)
        cost[-1] = 1.0
        x, dual, status = _solve(cost, matrix, np.append(self.lower, -np.inf),
                                 np.full(n + 1, np.inf), row_lower, row_upper)
        if x is None:
            raise GameError(f"a nucleolus LP ended with HiGHS status {status!r}")
        return float(x[-1]), x[:n], np.abs(dual[:len(free)])

    def fix(self, t: float, duals: np.ndarray) -> list[int]:
        """Fix the coalitions with positive duals at level t; drop those now in the span."""
        tight = self.free[duals > DUAL_TOL]
        if not len(tight):
            raise GameError("nucleolus: no coalition could be fixed (numerical trouble)")
        self.fixed.extend(int(m) for m in tight)
        self.fixed_excess.extend([t] * len(tight))
        self._extend_basis(tight)
        rest = self.free[duals <= DUAL_TOL]
        vectors = membership(rest, self.n)
        residual = vectors - (vectors @ self.basis.T) @ self.basis
        self.free = rest[np.linalg.norm(residual, axis=1) > SPAN_TOL]
        return [int(m) for m in tight]

    def allocation(self) -> np.ndarray:
        """The unique x satisfying every fixed equality x(S) = v(S) - t_S (rank n)."""
        a = membership(np.asarray(self.fixed), self.n)
        b = self.v[np.asarray(self.fixed)] - np.asarray(self.fixed_excess)
        x, *_ = np.linalg.lstsq(a, b, rcond=None)
        return x


def nucleolus(game: TUGame, imputations: bool = True) -> NucleolusResult:
    """The nucleolus (imputations=True) or prenucleolus of a game, with its levels."""
    if game.n == 1:
        return NucleolusResult(np.array([game.values()[1]]))
    rounds = _Rounds(game, imputations)
    levels = []
    while rounds.rank < game.n and len(rounds.free):
        t, _, duals = rounds.solve_round()
        levels.append((t * rounds.scale, rounds.fix(t, duals)))
    if rounds.rank < game.n:
        raise GameError("nucleolus: the fixed coalitions do not determine a unique allocation")
    return NucleolusResult(rounds.allocation() * rounds.scale, levels)


def least_core(game: TUGame) -> tuple[float, np.ndarray]:
    """eps* = min over efficient x of max over proper coalitions of v(S) - x(S), and an x."""
    if game.n == 1:
        return 0.0, np.array([game.values()[1]])
    rounds = _Rounds(game, imputations=False)
    t, x, _ = rounds.solve_round()
    return t * rounds.scale, x * rounds.scale


def _balanced(collection: np.ndarray, singles: np.ndarray, n: int) -> bool:
    """Is there lambda_S >= 1 (S in collection), mu_i >= 0 (i in singles), c with
    sum lambda_S 1_S + sum mu_i e_i = c 1_N?  (Positive weights, scaled so the least is 1.)"""
    a = np.hstack([membership(collection, n).T, np.eye(n)[:, singles], -np.ones((n, 1))])
    k = a.shape[1]
    lower = np.concatenate([np.ones(len(collection)), np.zeros(len(singles) + 1)])
    x, _, _ = _solve(np.zeros(k), sp.csc_matrix(a), lower, np.full(k, np.inf),
                     np.zeros(n), np.zeros(n))
    return x is not None


def kohlberg(game: TUGame, x: np.ndarray, imputations: bool = True,
             tol: float | None = None) -> KohlbergCheck:
    """Kohlberg's criterion at x, checked at every distinct excess level (highest first)."""
    n = game.n
    tol = 1e-7 * game.scale() if tol is None else tol
    e = game.excesses(x)
    if abs(e[game.grand]) > tol:
        return KohlbergCheck(False, None, (game.grand,))
    proper = np.arange(1, game.grand, dtype=np.int64)
    singles = np.arange(n)
    if imputations:
        below = x < game.values()[1 << singles] - tol
        if below.any():
            return KohlbergCheck(False, None, tuple(int(1 << i) for i in singles[below]))
        singles = singles[x <= game.values()[1 << singles] + tol]
    else:
        singles = singles[:0]
    levels = np.sort(e[proper])[::-1]
    distinct = levels[np.concatenate([[True], np.diff(levels) < -tol])]
    for alpha in distinct:
        collection = proper[e[proper] >= alpha - tol]
        if not _balanced(collection, singles, n):
            return KohlbergCheck(False, float(alpha), tuple(int(m) for m in collection))
    return KohlbergCheck(True)


def excess_levels(game: TUGame, x: np.ndarray) -> list[tuple[float, list[int]]]:
    """Excesses at x grouped into levels, highest first (for reports)."""
    tol = 1e-7 * game.scale()
    proper = np.arange(1, game.grand, dtype=np.int64)
    e = game.excesses(x)[proper]
    order = np.argsort(-e, kind="stable")
    groups: list[tuple[float, list[int]]] = []
    for k in order:
        if groups and abs(groups[-1][0] - e[k]) <= tol:
            groups[-1][1].append(int(proper[k]))
        else:
            groups.append((float(e[k]), [int(proper[k])]))
    return groups


__all__ = ["nucleolus", "least_core", "kohlberg", "excess_levels", "NucleolusResult",
           "KohlbergCheck", "popcount"]
