"""Scenario files: a small YAML format, its schema, and errors that name the file and line.

A scenario changes a base network without copying it: build proposed links, supplies or
storages, take links out for a time window, block a country or a route, sanction named owners
(close everything they own), set or scale any column, cap the price a named buyer pays, add rows,
add route targets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

SCENARIO_SUFFIXES = (".yaml", ".yml")
TableName = Literal["nodes", "links", "supplies", "demands", "storages"]


class ScenarioError(ValueError):
    """A scenario that cannot be read or applied; the message names file, line and culprit."""


class Located(dict):
    """A YAML mapping that remembers the line it started on and the line of each key."""

    line: int = 0
    key_lines: dict | None = None


class LocatedList(list):
    line: int = 0


class LineLoader(yaml.SafeLoader):
    """Safe YAML loading that records the 1-based line of every mapping and sequence."""

    def construct_mapping(self, node, deep=False):
        mapping = Located(super().construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {k.value: k.start_mark.line + 1 for k, _ in node.value
                             if hasattr(k, "value")}
        return mapping

    def construct_sequence(self, node, deep=False):
        seq = LocatedList(super().construct_sequence(node, deep=True))
        seq.line = node.start_mark.line + 1
        return seq


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                            LineLoader.construct_mapping)
LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG,
                            LineLoader.construct_sequence)


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line: int = Field(default=0, exclude=True)  # where this entry starts in the file

    @model_validator(mode="before")
    @classmethod
    def _keep_line(cls, data):
        if isinstance(data, Located):
            return {**data, "line": data.line}
        return data


class Window(StrictModel):
    """When a change applies: whole months (1-12) or a day-of-year range; default all year."""

    months: list[int] | None = None
    days: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _check_window(self):
        if self.months and not all(1 <= m <= 12 for m in self.months):
            raise ValueError("months are numbers from 1 to 12")
        if self.days and not 1 <= self.days[0] <= self.days[1] <= 365:
            raise ValueError("days is [first, last] with 1 <= first <= last <= 365")
        if self.months and self.days:
            raise ValueError("give months or days, not both")
        return self

    @property
    def whole_year(self) -> bool:
        return not self.months and not self.days


class Selector(StrictModel):
    """Rows of a table chosen by id and/or by column values (`where: {owner: RU}`)."""

    table: TableName
    ids: list[str] | None = None
    where: dict[str, str | float | list[str | float]] | None = None


class SetChange(Selector):
    column: str
    value: float | str
    unit: str | None = None


class ScaleChange(Selector, Window):
    column: str
    factor: float = Field(ge=0)


class Outage(Window):
    links: list[str] | None = None
    where: dict[str, str | float | list[str | float]] | None = None
    availability: float = Field(default=0.0, ge=0, le=1)


class Block(StrictModel):
    countries: list[str] = Field(default_factory=list)
    links: list[str] = Field(default_factory=list)


def _one_or_many(value):
    """A mapping written where a list is expected is a list of one."""
    return [value] if isinstance(value, dict) else value


class Sanction(Window):
    """Close every link, supply, storage and demand whose `owner` names one of `owners`.

    `match: word` (default) finds the name as a whole word, ignoring case, anywhere in the
    owner text, so a co-owner or an operator written beside others is caught ("Transneft" matches
    "KazTransOil (Transneft beyond the border)" but not "Gomeltransneft"); `match: exact` needs
    the whole owner text. A window closes them only then (storages: whole year only)."""

    owners: list[str] = Field(min_length=1)
    match: Literal["word", "exact"] = "word"
    tables: list[Literal["links", "supplies", "storages", "demands"]] = Field(
        default_factory=lambda: ["links", "supplies", "storages", "demands"])


class PriceCap(StrictModel):
    """Sellers receive at most `price` (in `unit`, e.g. USD/bbl, USD/t, USD/1000 m3) from the
    demand `buyer`; the buyer's value is unchanged and it keeps value - cap (docs/model.md)."""

    buyer: str
    price: float = Field(ge=0)
    unit: str


class TargetSpec(StrictModel):
    id: str
    links: list[str]
    minimum: float = Field(ge=0)
    unit: str
    from_year: int | None = None  # the first planning year the target applies in


class ScenarioFile(StrictModel):
    """The whole file. Changes apply in this order: extends, build, block, sanction, set, scale,
    outages, add, price_cap, targets."""

    name: str = ""
    description: str = ""
    extends: str | None = None
    periods: int | None = Field(default=None, ge=1, le=365)
    build: list[str] = Field(default_factory=list)  # proposed links, supplies or storages
    block: Block = Field(default_factory=Block)
    sanction: list[Sanction] = Field(default_factory=list)
    set: list[SetChange] = Field(default_factory=list)
    scale: list[ScaleChange] = Field(default_factory=list)
    outages: list[Outage] = Field(default_factory=list)
    add: dict[TableName, list[dict]] = Field(default_factory=dict)
    price_cap: list[PriceCap] = Field(default_factory=list)
    targets: list[TargetSpec] = Field(default_factory=list)

    @field_validator("sanction", "price_cap", mode="before")
    @classmethod
    def _listed(cls, value):
        return _one_or_many(value)
    path: str = Field(default="", exclude=True)
    key_lines: dict[str, int] = Field(default_factory=dict, exclude=True)

    def line_of(self, key: str) -> int:
        """The line of a top-level key in the file (1 if unknown)."""
        return self.key_lines.get(key, 1)


def _line_of(data, loc: tuple) -> int:
    """The line of the deepest located mapping or list along a pydantic error location."""
    line, node = getattr(data, "line", 1), data
    for key in loc:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
        line = getattr(node, "line", line)
    return line


def read_scenario_file(path: str | Path) -> ScenarioFile:
    """Parse and check a scenario file's structure (not yet against a network)."""
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=LineLoader) or Located()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", exc)
        raise ScenarioError(f"{path}{where}: not valid YAML ({problem})") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read ({exc.strerror})") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}, line 1: a scenario is a mapping of keys to values")
    try:
        scenario = ScenarioFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            loc = tuple(p for p in e["loc"] if not str(p).startswith("function-"))
            where = ".".join(str(p) for p in loc)
            problems.append(f"line {_line_of(data, loc)}, {where}: {e['msg']}")
        raise ScenarioError(f"{path}: " + "; ".join(problems)) from None
    scenario.path = str(path)
    scenario.name = scenario.name or path.stem
    scenario.key_lines = dict(data.key_lines or {})
    return scenario
