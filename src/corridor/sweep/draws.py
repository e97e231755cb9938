"""Deterministic draws: what one draw of a sweep changes, as a pure function of (seed, draw id).

Draw i of entry k uses its own generator `numpy.random.default_rng([seed, i, kind, k])`, so a
draw does not depend on which worker computes it, in which order, on how many draws the sweep
has, or on the entries listed before it. A grid point is draw i of the full factorial (the last
axis varies fastest).

A draw is a list of outage events (links, first day, number of days, availability left) and a
factor per row of each scaled column (demands amount/value, supplies capacity/cost, links
capacity/tariff). `Sampler.scenario` writes the same draw as a scenario file, so any draw can be
re-run from scratch with `corridor run --scenario`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from corridor.network import Network
from corridor.periods import DAYS_PER_YEAR
from corridor.scenario.file import ScenarioFile
from corridor.sweep.spec import (
    GridSpec,
    MultiplierSpec,
    OutageSpec,
    SweepFile,
    as_distribution,
)

_OUTAGES, _MULTIPLIERS = 0, 1  # stream kinds in the generator key


@dataclass(frozen=True)
class OutageEvent:
    """Links out together from day `start` (1-365) for `days` days; wraps past 31 December into
    January, since the modelled year is cyclic."""

    name: str
    links: tuple[str, ...]
    start: int
    days: int
    availability: float
    positions: tuple[int, ...] = ()  # the links' positions among the model's links

    def day_index(self) -> np.ndarray:
        """0-based days of the year the outage covers."""
        return (self.start - 1 + np.arange(self.days)) % DAYS_PER_YEAR

    def windows(self) -> list[tuple[int, int]]:
        """The outage as [first, last] day ranges within the year (two when it wraps)."""
        end = self.start + self.days - 1
        if end <= DAYS_PER_YEAR:
            return [(self.start, end)]
        return [(self.start, DAYS_PER_YEAR), (1, end - DAYS_PER_YEAR)]


@dataclass
class Draw:
    """The changes of one draw: outage events and factors per row of scaled columns."""

    draw: int
    events: list[OutageEvent] = field(default_factory=list)
    factors: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    values: dict[str, float | list[float]] = field(default_factory=dict)

    def describe(self) -> dict:
        """A JSON-able account of the draw (stored with its results)."""
        return {"outages": [{"name": e.name, "links": list(e.links), "start_day": e.start,
                             "days": e.days, "availability": e.availability}
                            for e in self.events],
                "factors": self.values}


class Sampler:
    """A sweep's random entries resolved against a network: selections become row positions."""

    def __init__(self, spec: SweepFile, net: Network, link_ids: pd.Index):
        self.spec = spec
        self.rows = {"demands": net.demands.index, "supplies": net.supplies.index,
                     "links": pd.Index(link_ids)}
        self._all = {"demands": net.demands, "supplies": net.supplies, "links": net.links}
        self.outages = [(o, self._select(o, "links", o.chosen_ids)) for o in spec.outages]
        entries = spec.grid or spec.multipliers
        self.scaled = [(m, self._select(m, m.table, m.ids)) for m in entries]
        self.grid_shape = tuple(len(g.factors) for g in spec.grid)
        self._link_names = np.asarray(self.rows["links"], dtype=object)

    def _select(self, entry, table: str, ids: list[str] | None) -> np.ndarray:
        """Positions (in model order) of the rows an entry chooses; errors name file and line."""
        df, model = self._all[table], self.rows[table]
        rows = df.index
        if ids is not None:
            unknown = [i for i in ids if i not in df.index]
            if unknown:
                raise self.spec.fail(entry.line, f"unknown {table} id(s): {', '.join(unknown)}")
            absent = [i for i in ids if i not in model]
            if absent:
                raise self.spec.fail(entry.line, f"link(s) {', '.join(absent)} are not built in "
                                                 "this network (build them with a scenario)")
            rows = pd.Index(ids)
        for column, wanted in (entry.where or {}).items():
            if column not in df.columns and column != "id":
                raise self.spec.fail(entry.line, f"{table} has no column {column!r}")
            values = [str(v) for v in (wanted if isinstance(wanted, list) else [wanted])]
            have = rows.to_series() if column == "id" else df.loc[rows, column]
            rows = rows[have.astype(str).isin(values).to_numpy()]
        positions = model.get_indexer(rows)
        positions = positions[positions >= 0]
        if len(positions) == 0:
            raise self.spec.fail(entry.line, f"the selection matches no {table} row of the "
                                             "model")
        return positions

    def draw(self, i: int) -> Draw:
        """Draw `i` (0-based): the same for the same seed, whoever asks."""
        draw = Draw(int(i))
        if self.spec.grid:
            self._grid_point(draw)
            return draw
        seed = self.spec.seed
        for k, (outage, positions) in enumerate(self.outages):
            rng = np.random.default_rng([seed, draw.draw, _OUTAGES, k])
            draw.events += self._events(rng, outage, positions)
        for k, (mult, positions) in enumerate(self.scaled):
            rng = np.random.default_rng([seed, draw.draw, _MULTIPLIERS, k])
            size = len(positions) if mult.independent else 1
            factor = np.clip(as_distribution(mult.factor).sample(rng, size), 0.0, None)
            self._scale(draw, mult, positions, factor)
        return draw

    def _events(self, rng: np.random.Generator, outage: OutageSpec,
                positions: np.ndarray) -> list[OutageEvent]:
        """Outage events of one entry: per link if independent, else for the whole selection."""
        groups = [positions[k:k + 1] for k in range(len(positions))] if outage.independent \
            else [positions]
        n = len(groups)
        if outage.rate is not None:
            counts = rng.poisson(outage.rate, n)
        else:
            counts = (rng.random(n) < outage.probability).astype(int)
        total = int(counts.sum())
        starts = rng.integers(1, DAYS_PER_YEAR + 1, total)
        days = outage.durations(rng, total)
        owners = np.repeat(np.arange(n), counts)
        name = outage.name or f"outage (line {outage.line})"
        return [OutageEvent(name, tuple(self._link_names[groups[g]]), int(s), int(d),
                            outage.availability, tuple(int(p) for p in groups[g]))
                for g, s, d in zip(owners.tolist(), starts.tolist(), days.tolist(),
                                   strict=True)]

    def _scale(self, draw: Draw, entry: MultiplierSpec | GridSpec, positions: np.ndarray,
               factor: np.ndarray) -> None:
        key = (entry.table, entry.column)
        if key not in draw.factors:
            draw.factors[key] = np.ones(len(self.rows[entry.table]))
        draw.factors[key][positions] *= factor
        label = entry.name or f"{entry.table}.{entry.column} (line {entry.line})"
        values = [float(f) for f in factor]
        draw.values[label] = values[0] if len(values) == 1 else values

    def _grid_point(self, draw: Draw) -> None:
        if not 0 <= draw.draw < self.spec.grid_size:
            raise IndexError(f"grid point {draw.draw} is outside the grid of "
                             f"{self.spec.grid_size} points")
        point = np.unravel_index(draw.draw, self.grid_shape)
        for (entry, positions), k in zip(self.scaled, point, strict=True):
            self._scale(draw, entry, positions, np.array([entry.factors[int(k)]]))

    def scenario(self, draw: Draw) -> ScenarioFile:
        """The draw as a scenario file: outages as day windows, factors as whole-year scales."""
        outages = [{"links": list(e.links), "days": list(w), "availability": e.availability}
                   for e in draw.events for w in e.windows()]
        scale = []
        for (table, column), factor in draw.factors.items():
            columns = [column, "reverse_capacity"] if (table, column) == ("links", "capacity") \
                else [column]
            for pos in np.flatnonzero(factor != 1.0):
                for col in columns:
                    scale.append({"table": table, "ids": [str(self.rows[table][pos])],
                                  "column": col, "factor": float(factor[pos])})
        return ScenarioFile.model_validate({"name": f"{self.spec.name}-draw-{draw.draw}",
                                            "outages": outages, "scale": scale})
