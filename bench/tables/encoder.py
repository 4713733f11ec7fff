"""README table "encoder": every encoder attempt of bench/results/encoder.json
(written by ``python -m bench.encoder``), measured interleaved in one run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from xsearch.provenance import read_result

RESULT = Path("bench") / "results" / "encoder.json"
COLUMNS = ["candidate", "sentences/s", "× torch", "CPU × torch", "256-token passages/s",
           "× torch", "CPU × torch", "× int8 (sentences / passages)", "Tatoeba acc@1",
           "Δ vs fp32", "model MB", "peak RSS MB"]  # fmt: skip


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"


def _row(r: dict[str, Any]) -> list[str]:
    delta = r.get("tatoeba_delta_vs_fp32")
    return [
        r["label"],
        f"{r['sentences_per_s']:.1f}",
        _x(r["sentences_x_torch"]),
        _x(r.get("sentences_cpu_x_torch")),
        f"{r['passages_per_s']:.2f}",
        _x(r["passages_x_torch"]),
        _x(r.get("passages_cpu_x_torch")),
        f"{_x(r['sentences_x_int8'])} / {_x(r['passages_x_int8'])}",
        f"{r['tatoeba_acc']:.2f}" if "tatoeba_acc" in r else "n/a",
        "n/a" if delta is None else f"{delta:+.2f}",
        "n/a" if r["model_mb"] is None else f"{r['model_mb']:.0f}",
        f"{r['peak_rss_mb']:.0f}",
    ]


def encoder_table(root: Path) -> str:
    doc = read_result(root / RESULT)
    res, prov = doc["results"], doc["provenance"]
    lines = ["| " + " | ".join(COLUMNS) + " |",
             "|---|" + "|".join("---:" for _ in COLUMNS[1:]) + "|"]  # fmt: skip
    lines += ["| " + " | ".join(_row(r)) + " |" for r in res["rows"]]
    # bench.encoder records the load when it starts (results.machine); the
    # provenance header is taken when the file is written, at the end.
    start = res.get("machine", {}).get("load average (1 min) now", "?")
    note = (
        f"`{prov['command']}` — {res['workloads']['sentences']}; "
        f"{res['workloads']['passages']}; {prov['machine']['cpu']}, 2 threads per engine, "
        f"load average {start} at the start and {res['load_at_end']} at the end "
        f"(commit {str(prov['commit'])[:10]}{', dirty tree' if prov['dirty'] else ''}). "
        "× torch: texts/s over torch's, in wall time; CPU × torch: torch's CPU seconds per "
        "text over the candidate's (every thread of its process), which a neighbour's load "
        "moves least on this shared machine. Rows without a token budget use the default "
        f"(XSEARCH_BATCH_TOKENS={res.get('default_batch_tokens', 8192):,})."
    )
    return "\n".join(lines) + "\n\n" + note


TABLES: dict[str, Callable[[Path], str]] = {"encoder": encoder_table}
