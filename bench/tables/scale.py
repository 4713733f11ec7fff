"""README table "scale": the default ranking and the dense path at each concurrency
over a big collection, from bench/results/scale.json (``python -m bench.scale``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from xsearch.provenance import read_result

RESULT = Path("bench") / "results" / "scale.json"
COLUMNS = ["ranking", "concurrency", "req/s", "p50 ms", "p99 ms", "server CPU ms/req",
           "search ms", "server RSS MB", "errors"]  # fmt: skip


def _row(lv: dict[str, Any]) -> list[str]:
    return [lv["ranking"], str(lv["concurrency"]), f"{lv['req_per_s']:.1f}",
            f"{lv['p50_ms']:.1f}", f"{lv['p99_ms']:.1f}", f"{lv['server_cpu_ms_per_req']:.1f}",
            f"{lv['search_ms']:.1f}", f"{lv['server_rss_mb']:.0f}", str(lv["errors"])]  # fmt: skip


def scale_table(root: Path) -> str:
    doc = read_result(root / RESULT)
    res, prov = doc["results"], doc["provenance"]
    lines = ["| " + " | ".join(COLUMNS) + " |",
             "|---|" + "|".join("---:" for _ in COLUMNS[1:]) + "|"]  # fmt: skip
    lines += ["| " + " | ".join(_row(lv)) + " |" for lv in res["levels"]]
    st = res["store"]
    note = (
        f"`{prov['command']}` — {st['points']:,} points ({res['base_paragraphs']} real "
        f"paragraphs in {len(res['languages'])} languages, perturbed copies); build "
        f"{st['build_s']:.0f} s, optimize {st['optimize_s']:.0f} s, disk {st['disk_mb']:.0f} MB, "
        f"HNSW built: {'yes' if st['indexed'] else 'no'}; recall@10 HNSW vs exact: dense "
        f"{st['recall10_dense']:.3f}, centred {st['recall10_centered']:.3f}; "
        f"{prov['machine']['cpu']}, load average {res['load_at_start']} at the start and "
        f"{res['load_at_end']} at the end (commit {str(prov['commit'])[:10]}"
        f"{', dirty tree' if prov['dirty'] else ''})."
    )
    return "\n".join(lines) + "\n\n" + note


TABLES: dict[str, Callable[[Path], str]] = {"scale": scale_table}
