"""Helpers for the table modules: read a result file, and the line under each
table that says where its figures came from (command, commit, clean or not,
machine, load), so the caveats stay beside the figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xsearch.provenance import read_result


def load(root: Path, rel: str) -> dict[str, Any]:
    """The result file ``rel`` (relative to the repository root); FileNotFoundError if absent."""
    return read_result(root / rel)


def fmt_load(values: list[float] | float | None) -> str:
    if values is None:
        return "?"
    if isinstance(values, int | float):
        return f"{values:.1f}"
    return " / ".join(f"{v:.1f}" for v in values)


def source_note(rel: str, doc: dict[str, Any], load_note: str | None = None) -> str:
    """One italic line: file, command, commit (and whether the tree was clean), machine, load."""
    prov = doc["provenance"]
    m = prov.get("machine", {})
    commit = (prov.get("commit") or "unknown")[:10]
    tree = {True: "uncommitted changes", False: "clean tree"}.get(prov.get("dirty"), "tree ?")
    load = load_note or f"load average {fmt_load(m.get('load_at_start'))} (1/5/15 min)"
    return (
        f"_Source: `{rel}`, written by `{prov.get('command')}` at commit `{commit}` "
        f"({tree}) on {prov.get('created', '?')[:10]}; {m.get('cpu', '?')}, "
        f"{m.get('cores', '?')} cores, {load}._"
    )


def overload_note(load: float | None, cores: int | None) -> str | None:
    """A warning when the run's 1-minute load exceeded twice the cores: then the
    other work, not the code under test, set the absolute figures."""
    if load is None or not cores or load <= 2 * cores:
        return None
    return (
        f"**Overloaded machine**: load average {load:.1f} on {cores} cores during this run, "
        "so other work set the times and rates more than the code measured; compare "
        "only figures measured side by side, and rerun on a quiet machine before "
        "quoting absolute numbers."
    )
