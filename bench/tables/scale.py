"""README table "scale": the default ranking and the dense path at each concurrency
over a big collection, from bench/results/scale.json (``python -m bench.scale``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from xsearch.provenance import read_result

RESULT = Path("bench") / "results" / "scale.json"
RESULT_100K = Path("bench") / "results" / "scale_100k.json"
RESULT_REPEAT = Path("bench") / "results" / "scale_repeat.json"
COLUMNS = ["ranking", "concurrency", "req/s", "p50 ms", "p99 ms", "server CPU ms/req",
           "search ms", "server RSS MB", "errors"]  # fmt: skip


def _row(lv: dict[str, Any]) -> list[str]:
    return [lv["ranking"], str(lv["concurrency"]), f"{lv['req_per_s']:.1f}",
            f"{lv['p50_ms']:.1f}", f"{lv['p99_ms']:.1f}", f"{lv['server_cpu_ms_per_req']:.1f}",
            f"{lv['search_ms']:.1f}", f"{lv['server_rss_mb']:.0f}", str(lv["errors"])]  # fmt: skip


def scale_table(root: Path, rel: Path = RESULT) -> str:
    doc = read_result(root / rel)
    res, prov = doc["results"], doc["provenance"]
    lines = ["| " + " | ".join(COLUMNS) + " |",
             "|---|" + "|".join("---:" for _ in COLUMNS[1:]) + "|"]  # fmt: skip
    lines += ["| " + " | ".join(_row(lv)) + " |" for lv in res["levels"]]
    st = res["store"]
    built = ""
    if st.get("reused"):
        rec = st.get("build_record") or {}
        built = (
            f" (the collection was built earlier and reused: build and optimize as recorded "
            f"by that build, commit {str(rec.get('commit'))[:10]})"
        )
    note = (
        f"`{prov['command']}` — {st['points']:,} points ({res['base_paragraphs']} real "
        f"paragraphs in {len(res['languages'])} languages, perturbed copies); build "
        f"{st['build_s']:.0f} s, optimize {st['optimize_s']:.0f} s{built}, disk "
        f"{st['disk_mb']:.0f} MB, "
        f"HNSW built: {'yes' if st['indexed'] else 'no'}; recall@10 HNSW vs exact: dense "
        f"{st['recall10_dense']:.3f}, centred {st['recall10_centered']:.3f}"
        f"{_load_recall(st.get('load_query_recall'))}; "
        f"{prov['machine']['cpu']}, load average {res['load_at_start']} at the start and "
        f"{res['load_at_end']} at the end (commit {str(prov['commit'])[:10]}"
        f"{', dirty tree' if prov['dirty'] else ''})."
    )
    if res.get("slices"):
        note += (
            f" The two rankings took turns at each level: {res['slices']} slices each, "
            f"ABBA order, {res['duration_s'] / res['slices']:.1f} s per slice."
        )
    return "\n".join(lines) + "\n\n" + note + _goals(res["levels"])


def _load_recall(r: dict[str, Any] | None) -> str:
    """The recall for real queries, where the run measured it (bench.scale
    ``load_query_recall``)."""
    if not r:
        return ""
    names = {"dense_k10": "dense", "centered_k10": "centred",
             "pool_centered_k200": "the default's 200-candidate pool",
             "dense_k10_query_language": "dense in the query's language"}  # fmt: skip
    sets = {"xquad_questions": "XQuAD questions about the base paragraphs",
            "tatoeba": "the load's Tatoeba queries (unrelated to the paragraphs)"}  # fmt: skip
    out = []
    for key, label in sets.items():
        if key not in r:
            continue
        parts = [f"{name} {r[key][k]['recall10']:.3f} ({r[key][k]['tenth_score_gap']:.4f})"
                 for k, name in names.items() if k in r[key]]  # fmt: skip
        out.append(f"{r[key]['queries']} {label}: " + ", ".join(parts))
    return (
        " for perturbed paragraph vectors as queries; for real queries (in brackets: "
        "how much lower the 10th score found is than the exact 10th) " + "; ".join(out)
    )


def _goals(levels: list[dict[str, Any]]) -> str:
    """The issue's ratios, computed here so the prose can quote them."""
    by = {(lv["ranking"], lv["concurrency"]): lv for lv in levels}
    c = sorted({lv["concurrency"] for lv in levels})
    if ("default", 1) not in by or ("dense", 1) not in by:
        return ""
    lo, hi = c[0], c[-1]
    ratio = by[("default", 1)]["p50_ms"] / by[("dense", 1)]["p50_ms"]
    out = f" Default over dense, p50 at c=1: {ratio:.2f}x"
    if hi != lo and ("default", hi) in by:
        tput = {r: by[(r, hi)]["req_per_s"] / by[(r, lo)]["req_per_s"]
                for r in ("default", "dense") if (r, hi) in by}  # fmt: skip
        out += (
            "; req/s at c="
            + f"{hi} over c={lo}: "
            + ", ".join(f"{r} {v:.2f}x" for r, v in tput.items())
        )
    return out + "."


TABLES: dict[str, Callable[[Path], str]] = {
    "scale": scale_table,
    "scale_100k": lambda root: scale_table(root, RESULT_100K),
    "scale_repeat": lambda root: scale_table(root, RESULT_REPEAT),
}
