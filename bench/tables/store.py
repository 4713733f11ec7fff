"""README table: the embedded store (Qdrant Edge) against numpy brute force,
from ``bench/results/store.json`` (``python -m bench.store``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.tables._source import fmt_load, load, overload_note, source_note

FILE = "bench/results/store.json"
CASES = [
    ("exact", "exact"),
    ("exact_lang", "exact + language filter"),
    ("hnsw", "HNSW (m={m}, ef={ef})"),
    ("hnsw_lang", "HNSW + language filter"),
]


def ratio(x: float) -> str:
    return f"{x:.2f}×" if x >= 0.1 else f"{x:.3f}×"  # two significant digits below 0.1


def store(root: Path) -> str:
    doc = load(root, FILE)
    res = doc["results"]
    p = res["params"]
    lines = [
        "| case | numpy p50 | Edge p50 / p99 | Edge / numpy (p50) | recall@10 |",
        "|---|---:|---:|---:|---:|",
    ]
    notes = []
    for size in res["sizes"]:
        n = f"{size['n'] // 1000}k" if size["n"] >= 1000 else str(size["n"])
        for key, label in CASES:
            c = size["cases"][key]
            lines.append(
                f"| {n} synthetic, {label.format(m=p['m'], ef=p['ef'])} "
                f"| {c['numpy_p50_ms']:.1f} ms "
                f"| {c['edge_p50_ms']:.2f} / {c['edge_p99_ms']:.2f} ms "
                f"| {ratio(c['edge_over_numpy_p50'])} | {c['recall_at_10']:.3f} |"
            )
        notes.append(
            f"{n}: insert rate {size['insert_points_per_s']:,.0f} points/s through the Python "
            f"binding, HNSW build (optimize) {size['optimize_s']:.0f} s, the language filter "
            f"keeps {size['lang_filter_share']:.0%} of the points on average"
        )
    load_note = (
        f"load average {fmt_load(doc['provenance']['machine'].get('load_at_start'))} "
        "(1/5/15 min) at the end of the run"
    )
    end_load = doc["provenance"]["machine"].get("load_at_start") or []
    cores = doc["provenance"]["machine"].get("cores")
    if "load_at_start" in res:  # recorded by runs after the first committed one
        load_note = f"load average {fmt_load(res['load_at_start'])} at the start, " + load_note
    return "\n".join(
        [
            *lines,
            "",
            f"{p['dim']}-d vectors, top {p['k']}, {p['queries']} queries per case. "
            + "; ".join(notes)
            + ".",
            "",
            *[n + "\n" for n in [overload_note(max(end_load[:1] or [0]), cores)] if n],
            source_note(FILE, doc, load_note),
        ]
    )


TABLES: dict[str, Callable[[Path], str]] = {"store": store}
