"""README table "edge_gil": whether Qdrant Edge queries let other Python threads run,
from bench/results/edge_gil.json (``python -m bench.experiments.edge_gil``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.tables._source import load, source_note

RESULT = "bench/results/edge_gil.json"


def edge_gil_table(root: Path) -> str:
    doc = load(root, RESULT)
    res = doc["results"]
    lines = [
        "| work (one call) | ms per call | ms per call beside a Python thread | that thread's "
        "speed kept | 2 threads over 1 |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['work']} | {r['ms_per_call']:.2f} | {r['ms_per_call_beside_spinner']:.2f} "
        f"| {r['spin_kept']:.2f} | {r['two_thread_speedup']:.2f}x |"
        for r in res["rows"]
    ]
    note = (
        f"{res['points']:,} synthetic points (384-d, a language and words each), "
        f"{res['queries']} calls per measure; \"speed kept\": a pure-Python counting "
        "thread's rate while the main thread makes the calls, over its rate alone; "
        "\"2 threads over 1\": the same calls split over two threads. Work that releases "
        "the GIL keeps the thread at ~1 and runs ~2x on two threads (the control)."
    )
    return "\n".join(lines) + "\n\n" + note + "\n\n" + source_note(RESULT, doc)


TABLES: dict[str, Callable[[Path], str]] = {"edge_gil": edge_gil_table}
