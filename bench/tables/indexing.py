"""README table: bulk indexing against the encoder alone, from
``bench/results/indexing.json`` (``python -m bench.indexing``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.tables._source import load, overload_note, source_note

FILE = "bench/results/indexing.json"
FILE_20K = "bench/results/indexing_20k.json"  # the 20,000 documents, shipped settings
GOAL = 0.15  # the share of wall time outside the encoder the pipeline must stay under
RATIO_GOAL = 0.95  # issue 14: the pipeline's passages/s against the encoder alone's


def cores(r: dict) -> int | None:
    text = str(r.get("machine", {}).get("cores", ""))  # "2 usable (2 online)"
    return int(text.split()[0]) if text[:1].isdigit() else None


def indexing(root: Path, file: str = FILE) -> str:
    doc = load(root, file)
    r = doc["results"]
    end_load = doc["provenance"]["machine"]["load_at_start"]
    b = r["bundle"]
    outside = r["outside_encoder_share"]
    ratio = r["pipeline_over_encoder_alone"]
    rows = [
        ("documents / passages indexed", f"{r['documents']:,} / {r['passages']:,}"),
        ("documents/s", f"{r['documents_per_s']:.1f}"),
        ("passages/s, pipeline", f"{r['passages_per_s']:.1f}"),
        (
            "passages/s, encoder alone (before / after the run)",
            f"{r['encoder_alone_per_s_before']:.1f} / {r['encoder_alone_per_s_after']:.1f}",
        ),
        (
            f"pipeline / encoder alone (goal ≥ {RATIO_GOAL})",
            f"**{ratio:.2f}** ({'met' if ratio >= RATIO_GOAL else 'not met'})",
        ),
        (
            f"wall time outside the encoder (goal < {GOAL:.0%})",
            f"**{outside:.1%}** ({'met' if outside < GOAL else 'not met'})",
        ),
        (
            "chunking + language detection alone (CPU ms/document)",
            f"{r['chunk_langid_cpu_ms_per_doc']:.2f}",
        ),
    ]
    if "stage_cpu_share" in r:  # CPU accounting (written since issue 14 #2)
        rows += [
            (
                "CPU ms per passage, pipeline / encoder alone",
                f"{r['cpu_ms_per_passage_pipeline']:.1f} / "
                f"{r['cpu_ms_per_passage_encoder_alone']:.1f} "
                f"(+{r['extra_cpu_over_encoder']:.0%})",
            ),
            (
                "pipeline CPU by stage thread",
                ", ".join(f"{k} {v:.0%}" for k, v in r["stage_cpu_share"].items()),
            ),
        ]
    if "attempts" in r:  # side-stage niceness, one pipeline run each, side by side
        rows.append(
            (
                "pipeline / encoder alone by side-stage niceness (runs in order)",
                ", ".join(
                    f"+{a['side_nice']}: {a['pipeline_over_encoder_alone']:.2f}"
                    for a in r["attempts"]
                ),
            )
        )
    knobs = ""
    # None: the pipeline's own default (PipelineConfig.side_nice), not "no niceness"
    nice = r.get("side_nice")
    knobs += f", side stages at niceness +{nice}" if nice is not None else (
        ", side stages at the pipeline's default niceness"
    )
    if "batch_tokens" in r:
        interval = r.get("switch_interval_s")
        knobs += f", encoder batches of ≤ {r['batch_tokens']:,} tokens, GIL switch interval " + (
            f"{interval * 1000:g} ms" if interval else "Python's default"
        )
    return "\n".join(
        [
            "| measure | value |",
            "|---|---:|",
            *[f"| {k} | {v} |" for k, v in rows],
            "",
            f"Corpus: {r['corpus']}; bundle {b['name']} ({b['variant']}, {b['threads']} threads), "
            f"encoder calls of {r['unit_passages']} passages{knobs}; load average "
            f"{r['load_at_start']:.1f} (1 min) at the start.",
            "",
            *[
                n + "\n"
                for n in [overload_note(max(r["load_at_start"], end_load[0]), cores(r))]
                if n
            ],
            source_note(
                file,
                doc,
                "load average at the end "
                + " / ".join(f"{v:.1f}" for v in doc["provenance"]["machine"]["load_at_start"])
                + " (1/5/15 min)",
            ),
        ]
    )


TABLES: dict[str, Callable[[Path], str]] = {
    "indexing": indexing,
    "indexing_20k": lambda root: indexing(root, FILE_20K),
}
