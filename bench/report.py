"""README tables generated from committed result files.

Every module in ``bench/tables/`` (but ``_*.py`` helpers) exposes ``TABLES``: a
table name -> a function of the repository root that reads result files
(``bench/results/*.json``, ``docs/eval/*.json``) and returns Markdown. README.md
holds each table between ``<!-- BEGIN TABLE name -->`` and ``<!-- END TABLE name
-->``; this command fills them, or checks that they hold what the files give.

    python -m bench.report --readme     # rewrite README.md between the markers
    python -m bench.report --check      # exit 1 naming every table that disagrees
    python -m bench.report store        # print one table (or all: no name)

``--check`` also fails on a marker with no renderer, a renderer whose result
file is missing or unreadable, and a BEGIN marker without its END.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
Renderer = Callable[[Path], str]

BEGIN = re.compile(r"<!-- BEGIN TABLE ([\w.-]+) -->")
END = "<!-- END TABLE {name} -->"


class ReportError(Exception):
    """A table cannot be rendered; the message names the table and the fix."""


def discover(package: str = "bench.tables") -> dict[str, Renderer]:
    """Every ``TABLES`` entry of every module of ``package``; a name twice is an error."""
    pkg = importlib.import_module(package)
    tables: dict[str, Renderer] = {}
    owner: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue  # helpers shared by the table modules
        module = importlib.import_module(f"{package}.{info.name}")
        for name, fn in getattr(module, "TABLES", {}).items():
            if name in tables:
                raise ReportError(
                    f"table {name!r} is defined by both {owner[name]} and {module.__name__}: "
                    "rename one of them"
                )
            tables[name], owner[name] = fn, module.__name__
    return tables


def render(name: str, tables: dict[str, Renderer], root: Path) -> str:
    if name not in tables:
        raise ReportError(
            f"table {name!r}: the README has markers for it but no module in bench/tables/ "
            "renders it: add it to a module's TABLES or remove the markers"
        )
    try:
        return tables[name](root).strip()
    except FileNotFoundError as err:
        missing = Path(err.filename) if err.filename else None
        if missing is not None and missing.is_relative_to(root):
            missing = missing.relative_to(root)
        raise ReportError(
            f"table {name!r}: result file missing ({missing or err}): run the command "
            "named next to the table in the README and commit its result file"
        ) from err
    except (KeyError, ValueError, TypeError, IndexError) as err:
        raise ReportError(
            f"table {name!r}: its result file does not hold what the renderer reads "
            f"({type(err).__name__}: {err}): re-run the benchmark or fix the renderer"
        ) from err


@dataclass
class Filled:
    text: str
    names: list[str] = field(default_factory=list)  # every table the README holds, in order
    changed: list[str] = field(default_factory=list)  # tables whose body differs from the files
    problems: list[str] = field(default_factory=list)  # tables that could not be rendered


def fill(text: str, tables: dict[str, Renderer], root: Path) -> Filled:
    """``text`` with every marked table replaced by its rendering."""
    out: list[str] = []
    result = Filled(text)
    pos = 0
    for m in BEGIN.finditer(text):
        if m.start() < pos:
            continue  # a BEGIN inside a block already handled: reported below
        name = m.group(1)
        end_marker = END.format(name=name)
        end = text.find(end_marker, m.end())
        nested = BEGIN.search(text, m.end(), end if end >= 0 else len(text))
        if end < 0 or nested:
            result.problems.append(
                f"table {name!r}: no `{end_marker}` after its BEGIN marker: add it"
            )
            continue
        result.names.append(name)
        out.append(text[pos : m.end()])
        body = text[m.end() : end]
        try:
            new_body = "\n" + render(name, tables, root) + "\n"
        except ReportError as err:
            result.problems.append(str(err))
            new_body = body
        if new_body != body:
            result.changed.append(name)
        out.append(new_body)
        pos = end
    out.append(text[pos:])
    result.text = "".join(out)
    dupes = sorted({n for n in result.names if result.names.count(n) > 1})
    result.problems += [f"table {n!r}: its markers appear twice: keep one" for n in dupes]
    return result


def check(readme: Path, root: Path, tables: dict[str, Renderer] | None = None) -> list[str]:
    """Every way the README disagrees with the result files (empty: it agrees)."""
    filled = fill(readme.read_text(encoding="utf-8"), tables or discover(), root)
    return filled.problems + [
        f"table {n!r}: the README differs from its result file: run "
        "`python -m bench.report --readme` and commit README.md"
        for n in filled.changed
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = ap.add_mutually_exclusive_group()
    what.add_argument("--readme", action="store_true", help="rewrite the README's tables")
    what.add_argument("--check", action="store_true", help="exit 1 if the README disagrees")
    ap.add_argument("names", nargs="*", help="tables to print (default: all)")
    ap.add_argument("--root", type=Path, default=ROOT, help="repository root (result files)")
    ns = ap.parse_args(argv)
    readme = ns.root / "README.md"
    try:
        tables = discover()
    except ReportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if ns.check:
        problems = check(readme, ns.root, tables)
        for p in problems:
            print(f"error: {p}", file=sys.stderr)
        if not problems:
            print(f"{readme.name}: every table agrees with its result file")
        return 1 if problems else 0
    if ns.readme:
        filled = fill(readme.read_text(encoding="utf-8"), tables, ns.root)
        if filled.changed:
            readme.write_text(filled.text, encoding="utf-8")
        for p in filled.problems:
            print(f"error: {p}", file=sys.stderr)
        updated = ", ".join(filled.changed) or "none"
        print(f"{readme.name}: {len(filled.names)} tables, updated: {updated}")
        return 1 if filled.problems else 0
    try:
        for name in ns.names or sorted(tables):
            print(f"## {name}\n\n{render(name, tables, ns.root)}\n")
    except ReportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
