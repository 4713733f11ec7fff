"""README table: the encoder alone, the bulk pipeline and concurrent API writers,
side by side, from ``bench/results/api_writes.json`` (``python -m bench.api_writes``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.tables._source import load, overload_note, source_note

FILE = "bench/results/api_writes.json"
PIPELINE_GOAL = 0.95  # bulk pipeline / encoder alone
API_GOAL = 0.8  # API writers / bulk pipeline

LABELS = {
    "pipeline": "bulk pipeline (`xsearch index`)",
    "api": "API writers (this code: encode outside the lock, shared encoder calls)",
    "api_baseline": "API writers (baseline: lock around chunk + encode + write)",
}


def _cores(r: dict) -> int | None:
    text = str(r.get("machine", {}).get("cores", ""))  # "2 usable (2 online)"
    return int(text.split()[0]) if text[:1].isdigit() else None


def _met(value: float, goal: float) -> str:
    return f"**{value:.2f}** ({'met' if value >= goal else 'not met'}, goal ≥ {goal:g})"


def _per_call(run: dict) -> str:
    """Passages per encoder call (recorded since issue 14's statistics work), or '–'."""
    n = run.get("passages_per_encoder_call")
    return "–" if n is None else f"{n:.0f}"


def api_writes(root: Path, rel: str = FILE) -> str:
    doc = load(root, rel)
    r = doc["results"]
    pipe = r["runs"]["pipeline"]["over_encoder_alone"]
    rows = []
    for key, run in r["runs"].items():
        against = {
            "pipeline": _met(pipe, PIPELINE_GOAL),
            "api": _met(r["api_over_pipeline"], API_GOAL),
        }.get(key)
        if key == "api_baseline" and r.get("api_baseline_over_pipeline") is not None:
            against = f"{r['api_baseline_over_pipeline']:.2f} (commit `{run['commit'][:10]}`)"
        rows.append(
            f"| {LABELS.get(key, key)} | {run['documents_per_s']:.1f} "
            f"| {run['encoder_alone_docs_per_s']:.1f} | {run['over_encoder_alone']:.2f} "
            f"| {against or ''} | {run['cpu_ms_per_doc']:.1f} "
            f"| {run['encoder_cpu_over_run_cpu']:.2f} | {_per_call(run)} | {run['errors']} |"
        )
    b = r["bundle"]
    note = overload_note(r["load_at_start"], _cores(r))
    return "\n".join(
        [
            "| run | documents/s | encoder alone around it (documents/s) "
            "| run / encoder alone | ratio to the goal's reference | CPU ms/document "
            "| encoder alone's CPU / run's CPU | passages per encoder call | failed requests |",
            "|---|---:|---:|---:|---|---:|---:|---:|---:|",
            *rows,
            "",
            f"{r['documents']:,} documents ({r['passages']:,} passages; {r['corpus']}); "
            f"{r['writers']} API writers of {r['batch']}-document batches through "
            f"`xsearch serve` on loopback; bundle {b['name']} ({b['variant']}, {b['threads']} "
            f"threads, encoder batches of {r.get('batch_tokens', 8192):,} tokens at most). "
            "The machine is shared and its load moves within minutes, so the encoder "
            "alone is timed between every two runs and each run is compared with the encoder "
            "timed right around it; only those ratios mean anything, not the absolute "
            "documents/s. The pipeline goal is against the encoder alone, the API goal against "
            "the pipeline (both as ratios to the encoder around them). CPU per document "
            "(the run's process: the bench for the pipeline, the server for the API) moves "
            "less with the load than documents/s, but it moves (processes on 2 shared cores "
            "slow each other's CPU time); the encoder alone takes "
            f"{r['encoder_alone_cpu_ms_per_doc']:.1f} "
            "CPU ms per document. Chunking + language "
            f"detection: {r['chunk_langid_cpu_ms_per_doc']:.2f} CPU ms per document, "
            f"{r['chunk_langid_share_of_encoder']:.0%} of the encoder's time for the same "
            "documents (run beside the encoder, on its own thread or before the lock).",
            "",
            *([note, ""] if note else []),
            source_note(rel, doc),
        ]
    )


def api_writes_small_batches(root: Path) -> str:
    """The same run with XSEARCH_BATCH_TOKENS=512 everywhere (encoder alone included)."""
    return api_writes(root, SMALL)


SMALL = "bench/results/api_writes_batch512.json"
TABLES: dict[str, Callable[[Path], str]] = {"api_writes": api_writes}
if Path(__file__).resolve().parents[2].joinpath(SMALL).is_file():
    TABLES["api_writes_batch512"] = api_writes_small_batches
