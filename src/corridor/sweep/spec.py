"""Sweep files: a YAML description of many draws of one base network, checked with pydantic.

A sweep names the base network and scenario, the number of periods, the number of draws and
the seed, and what varies between draws: random link outages (a yearly probability or rate, a
duration, a start day drawn uniformly), random multipliers of demand amount and value, supply
capacity and cost, link capacity and tariff (from named distributions), or a full-factorial grid
of multipliers. Mistakes are reported with the file and line, as scenario files are.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import Field, ValidationError, model_validator

# The scenario reader's line-tracking YAML loader and base model: sweep files report mistakes
# exactly as scenario files do.
from corridor.scenario.file import LineLoader, Located, StrictModel

SWEEP_SUFFIXES = (".yaml", ".yml")
DEFAULT_DRAWS = 100
DEFAULT_PERIODS = 12
DAYS_PER_MONTH = 365 / 12
# Which columns a multiplier or grid entry may scale, per table.
SCALABLE = {"demands": ("amount", "value"), "supplies": ("capacity", "cost"),
            "links": ("capacity", "tariff")}
# Parameters each named distribution takes.
PARAMETERS = {"constant": ("value",), "normal": ("mean", "sd"), "lognormal": ("median", "sigma"),
              "uniform": ("low", "high"), "triangular": ("low", "mode", "high")}

Where = dict[str, str | float | list[str | float]]


class SweepError(ValueError):
    """A sweep file that cannot be read or applied; the message names the file and line."""


class Distribution(StrictModel):
    """A named distribution: constant(value), normal(mean, sd), lognormal(median, sigma: of the
    logarithm), uniform(low, high) or triangular(low, mode, high)."""

    distribution: Literal["constant", "normal", "lognormal", "uniform", "triangular"]
    value: float | None = None
    mean: float | None = None
    sd: float | None = Field(default=None, ge=0)
    median: float | None = Field(default=None, gt=0)
    sigma: float | None = Field(default=None, ge=0)
    low: float | None = None
    mode: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _check_parameters(self):
        wanted = PARAMETERS[self.distribution]
        given = {k for k in ("value", "mean", "sd", "median", "sigma", "low", "mode", "high")
                 if getattr(self, k) is not None}
        if given != set(wanted):
            raise ValueError(f"a {self.distribution} distribution takes {', '.join(wanted)} "
                             f"(got {', '.join(sorted(given)) or 'none'})")
        if self.low is not None:
            mode = self.low if self.mode is None else self.mode
            if not self.low <= mode <= self.high:
                raise ValueError("needs low <= mode <= high" if self.mode is not None
                                 else "needs low <= high")
        return self

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """`size` values drawn from `rng` (always the same number of generator calls)."""
        kind = self.distribution
        if kind == "constant":
            return np.full(size, float(self.value))
        if kind == "normal":
            return rng.normal(self.mean, self.sd, size)
        if kind == "lognormal":
            return self.median * np.exp(self.sigma * rng.standard_normal(size))
        if kind == "uniform":
            return rng.uniform(self.low, self.high, size)
        if self.low == self.high:
            return np.full(size, float(self.low))
        return rng.triangular(self.low, self.mode, self.high, size)


def as_distribution(value: float | Distribution) -> Distribution:
    """A plain number in a sweep file means a constant."""
    if isinstance(value, Distribution):
        return value
    return Distribution(distribution="constant", value=float(value))


class _Selection(StrictModel):
    """Rows chosen by id and/or by column values (`where: {carrier: gas}`)."""

    ids: list[str] | None = None
    where: Where | None = None


class OutageSpec(_Selection):
    """Random outages of links: each year a link (or the whole selection, failing together) has
    `probability` of one outage or a Poisson number of them at `rate` per year; each lasts
    `duration_days` or `duration_months` (a number or a distribution) from a start day drawn
    uniformly over the year, and leaves `availability` of the capacity in both directions."""

    name: str = ""
    links: list[str] | None = None
    probability: float | None = Field(default=None, ge=0, le=1)
    rate: float | None = Field(default=None, ge=0)
    duration_days: float | Distribution | None = None
    duration_months: float | Distribution | None = None
    availability: float = Field(default=0.0, ge=0, le=1)
    independent: bool = False

    @model_validator(mode="after")
    def _check_outage(self):
        if (self.probability is None) == (self.rate is None):
            raise ValueError("give either probability (chance of an outage per year) or rate "
                             "(mean number of outages per year)")
        if (self.duration_days is None) == (self.duration_months is None):
            raise ValueError("give either duration_days or duration_months")
        if self.links is not None and self.ids is not None:
            raise ValueError("give links or ids, not both")
        return self

    @property
    def chosen_ids(self) -> list[str] | None:
        return self.links if self.links is not None else self.ids

    def durations(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Whole days, at least 1 and at most a year."""
        months = self.duration_months is not None
        spec = as_distribution(self.duration_months if months else self.duration_days)
        days = spec.sample(rng, size) * (DAYS_PER_MONTH if months else 1.0)
        return np.clip(np.rint(days), 1, 365).astype(int)


class _Scaled(_Selection):
    table: Literal["demands", "supplies", "links"]
    column: str

    @model_validator(mode="after")
    def _check_column(self):
        if self.column not in SCALABLE[self.table]:
            raise ValueError(f"{self.table} columns that can be scaled: "
                             f"{', '.join(SCALABLE[self.table])} (not {self.column!r})")
        return self


