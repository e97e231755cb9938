"""MkDocs hook: include parts of the repository's Markdown files (README.md, benchmarks/README.md)
in the site's pages at build time, so figures are written once and never copied by hand.

A page asks for a file, or one `## ` section of it (its body, without the heading), with

    <!-- include benchmarks/README.md -->
    <!-- include README.md "Benchmarks" -->

A whole file is included without its `# ` title line (the page has its own), its headings one
level down.

The section is everything after the `## Benchmarks` heading (matched on the heading's start) up
to the next `## ` heading. Links in the included text are rewritten for the site: `docs/X` ->
`X`; links to other files of the repository become their path in code, since the site holds only
docs/; web links and anchors are left alone. A missing file or section fails the build.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_MARKER = re.compile(r'<!--\s*include\s+(\S+)(?:\s+"([^"]+)")?\s*-->')
_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")


def _section(text: str, title: str, source: str) -> str:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines)
                  if line.startswith("## ") and line[3:].strip().startswith(title)), None)
    if start is None:
        raise ValueError(f"docs include: {source} has no '## {title}' section")
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start + 1:end]).strip("\n")


def _demote(text: str) -> str:
    """Every heading one level down (outside fenced code), to nest under the page's section."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        lines.append("#" + line if not fenced and re.match(r"#{1,5} ", line) else line)
    return "\n".join(lines)


def _relink(text: str, source: Path) -> str:
    """Rewrite the relative links of `source` (a repository file) for a page in docs/."""

    def fix(match: re.Match) -> str:
        bang, label, target = match.groups()
        if re.match(r"^[a-z]+:|^#", target):
            return match.group(0)
        path, _, anchor = target.partition("#")
        resolved = (source.parent / path).resolve()
        try:
            inside = resolved.relative_to(ROOT / "docs")
        except ValueError:
            shown = resolved.relative_to(ROOT).as_posix()
            return label if bang else f"{label} (`{shown}`)"
        return f"{bang}[{label}]({inside.as_posix()}{'#' + anchor if anchor else ''})"

    return _LINK.sub(fix, text)


def include(markdown: str) -> str:
    """`markdown` with every include marker replaced by the text it names."""

    def replace(match: re.Match) -> str:
        name, title = match.groups()
        source = ROOT / name
        if not source.is_file():
            raise ValueError(f"docs include: no file {name} (relative to the repository root)")
        text = source.read_text(encoding="utf-8")
        if title:
            text = _section(text, title, name)
        else:  # a whole file: the page has its own title, the file's sections go below it
            if text.startswith("# "):
                text = text.split("\n", 1)[1]
            text = _demote(text)
        return _relink(text, source)

    return _MARKER.sub(replace, markdown)


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 (hook API)
    return include(markdown)


_INLINE = re.compile(r'(<span class="arithmatex">)\\\((.*?)\\\)(</span>)', re.DOTALL)
_BLOCK = re.compile(r'(<div class="arithmatex">)\\\[(.*?)\\\](</div>)', re.DOTALL)


def on_page_content(html: str, page, config, files) -> str:  # noqa: ARG001 (hook API)
    """Equations stay LaTeX source (no MathJax from a CDN): drop arithmatex's \\( \\) and
    \\[ \\] delimiters, which only a renderer needs; the CSS sets the formulas apart."""
    html = _INLINE.sub(r"\1\2\3", html)
    return _BLOCK.sub(lambda m: m.group(1) + m.group(2).strip() + m.group(3), html)
