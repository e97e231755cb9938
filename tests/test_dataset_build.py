"""The bundled network is exactly what the dataset builder makes from files in this repository.

`tools/build_central_asia.py` reads the sourced facts in `tools/sources/region/` and the
assumptions in `tools/central_asia_assumptions.yaml`; rebuilt into a temporary folder (with the
calibration run, whose table is part of the dataset README), every file must equal the committed
`src/corridor/data/central_asia/` byte for byte. Scenarios and sweeps are written by hand.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HAND_WRITTEN = {"scenarios", "sweeps"}
FACTS = ("nodes.csv", "links.csv", "supply.csv", "demand.csv", "flows.csv", "sources.csv")


@pytest.fixture(scope="module")
def builder():
    """The builder script as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location("build_central_asia",
                                                  ROOT / "tools" / "build_central_asia.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def built_files(folder: Path) -> set[str]:
    """Paths (relative, posix) of the files the builder owns in a dataset folder: all but the
    hand-written scenarios and sweeps, except the earlier base years it writes there
    (scenarios/base-YEAR.yaml, from the region's years.csv)."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.relative_to(folder).parts
            and (not HAND_WRITTEN & set(p.relative_to(folder).parts)
                 or re.fullmatch(r"scenarios/base-\d{4}\.yaml", p.relative_to(folder).as_posix()))}


def differences(built: Path, committed: Path) -> list[str]:
    """One message per file that is missing, extra, or not byte-identical (with a short diff)."""
    ours, theirs = built_files(built), built_files(committed)
    found = [f"{name}: committed but not built" for name in sorted(theirs - ours)]
    found += [f"{name}: built but not committed" for name in sorted(ours - theirs)]
    for name in sorted(ours & theirs):
        new, old = (built / name).read_bytes(), (committed / name).read_bytes()
        if new != old:
            diff = difflib.unified_diff(old.decode(errors="replace").splitlines(),
                                        new.decode(errors="replace").splitlines(),
                                        "committed", "rebuilt", n=0, lineterm="")
            found.append(f"{name} differs:\n" + "\n".join(list(diff)[:12]))
    return found


def test_builder_reads_only_files_inside_the_repository(builder):
    for path in (builder.DEFAULT_REGION, builder.DEFAULT_ASSUMPTIONS, builder.DEFAULT_OUT):
        assert path.resolve().is_relative_to(ROOT), path
    for name in (*FACTS, "README.md"):
        assert (builder.DEFAULT_REGION / name).is_file(), name


def test_rebuild_equals_the_committed_dataset_byte_for_byte(builder, tmp_path):
    out = tmp_path / "central_asia"
    builder.build(builder.DEFAULT_REGION, builder.DEFAULT_ASSUMPTIONS, out)
    assert built_files(out) >= {"nodes.csv", "links.csv", "network.yaml", "README.md"}
    problems = differences(out, builder.DEFAULT_OUT)
    assert not problems, ("the committed dataset is not what tools/build_central_asia.py builds; "
                          "rebuild it and commit the result:\n" + "\n".join(problems))


def test_a_changed_fact_is_caught(builder, tmp_path):
    """The comparison can fail: one capacity changed in the facts makes links.csv differ."""
    region = Path(shutil.copytree(builder.DEFAULT_REGION, tmp_path / "region"))
    links = region / "links.csv"
    text = links.read_text(encoding="utf-8")
    changed = re.sub(r"^(G01,(?:[^,]*,){6})([0-9.]+),", r"\g<1>99,", text, count=1, flags=re.M)
    assert changed != text
    links.write_text(changed, encoding="utf-8")
    out = tmp_path / "central_asia"
    builder.build(region, builder.DEFAULT_ASSUMPTIONS, out, run=False)
    problems = differences(out, builder.DEFAULT_OUT)
    assert any(p.startswith("links.csv differs") for p in problems)
    assert not any(p.startswith("nodes.csv") for p in problems)


def test_nothing_cites_a_file_outside_the_repository():
    """Code, docs and data point at files in this repository only (docs/ holds the design)."""
    outside = re.compile(r"shared/data|\.\./shared|DESIGN\.md")
    roots = [ROOT / d for d in ("src", "tools", "tests", "docs", "benchmarks")]
    files = [p for r in roots for p in r.rglob("*") if p.is_file()]
    files += [ROOT / "README.md", ROOT / "Makefile", ROOT / "pyproject.toml"]
    hits = []
    for path in files:
        if path.suffix not in {".py", ".md", ".yaml", ".csv", ".toml", ".txt", ".html", ""}:
            continue
        if path == Path(__file__) or any(p == "__pycache__" or p.endswith(".egg-info")
                                          for p in path.parts):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        hits += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in outside.finditer(text)]
    assert not hits, "references to files outside the repository:\n" + "\n".join(hits)
