"""The data contract: which tables a network has, their columns, types and defaults.

One place says what a network folder may contain, so the reader, the validator and the writer
agree. Quantities given with a unit column are converted to base units on reading; the stored
table keeps the base unit in that column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NUMBER = "number"
TEXT = "text"


@dataclass(frozen=True)
class Column:
    """One column of a table: its type, its default when absent, and a quantity's unit column."""

    name: str
    kind: str = TEXT
    default: object = ""
    unit_column: str | None = None  # quantity column converted with the unit named in this column
    per_time: bool = True  # a rate (per day) rather than an amount
    minimum: float | None = None  # smallest allowed value (inclusive), if any
    below: float | None = None  # values must be strictly below this, if set


@dataclass(frozen=True)
class Table:
    """A table of the network folder: its file, required and optional columns."""

    name: str
    required: tuple[Column, ...]
    optional: tuple[Column, ...] = field(default_factory=tuple)
    mandatory_file: bool = True
    key: tuple[str, ...] = ("id",)  # columns whose values together name a row once

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.required + self.optional

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


NaN = float("nan")

# A proposed asset as an investment decision for `corridor plan` (docs/planning.md): overnight
# capex (USD), lifetime (years), fixed O&M (USD/yr), first year it may operate, years from the
# first planning year until it can, and whether it is all-or-nothing or may be built in part.
PROJECT_COLUMNS = (
    Column("capex", NUMBER, NaN, minimum=0.0), Column("lifetime", NUMBER, NaN, minimum=1.0),
    Column("fixed_om", NUMBER, 0.0, minimum=0.0), Column("earliest_year", NUMBER, NaN),
    Column("lead_time", NUMBER, 0.0, minimum=0.0), Column("expansion", TEXT, "binary"),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "nodes",
            (Column("id"), Column("carrier")),
            (Column("name"), Column("country"), Column("kind"),
             Column("lat", NUMBER, NaN), Column("lon", NUMBER, NaN),
             Column("height_m", NUMBER, NaN),
             Column("pressure_min_bar", NUMBER, NaN), Column("pressure_max_bar", NUMBER, NaN)),
        ),
        Table(
            "links",
            (Column("id"), Column("from"), Column("to"),
             Column("capacity", NUMBER, unit_column="unit", minimum=0.0), Column("unit")),
            (Column("name"), Column("carrier"),
             Column("reverse_capacity", NUMBER, 0.0, unit_column="unit", minimum=0.0),
             Column("tariff", NUMBER, 0.0, minimum=0.0),
             Column("loss", NUMBER, 0.0, minimum=0.0, below=1.0),
             Column("status", TEXT, "operating"), Column("kind"),
             Column("length_km", NUMBER, NaN, minimum=0.0), Column("diameter_mm"),
             Column("roughness_mm", NUMBER, NaN, minimum=0.0),
             Column("country"), Column("owner"),
             Column("build_cost", NUMBER, 0.0, minimum=0.0), Column("profile"), Column("source"),
             Column("segments"), *PROJECT_COLUMNS),
        ),
        Table(
            "supplies",
            (Column("id"), Column("node"),
             Column("capacity", NUMBER, unit_column="unit", minimum=0.0), Column("unit")),
            (Column("cost", NUMBER, 0.0), Column("country"), Column("profile"), Column("source"),
             Column("owner"), Column("status", TEXT, "operating"), *PROJECT_COLUMNS),
        ),
        Table(
            "demands",
            (Column("id"), Column("node"),
             Column("amount", NUMBER, unit_column="unit", minimum=0.0), Column("unit")),
            (Column("value", NUMBER, NaN, minimum=0.0), Column("country"), Column("profile"),
             Column("market", TEXT, "domestic"), Column("source"),
             Column("price", NUMBER, NaN, minimum=0.0),
             Column("elasticity", NUMBER, NaN, below=0.0),
             Column("regulated_price", NUMBER, NaN, minimum=0.0), Column("owner"),
             # a price cap on what sellers receive from this buyer (USD per base unit): the LP
             # values the demand at min(value, cap), the buyer keeps the rest (docs/model.md)
             Column("price_cap", NUMBER, NaN, minimum=0.0)),
        ),
        Table(
            "storages",
            (Column("id"), Column("node"),
             Column("volume", NUMBER, unit_column="volume_unit", per_time=False, minimum=0.0),
             Column("volume_unit"),
             Column("rate", NUMBER, unit_column="rate_unit", minimum=0.0), Column("rate_unit")),
            (Column("initial", NUMBER, 0.5, minimum=0.0, below=1.0 + 1e-12),
             Column("final", NUMBER, NaN, minimum=0.0, below=1.0 + 1e-12),
             Column("cost", NUMBER, 0.0, minimum=0.0), Column("country"), Column("source"),
             Column("owner"), Column("status", TEXT, "operating"), *PROJECT_COLUMNS),
            mandatory_file=False,
        ),
        Table(
            "targets",
            (Column("id"), Column("links"),
             Column("minimum", NUMBER, unit_column="unit", minimum=0.0), Column("unit")),
            (Column("source"), Column("from_year", NUMBER, NaN)),
            mandatory_file=False,
        ),
        # Price bands of a demand (what its buyers pay at most) or a supply (its marginal cost);
        # a demand or supply with bands uses them instead of amount/value or capacity/cost.
        Table(
            "curves",
            (Column("id"), Column("band", NUMBER, minimum=1.0),
             Column("quantity", NUMBER, unit_column="unit", minimum=0.0), Column("unit"),
             Column("price", NUMBER, minimum=0.0)),
            (Column("source"),),
            mandatory_file=False,
            key=("id", "band"),
        ),
        # Bilateral contracts: a volume band the optimiser must respect and a price that moves
        # money between seller and buyer (docs/model.md, "Contracts").
        Table(
            "contracts",
            (Column("id"), Column("seller"), Column("buyer"), Column("price", NUMBER, minimum=0.0),
             Column("min", NUMBER, unit_column="unit", minimum=0.0),
             Column("max", NUMBER, unit_column="unit", minimum=0.0), Column("unit")),
            (Column("links"), Column("per", TEXT, "year"),
             Column("take_or_pay", NUMBER, 0.0, minimum=0.0, below=1.0 + 1e-12),
             Column("source")),
            mandatory_file=False,
        ),
        # How demands, markets and supplies change over a planning horizon: a `factor` on the
        # base-year quantity or an `amount` (in `unit`), interpolated between listed years.
        Table(
            "paths",
            (Column("id"), Column("year", NUMBER)),
            (Column("factor", NUMBER, NaN, minimum=0.0),
             Column("amount", NUMBER, NaN, unit_column="unit", minimum=0.0), Column("unit"),
             Column("source")),
            mandatory_file=False,
            key=("id", "year"),
        ),
        # Relations between projects: `exclusive` (at most one is ever built) or `requires` (the
        # first operates only when every other one does).
        Table(
            "groups",
            (Column("id"), Column("kind"), Column("projects")),
            (Column("source"),),
            mandatory_file=False,
        ),
    )
}
GROUP_KINDS = ("exclusive", "requires")
EXPANSIONS = ("binary", "continuous")
CONTRACT_PERIODS = ("year", "period")

STATUSES = ("operating", "proposed", "under_construction")
BUILT_STATUSES = ("operating",)
# A domestic demand left unmet is a shortage; an export market left unsupplied is unsold headroom.
MARKETS = ("domestic", "export")
WORLD = "WORLD"  # the buyer at an export market whose demand names no country
