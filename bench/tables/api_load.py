"""README table: the query API under load, from ``bench/results/api_load.json``
(``python -m bench.api_load``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.tables._source import fmt_load, load, overload_note, source_note

FILE = "bench/results/api_load.json"
BATCHED = "micro-batching"
SINGLE = "one query per call"
LABEL = {BATCHED: "micro-batching (default)", SINGLE: "one encoder call per query"}


def api_load(root: Path) -> str:
    doc = load(root, FILE)
    r = doc["results"]
    levels = r["levels"]
    lines = [
        "| server | concurrency | req/s | p50 | p99 | queries per encoder call "
        "| server CPU per request | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for lv in levels:
        lines.append(
            f"| {LABEL.get(lv['mode'], lv['mode'])} | {lv['concurrency']} | {lv['rps']:.0f} "
            f"| {lv['p50_ms']:.1f} ms | {lv['p99_ms']:.1f} ms | {lv['mean_batch']:.1f} "
            f"| {lv['cpu_ms']:.1f} ms | {lv['errors']} |"
        )
    by = {(lv["mode"], lv["concurrency"]): lv for lv in levels}
    cs = sorted({lv["concurrency"] for lv in levels if lv["mode"] == BATCHED})
    notes = []
    if len(cs) > 1:
        lo, hi = by[(BATCHED, cs[0])], by[(BATCHED, cs[-1])]
        ratio = hi["rps"] / lo["rps"]
        notes.append(
            f"Throughput at {cs[-1]} concurrent users is **{ratio:.2f}×** that at {cs[0]} "
            f"(goal ≥ 1.5×: {'met' if ratio >= 1.5 else 'not met'})"
        )
        single = by.get((SINGLE, cs[-1]))
        if single:
            notes.append(
                f"at {cs[-1]} users micro-batching gives **{hi['rps'] / single['rps']:.2f}×** "
                "the throughput of the same server with one encoder call per query, at "
                f"{hi['cpu_ms']:.1f} against {single['cpu_ms']:.1f} ms of server CPU per "
                "request (CPU time depends least on other work)"
            )
        notes.append(
            f"p50 at concurrency {cs[0]}: {lo['p50_ms']:.1f} ms "
            f"(goal < 15 ms: {'met' if lo['p50_ms'] < 15 else 'not met'})"
        )
    return "\n".join(
        [
            *lines,
            "",
            "; ".join(notes) + "." if notes else "",
            "",
            *_warn(max(r["load_at_start"], r["load_at_end"]), r.get("cores")),
            f"{r['passages']:,} passages, bundle {r['bundle']} ({r['variant']}), "
            f"balance={r['balance']}, {r['duration_s']:.0f} s measured per level, "
            f"{r['queries_in_pool']:,} distinct queries ({r['query_source']}); load average "
            f"(1 min) {fmt_load(r['load_at_start'])} at the start, "
            f"{fmt_load(r['load_at_end'])} at the end.",
            "",
            source_note(FILE, doc, "client and server on the same cores"),
        ]
    )


def _warn(load_avg: float, cores: int | None) -> list[str]:
    note = overload_note(load_avg, cores)
    return [note, ""] if note else []


TABLES: dict[str, Callable[[Path], str]] = {"api_load": api_load}
