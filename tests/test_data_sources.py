"""Every row of the bundled network says where its figures come from.

A row of nodes, links, supplies, demands, storages, contracts, paths or groups must name in
`source` at least one key of the bundled `sources.csv` (bare `KEY` or, in the region facts'
text, `Title (year) [KEY]`), and every key it names must be there. Two keys are not citations:
`KNOWLEDGE` (a compiler's figure from memory) and `CORRIDOR_EST` (this dataset's own estimate).
A row citing only those must carry an estimate note with its reason in `estimate` (nodes:
`notes`): the word "estimate" (or "derived"/"approximate") and at least `MIN_REASON_WORDS`
words after it. A row that cites `KNOWLEDGE` next to other keys must still say which figure is
from memory (`memory`, `recalled`, `not re-checked` or `not verified` in the same column).
Failures name the file, the row id and the column.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "corridor" / "data" / "central_asia"
TABLES = ("nodes", "links", "supplies", "demands", "storages", "contracts", "paths", "groups")
NOT_CITATIONS = {"KNOWLEDGE", "CORRIDOR_EST"}
MIN_REASON_WORDS = 5
MEMORY = re.compile(r"memory|recalled|not re-checked|not verified", re.I)
REASON = re.compile(r"\b(estimate[ds]?|ESTIMATE|derived|approximate)\b\W*(.*)", re.I | re.S)


def source_keys(text: str) -> list[str]:
    """Keys named in a `source` cell: bracketed `[KEY]` (region text) and bare `KEY` parts."""
    keys = re.findall(r"\[([A-Z0-9_]+)\]", text)
    keys += [p.strip() for p in text.split(";") if re.fullmatch(r"[A-Z0-9_]+", p.strip())]
    return list(dict.fromkeys(keys))


def has_reason(note: str) -> bool:
    """True when `note` holds an estimate marker followed by a reason of several words."""
    match = REASON.search(note or "")
    return bool(match) and len(re.findall(r"[A-Za-z0-9]+", match.group(2))) >= MIN_REASON_WORDS


def row_problems(table: str, row: pd.Series, known: set[str]) -> list[str]:
    """What is wrong with one row's provenance ('' list when nothing)."""
    where = f"{table}.csv row {row.get('id', '?')}"
    if table == "paths":
        where += f" ({row['year']})"
    text = str(row.get("source", "") or "").strip()
    if not text:
        return [f"{where}, column source: blank"]
    keys = source_keys(text)
    if not keys:
        return [f"{where}, column source: no source key in {text!r}"]
    unknown = [k for k in keys if k not in known]
    if unknown:
        return [f"{where}, column source: keys not in sources.csv: {unknown}"]
    column = "notes" if table == "nodes" else "estimate"
    note = str(row.get(column, "") or "")
    if set(keys) <= NOT_CITATIONS and not has_reason(note):
        return [f"{where}, column {column}: only {sorted(keys)} and no estimate note with its "
                f"reason"]
    if "KNOWLEDGE" in keys and not MEMORY.search(note):
        return [f"{where}, column {column}: cites KNOWLEDGE but does not say which figure is "
                f"from memory"]
    return []


def problems(folder: Path) -> list[str]:
    """Every provenance problem in the dataset folder's tables."""
    known = set(pd.read_csv(folder / "sources.csv", dtype=str, keep_default_na=False)["key"])
    found = []
    for table in TABLES:
        df = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
        assert "source" in df.columns, f"{table}.csv has no source column"
        for _, row in df.iterrows():
            found += row_problems(table, row, known)
    return found


def test_every_bundled_row_has_a_source_or_a_reasoned_estimate():
    found = problems(DATA)
    print(f"{len(found)} rows without a usable source:", *found, sep="\n  ")
    assert not found


@pytest.mark.parametrize(("source", "estimate", "ok"), [
    ("", "estimate: taken from a comparable line of the same age", False),
    ("CORRIDOR_EST", "", False),
    ("KNOWLEDGE", "from memory", False),
    ("KNOWLEDGE; CORRIDOR_EST", "estimate: two", False),
    ("NO_SUCH_KEY", "estimate: a long enough reason for the figure", False),
    ("Some title (2020) [NO_SUCH_KEY]", "", False),
    ("CORRIDOR_EST", "ESTIMATE: half of the design capacity, the line is in poor repair", True),
    ("KNOWN_KEY", "", True),
    ("KNOWN_KEY; KNOWLEDGE", "capacity published", False),
    ("KNOWN_KEY; KNOWLEDGE", "length as recalled, not re-checked", True),
    ("Some title (2020) [KNOWN_KEY]; CORRIDOR_EST", "", True),
])
def test_the_check_rejects_what_it_should(source, estimate, ok):
    row = pd.Series({"id": "X1", "source": source, "estimate": estimate})
    found = row_problems("links", row, {"KNOWN_KEY", "KNOWLEDGE", "CORRIDOR_EST"})
    assert (not found) == ok, found


def test_a_blank_source_in_a_copied_table_fails(tmp_path):
    for name in [*TABLES, "sources"]:
        (tmp_path / f"{name}.csv").write_bytes((DATA / f"{name}.csv").read_bytes())
    links = pd.read_csv(tmp_path / "links.csv", dtype=str, keep_default_na=False)
    links.loc[0, "source"] = ""
    links.to_csv(tmp_path / "links.csv", index=False)
    found = problems(tmp_path)
    assert any(f"links.csv row {links.loc[0, 'id']}, column source: blank" in p for p in found)