class MultiplierSpec(_Scaled):
    """A random factor on a column of the chosen rows: one factor for all of them per draw, or
    one per row with `independent: true`. Negative draws are clipped to 0."""

    name: str = ""
    factor: float | Distribution
    independent: bool = False


class GridSpec(_Scaled):
    """One axis of a full-factorial grid: the chosen rows' column times each of `factors`."""

    name: str = ""
    factors: list[float] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_factors(self):
        if any(f < 0 or not math.isfinite(f) for f in self.factors):
            raise ValueError("factors are finite numbers >= 0")
        return self


class SweepFile(StrictModel):
    """The whole sweep file. Random draws (outages, multipliers) or a grid, not both."""

    name: str = ""
    description: str = ""
    network: str | None = None
    scenario: str | None = None
    periods: int | None = Field(default=None, ge=1, le=365)
    draws: int | None = Field(default=None, ge=1)
    seed: int = Field(default=0, ge=0)
    outages: list[OutageSpec] = Field(default_factory=list)
    multipliers: list[MultiplierSpec] = Field(default_factory=list)
    grid: list[GridSpec] = Field(default_factory=list)
    path: str = Field(default="", exclude=True)
    key_lines: dict[str, int] = Field(default_factory=dict, exclude=True)

    @model_validator(mode="after")
    def _check_kind(self):
        random = bool(self.outages or self.multipliers)
        if random and self.grid:
            raise ValueError("a sweep has random draws (outages, multipliers) or a grid, "
                             "not both")
        if not random and not self.grid:
            raise ValueError("nothing varies: give outages, multipliers or a grid")
        if self.grid and self.draws is not None and self.draws > self.grid_size:
            raise ValueError(f"draws ({self.draws}) exceeds the grid's {self.grid_size} points")
        return self

    @property
    def grid_size(self) -> int:
        return int(np.prod([len(g.factors) for g in self.grid])) if self.grid else 0

    @property
    def n_draws(self) -> int:
        """Draws to run: as given, else the whole grid, else DEFAULT_DRAWS."""
        return self.draws or self.grid_size or DEFAULT_DRAWS

    def line_of(self, key: str) -> int:
        """The line of a top-level key in the file (1 if unknown)."""
        return self.key_lines.get(key, 1)

    def fail(self, line: int, message: str) -> SweepError:
        return SweepError(f"{self.path or '<sweep>'}, line {line}: {message}")


def _line_at(data, loc: tuple) -> int:
    """The line of the deepest key or entry along a pydantic error location."""
    line, node = getattr(data, "line", 1), data
    for key in loc:
        key_lines = getattr(node, "key_lines", None) or {}
        line = key_lines.get(key, line)
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            continue  # a union member's name (e.g. 'Distribution'): stay on this node
        line = getattr(node, "line", line)
    return line


def _load_yaml(path: Path):
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=LineLoader) or Located()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        raise SweepError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})"
                         ) from None
    except OSError as exc:
        raise SweepError(f"{path}: cannot be read ({exc.strerror})") from None


_MEMBERS = {"float", "int", "Distribution"}  # names pydantic puts in the location of a union


def _problems(exc: ValidationError, data) -> list[str]:
    """One 'line N, where: what' per error; for a number-or-distribution field, one complaint
    (not pydantic's one per member of the union)."""
    errors = [(tuple(p for p in e["loc"] if not str(p).startswith("function-")), e)
              for e in exc.errors()]
    places = {loc for loc, _ in errors}
    problems = []
    for loc, e in errors:
        msg = e["msg"].removeprefix("Value error, ")
        if loc and loc[-1] in ("float", "int") and loc[:-1] in places:
            continue  # the distribution member's complaint (or the one below) says more
        if e["type"] == "model_type" and e.get("ctx", {}).get("class_name") == "Distribution":
            msg = ("expected a number or a distribution, e.g. {distribution: uniform, low: 1, "
                   "high: 2}")
        where = ".".join(str(p) for p in loc if p not in _MEMBERS) or "file"
        problems.append(f"line {_line_at(data, loc)}, {where}: {msg}")
    return problems


def read_sweep_file(path: str | Path) -> SweepFile:
    """Parse and check a sweep file's structure (not yet against a network)."""
    path = Path(path)
    data = _load_yaml(path)
    if not isinstance(data, dict):
        raise SweepError(f"{path}, line 1: a sweep file is a mapping of keys to values")
    try:
        spec = SweepFile.model_validate(data)
    except ValidationError as exc:
        raise SweepError(f"{path}: " + "; ".join(_problems(exc, data))) from None
    spec.path = str(path)
    spec.name = spec.name or path.stem
    spec.key_lines = dict(data.key_lines or {})
    return spec


def find_sweep(name_or_path: str | Path, folder: Path | None = None) -> Path:
    """A sweep file by path, or by name in a network folder's `sweeps/` (default network's)."""
    from corridor.data import bundled_path

    candidate = Path(name_or_path)
    if candidate.is_file():
        return candidate
    folder = (folder or bundled_path()) / "sweeps"
    for suffix in SWEEP_SUFFIXES:
        if (folder / f"{name_or_path}{suffix}").is_file():
            return folder / f"{name_or_path}{suffix}"
    known = sorted(p.stem for p in folder.glob("*.y*ml")) if folder.is_dir() else []
    raise SweepError(f"sweep {str(name_or_path)!r} is neither a file nor a bundled sweep "
                     f"(bundled: {', '.join(known) or 'none'})")
