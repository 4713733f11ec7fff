"""README table: bulk indexing against the encoder alone, from
``bench/results/indexing.json`` (``python -m bench.indexing``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.tables._source import load, overload_note, source_note

FILE = "bench/results/indexing.json"
GOAL = 0.15  # the share of wall time outside the encoder the pipeline must stay under


def cores(r: dict) -> int | None:
    text = str(r.get("machine", {}).get("cores", ""))  # "2 usable (2 online)"
    return int(text.split()[0]) if text[:1].isdigit() else None


def indexing(root: Path) -> str:
    doc = load(root, FILE)
    r = doc["results"]
    end_load = doc["provenance"]["machine"]["load_at_start"]
    b = r["bundle"]
    outside = r["outside_encoder_share"]
    rows = [
        ("documents / passages indexed", f"{r['documents']:,} / {r['passages']:,}"),
        ("documents/s", f"{r['documents_per_s']:.1f}"),
        ("passages/s, pipeline", f"{r['passages_per_s']:.1f}"),
        (
            "passages/s, encoder alone (before / after the run)",
            f"{r['encoder_alone_per_s_before']:.1f} / {r['encoder_alone_per_s_after']:.1f}",
        ),
        ("pipeline / encoder alone", f"**{r['pipeline_over_encoder_alone']:.2f}**"),
        (
            f"wall time outside the encoder (goal < {GOAL:.0%})",
            f"**{outside:.1%}** ({'met' if outside < GOAL else 'not met'})",
        ),
        (
            "chunking + language detection alone (CPU ms/document)",
            f"{r['chunk_langid_cpu_ms_per_doc']:.2f}",
        ),
    ]
    return "\n".join(
        [
            "| measure | value |",
            "|---|---:|",
            *[f"| {k} | {v} |" for k, v in rows],
            "",
            f"Corpus: {r['corpus']}; bundle {b['name']} ({b['variant']}, {b['threads']} threads), "
            f"encoder calls of {r['unit_passages']} passages; load average "
            f"{r['load_at_start']:.1f} (1 min) at the start.",
            "",
            *[
                n + "\n"
                for n in [overload_note(max(r["load_at_start"], end_load[0]), cores(r))]
                if n
            ],
            source_note(
                FILE,
                doc,
                "load average at the end "
                + " / ".join(f"{v:.1f}" for v in doc["provenance"]["machine"]["load_at_start"])
                + " (1/5/15 min)",
            ),
        ]
    )


TABLES: dict[str, Callable[[Path], str]] = {"indexing": indexing}
