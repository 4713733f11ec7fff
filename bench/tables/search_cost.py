"""README table "search_cost": the search step in-process, default ranking vs dense path,
lean candidates vs whole payloads, from bench/results/search_cost.json
(``python -m bench.search_cost``, 100k points) and search_cost_20k.json (20k)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.tables._source import load, source_note

RESULT = "bench/results/search_cost.json"
RESULT_20K = "bench/results/search_cost_20k.json"
COLUMNS = ["ranking", "path", "p50 ms", "p99 ms", "mean ms",
           "store calls, ms per search (calls per search)", "Python ms"]  # fmt: skip


def _calls(v: dict[str, Any]) -> str:
    calls = v["store_ms_per_search"]
    count = v.get("store_calls_per_search") or {}
    return ", ".join(
        f"{n} {ms:.2f}" + (f" ({count[n]:.2f})" if n in count else "")
        for n, ms in sorted(calls.items(), key=lambda t: -t[1])
    )


def _python(v: dict[str, Any]) -> str:
    return f"{v['python_ms_per_search']:.2f}" if "python_ms_per_search" in v else "-"


def _payloads(path: str) -> str:
    return {"lean": "now", "full": "before (whole payloads)"}.get(path, path)


def search_cost_table(root: Path, rel: str = RESULT) -> str:
    doc = load(root, rel)
    res = doc["results"]
    lines = ["| " + " | ".join(COLUMNS) + " |", "|---|---|---:|---:|---:|---|---:|"]
    lines += [
        f"| {v['ranking']} | {_payloads(v['path'])} | {v['p50_ms']:.2f} | {v['p99_ms']:.2f} "
        f"| {v['mean_ms']:.2f} | {_calls(v)} | {_python(v)} |"
        for v in res["variants"]
    ]
    r = res["ratios"]
    pool = ", ".join(f"{k} {v:.2f}" for k, v in res.get("fair_pool_query_ms", {}).items())
    same = ", ".join(f"{k} {v}" for k, v in res["identical_hits"].items())
    rmap = res.get("rank_map") or {}
    where = (
        "from the embedded store's in-memory id -> (doc_id, lang) map, no payload read"
        if rmap.get("kept")
        else "read from the payloads"
    )
    kept = (
        f" The map: {rmap['points']:,} points, filled in {rmap['fill_s']:.1f} s (once per "
        f"process and collection, at server start), {rmap['memory_mb']:.0f} MB "
        f"({rmap['bytes_per_point']} bytes per point)."
        if rmap.get("kept")
        else ""
    )
    # results written since the page is read with the keys a hit is made of carry the
    # Python share; older ones read whole payloads for the page
    page = (
        "the keys a hit is made of"
        if "python_ms_per_search" in res["variants"][0]
        else ("whole payloads")
    )
    plain = ("reads those keys with its hits" if page != "whole payloads"
             else "keeps whole payloads")  # fmt: skip
    note = (
        f"{res['passages']:,} points, {res['queries']} Tatoeba queries x {res['rounds']} "
        f'rounds, k={res["k"]}, the four variants interleaved query by query; "now": the '
        f"candidates carry doc_id and lang ({where}), {page} are read for the page's "
        "hits only "
        f'(a plain dense search, one query, {plain}); "before": whole payloads '
        "on every store query (`Searcher.full_payloads`). Default over "
        f"dense, p50: {r['default_over_dense_p50_lean']:.2f}x now, "
        f"{r['default_over_dense_p50_full']:.2f}x before (mean: "
        f"{r['default_over_dense_mean_lean']:.2f}x, {r['default_over_dense_mean_full']:.2f}x). "
        f"Now over before, p50: default {r['lean_over_full_p50_default']:.2f}x, dense "
        f"{r['lean_over_full_p50_dense']:.2f}x. Identical hits (now vs before, per search): "
        f"{same}. The fair pool's store query alone (centred, 200 hits), mean ms by the "
        f"payload it returns (doc_id+lang: {where.split(',')[0]}): {pool}.{kept} Load "
        f"average {res['load_at_start']} at the start, {res['load_at_end']} at the end."
    )
    return (
        "\n".join(lines) + "\n\n" + note + _fusions(res) + _gap(res) + "\n\n"
        + source_note(rel, doc)
    )  # fmt: skip


def _fusions(res: dict[str, Any]) -> str:
    """How the "now" path fused (runs since the fusion is done here)."""
    f = res.get("fusions")
    if not f:
        return ""
    out = (
        f' Hybrid fusions of the "now" path: {f["here"]} from the candidates\' own dense '
        f"order and one lexical query, {f['dense_query']} needed one more dense query "
        '(``xsearch/ranking/fusion.py``); "before" asks Qdrant for each fusion.'
    )
    if "differing_queries" in res:
        out += (
            f" Queries whose default hits differed between the paths: "
            f"{res['differing_queries']}; in {res['differing_dense_lists']} of them the two "
            "fusions started from different dense lists (the pool's query-language "
            "passages, one HNSW search, against Qdrant's filtered prefetch, another)."
        )
    return out


_GAP_ROWS = {
    "query": "the one dense/centred query (default: the 200-candidate fair pool, no payload; "
    "dense: a few times the page, with the hits' payloads)",
    "query_lexical": "the lexical query (query language: the 8-hit peek; since the fusion is "
    "done here, 200 hits, also the fusion's lexical list)",
    "query_hybrid": "the fused dense + lexical query in Qdrant (200 hits, query language; "
    "not asked since the fusion is done here)",
    "with_payloads": "the page's payloads (one retrieve of the page's hits)",
}


def _gap(res: dict[str, Any]) -> str:
    """Where each ms of the default ranking beyond the dense path goes (mean per search,
    the "now" rows): a table the prose can quote."""
    by = {(v["ranking"], v["path"]): v for v in res["variants"]}
    a, b = by.get(("default", "lean")), by.get(("dense", "lean"))
    if a is None or b is None or "python_ms_per_search" not in a:
        return ""
    rows = ["", "", "| default minus dense (mean ms per search) | ms | calls per search |",
            "|---|---:|---:|"]  # fmt: skip
    for call, what in _GAP_ROWS.items():
        ms = a["store_ms_per_search"].get(call, 0.0) - b["store_ms_per_search"].get(call, 0.0)
        n = (a.get("store_calls_per_search") or {}).get(call, 0.0)
        rows.append(f"| {what} | {ms:+.2f} | {n:.2f} |")
    py = a["python_ms_per_search"] - b["python_ms_per_search"]
    rows.append(f"| Python: ranking (turns, grouping, slots), hits, response | {py:+.2f} | |")
    rows.append(f"| **total** | **{a['mean_ms'] - b['mean_ms']:+.2f}** | |")
    fq = res.get("fused_query_ms")
    if fq and fq.get("queries"):
        rows += ["", f"The fused query alone, mean of {fq['queries']} queries with a language "
                 "in the collection and a word that is not a stop word: "
                 f"{fq['fused']:.2f} ms; its lexical prefetch alone (200 hits): "
                 f"{fq['lexical_only']:.2f} ms."]  # fmt: skip
    return "\n".join(rows)


TABLES: dict[str, Callable[[Path], str]] = {
    "search_cost": search_cost_table,  # 100k points
    "search_cost_20k": lambda root: search_cost_table(root, RESULT_20K),
}
