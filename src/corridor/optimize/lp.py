"""A linear program assembled block by block as sparse triplets, ready for HiGHS.

Variables and constraints come in named families, each a (periods x elements) grid. A family
knows its offset in the column (or row) vector, so terms are added with whole numpy index arrays,
never one variable at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

INF = np.inf


@dataclass(frozen=True)
class Block:
    """A (periods x elements) family of variables or constraints starting at `start`."""

    name: str
    start: int
    n_periods: int
    ids: pd.Index

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def size(self) -> int:
        return self.n_periods * self.n

    def index(self, elements: np.ndarray | None = None) -> np.ndarray:
        """Positions of the given elements (default: all) in every period, shape (periods, k)."""
        e = np.arange(self.n) if elements is None else np.asarray(elements)
        return self.start + np.arange(self.n_periods)[:, None] * self.n + e[None, :]

    def unpack(self, vector: np.ndarray) -> pd.DataFrame:
        """This block's slice of a solution vector as a (periods x ids) DataFrame."""
        values = vector[self.start:self.start + self.size].reshape(self.n_periods, self.n)
        return pd.DataFrame(values, columns=self.ids)


def _grid(value, shape) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=float), shape).ravel()


@dataclass
class LinearProgram:
    """Columns, rows and coefficient triplets of a minimisation LP."""

    n_periods: int
    offset: float = 0.0  # constant part of the objective (e.g. build costs of built projects)
    columns: dict[str, Block] = field(default_factory=dict)
    rows: dict[str, Block] = field(default_factory=dict)
    _cost: list = field(default_factory=list)
    _col_lower: list = field(default_factory=list)
    _col_upper: list = field(default_factory=list)
    _row_lower: list = field(default_factory=list)
    _row_upper: list = field(default_factory=list)
    _row_weight: list = field(default_factory=list)
    _integer: list = field(default_factory=list)
    _entries: list = field(default_factory=list)
    n_cols: int = 0
    n_rows: int = 0

    def add_variables(self, name: str, ids, lower=0.0, upper=INF, cost=0.0,
                      n_periods: int | None = None, integer=False) -> Block:
        """A family of variables over periods x ids; bounds, cost and integrality broadcast to
        that grid."""
        block = Block(name, self.n_cols, n_periods or self.n_periods, pd.Index(ids))
        shape = (block.n_periods, block.n)
        self._col_lower.append(_grid(lower, shape))
        self._col_upper.append(_grid(upper, shape))
        self._cost.append(_grid(cost, shape))
        self._integer.append(_grid(integer, shape))
        self.columns[name] = block
        self.n_cols += block.size
        return block

    def add_constraints(self, name: str, ids, lower, upper, n_periods: int | None = None,
                        elastic_weight=1.0) -> Block:
        """A family of rows lower <= A x <= upper over periods x ids.

        `elastic_weight` is the price of violating a row by one unit when an infeasible model is
        diagnosed; rows that are physics (balances) weigh more than policy rows (targets).
        """
        block = Block(name, self.n_rows, n_periods or self.n_periods, pd.Index(ids))
        shape = (block.n_periods, block.n)
        self._row_lower.append(_grid(lower, shape))
        self._row_upper.append(_grid(upper, shape))
        self._row_weight.append(_grid(elastic_weight, shape))
        self.rows[name] = block
        self.n_rows += block.size
        return block

    def add_terms(self, rows: np.ndarray, cols: np.ndarray, values) -> None:
        """Coefficients A[rows, cols] += values (arrays broadcast together)."""
        rows, cols, values = np.broadcast_arrays(rows, cols, np.asarray(values, dtype=float))
        self._entries.append((rows.ravel(), cols.ravel(), values.ravel()))

    def vector(self, which: str) -> np.ndarray:
        parts = {"cost": self._cost, "col_lower": self._col_lower, "col_upper": self._col_upper,
                 "row_lower": self._row_lower, "row_upper": self._row_upper,
                 "row_weight": self._row_weight, "integer": self._integer}[which]
        return np.concatenate(parts) if parts else np.zeros(0)

    def append(self, other: LinearProgram, prefix: str, scale: float = 1.0) -> tuple[int, int]:
        """Add `other`'s columns, rows and coefficients after this LP's (its families renamed
        `prefix` + name), its costs and constant multiplied by `scale`; a multi-year plan is
        one flow LP per year appended this way. Returns where its columns and rows start."""
        c0, r0 = self.n_cols, self.n_rows
        for mine, theirs, start in ((self.columns, other.columns, c0),
                                    (self.rows, other.rows, r0)):
            for name, b in theirs.items():
                mine[prefix + name] = Block(prefix + name, b.start + start, b.n_periods, b.ids)
        self._cost.append(other.vector("cost") * scale)
        for mine, key in ((self._col_lower, "col_lower"), (self._col_upper, "col_upper"),
                          (self._row_lower, "row_lower"), (self._row_upper, "row_upper"),
                          (self._row_weight, "row_weight"), (self._integer, "integer")):
            mine.append(other.vector(key))
        self._entries.extend((r + r0, c + c0, v) for r, c, v in other._entries)
        self.offset += other.offset * scale
        self.n_cols += other.n_cols
        self.n_rows += other.n_rows
        return c0, r0

    def matrix(self) -> sp.csc_matrix:
        """The constraint matrix in compressed-column form (duplicates summed)."""
        if self._entries:
            rows, cols, vals = (np.concatenate(x) for x in zip(*self._entries, strict=True))
        else:
            rows = cols = np.zeros(0, dtype=np.int64)
            vals = np.zeros(0)
        matrix = sp.csc_matrix((vals, (rows, cols)), shape=(self.n_rows, self.n_cols))
        matrix.eliminate_zeros()
        return matrix

    def column_name(self, j: int) -> str:
        return _name_at(self.columns, j)

    def row_name(self, i: int) -> str:
        return _name_at(self.rows, i)


def _name_at(blocks: dict[str, Block], k: int) -> str:
    """Human name of position k, e.g. 'flow_forward[G01, period 3]'."""
    for block in blocks.values():
        if block.start <= k < block.start + block.size:
            t, e = divmod(k - block.start, block.n)
            return f"{block.name}[{block.ids[e]}, period {t + 1}]"
    raise IndexError(k)
