"""The documentation site: the generated command reference is current, the README includes
resolve, and `mkdocs build --strict` succeeds with nothing in the site loading from the internet.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str):
    """A script of tools/ as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_command_reference_is_current():
    """docs/commands.md is what tools/cli_reference.py writes from the typer app."""
    page = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    assert page == _tool("cli_reference").render(), (
        "docs/commands.md is stale: run .venv/bin/python tools/cli_reference.py")


def test_command_reference_lists_every_command_and_option():
    """Independent of the generator: every command and option `--help` shows is on the page."""
    from typer.testing import CliRunner

    from corridor.cli import app

    page = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    runner = CliRunner()
    commands = ["run", "validate", "info", "units", "scenarios", "runs", "show", "compare",
                "report", "plan", "coalition", "security", "sweep", "sweep-report", "serve",
                "hydraulics solve", "hydraulics check", "audit verify", "audit keygen",
                "audit checkpoint"]
    for command in commands:
        assert f"## `corridor {command}`" in page, command
        result = runner.invoke(app, [*command.split(), "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        options = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", result.output)) - {"--help"}
        section = page.split(f"## `corridor {command}`")[1].split("\n## ")[0]
        missing = [o for o in options if f"`{o}" not in section and f" {o}" not in section]
        assert not missing, f"corridor {command}: {missing} not in docs/commands.md"


def test_check_mode_flags_a_stale_page(tmp_path, monkeypatch):
    tool = _tool("cli_reference")
    stale = tmp_path / "commands.md"
    stale.write_text("# Commands\n", encoding="utf-8")
    monkeypatch.setattr(tool, "TARGET", stale)
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    assert tool.main(["--check"]) == 1
    assert tool.main([]) == 0
    assert tool.main(["--check"]) == 0


def test_include_hook_takes_a_section_and_relinks_it():
    hooks = _tool("docs_hooks")
    text = hooks.include('<!-- include README.md "Benchmarks" -->')
    assert "optimizer_vs_pypsa.py" in text and "\n## " not in text
    whole = hooks.include("<!-- include benchmarks/README.md -->")
    assert not whole.startswith("# ") and "\n## " not in whole  # nested under the page
    assert "### `optimizer_vs_pypsa.py`" in whole
    readme = hooks.include('<!-- include README.md "The model" -->')
    assert "](model.md)" in readme and "](docs/" not in readme
    with pytest.raises(ValueError, match="no '## No such section' section"):
        hooks.include('<!-- include README.md "No such section" -->')
    with pytest.raises(ValueError, match="no file nothing.md"):
        hooks.include("<!-- include nothing.md -->")


def test_relink_points_outside_docs_at_the_path():
    hooks = _tool("docs_hooks")
    source = ROOT / "README.md"
    assert hooks._relink("[m](docs/model.md#demand-curves)", source) == \
        "[m](model.md#demand-curves)"
    assert hooks._relink("![map](docs/images/report-map.png)", source) == \
        "![map](images/report-map.png)"
    assert hooks._relink("[data](src/corridor/data/central_asia/README.md)", source) == \
        "data (`src/corridor/data/central_asia/README.md`)"
    assert hooks._relink("[web](https://highs.dev)", source) == "[web](https://highs.dev)"


@pytest.mark.skipif(shutil.which("mkdocs", path=str(Path(sys.executable).parent)) is None,
                    reason="mkdocs is not installed (the docs extra)")
def test_site_builds_strict_and_offline(tmp_path):
    """`make docs`: no warning, and no page loads a script, stylesheet, font or image from the
    internet (links to web pages are fine)."""
    mkdocs = Path(sys.executable).parent / "mkdocs"
    site = tmp_path / "site"
    result = subprocess.run([str(mkdocs), "build", "--strict", "--site-dir", str(site)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "WARNING" not in result.stderr, result.stderr[-3000:]
    remote = re.compile(r"<(?:script|img|iframe)[^>]*\bsrc=[\"']?(?:https?:)?//"
                        r"|<link[^>]*\bhref=[\"']?(?:https?:)?//[^>]*>"
                        r"|@import\s+(?:url\()?[\"']?(?:https?:)?//"
                        r"|url\([\"']?(?:https?:)?//", re.IGNORECASE)
    loads = [f"{p.relative_to(site)}: {m.group(0)[:80]}"
             for p in site.rglob("*") if p.suffix in {".html", ".css"}
             for m in remote.finditer(p.read_text(encoding="utf-8", errors="replace"))]
    assert not loads, "the site loads from the internet:\n" + "\n".join(loads)
    pages = {p.name for p in site.glob("*.html")}
    for page in ("index.html", "getting-started.html", "commands.html", "reference.html",
                 "benchmarks.html", "model.html", "planning.html", "data-contract.html"):
        assert page in pages, page
    model = (site / "model.html").read_text(encoding="utf-8")
    assert 'class="arithmatex"' in model  # equations kept as LaTeX, not mangled by Markdown
    reference = (site / "reference.html").read_text(encoding="utf-8")
    assert "read_network" in reference and "optimize" in reference
    benchmarks = (site / "benchmarks.html").read_text(encoding="utf-8")
    assert "planning_vs_pypsa.py" in benchmarks and "GasLib-582" in benchmarks


def test_reference_documents_every_public_name():
    """docs/reference.md renders each name of `corridor.__all__`, from the module defining it."""
    import corridor

    page = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    rendered = re.findall(r"^::: ([\w.]+)$", page, flags=re.MULTILINE)
    names = [path.rsplit(".", 1)[1] for path in rendered]
    assert sorted(names) == sorted(corridor.__all__), (
        "docs/reference.md and corridor.__all__ differ: "
        f"{sorted(set(names) ^ set(corridor.__all__))}")
    for path in rendered:
        module, name = path.rsplit(".", 1)
        assert getattr(corridor, name) is getattr(importlib.import_module(module), name), path
