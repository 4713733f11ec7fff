"""README table "batch_dependence": whether a query's vector and ranking depend on
the queries encoded with it, per variant, from bench/results/batch_dependence.json
(``python -m bench.experiments.batch_dependence``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.tables._source import load, source_note

RESULT = "bench/results/batch_dependence.json"
COLUMNS = (
    "variant",
    "lowest cosine, alone vs in a batch",
    "same top 1",
    "same top 10, in order",
    "mean cosine to fp32",
    "ms per query, batched",
    "ms per query, alone",
    "ms per paragraph",
)


def batch_dependence_table(root: Path) -> str:
    doc = load(root, RESULT)
    res = doc["results"]
    rows = [
        (
            name,
            f"{r['min_cos_alone_vs_batched']:.4f}",
            f"{r['same_top1']:.1%}",
            f"{r['same_top10']:.1%}",
            f"{r['mean_cos_to_fp32']:.4f}",
            f"{r['queries_batched_ms']:.2f} ({r['queries_batched_vs_int8']:.2f}x)",
            f"{r['queries_alone_ms']:.2f}",
            f"{r['passages_ms']:.1f} ({r['passages_vs_int8']:.2f}x)",
        )
        for name, r in res["results"].items()
    ]
    table = ["| " + " | ".join(COLUMNS) + " |", "|---" + "|---:" * (len(COLUMNS) - 1) + "|"]
    table += ["| " + " | ".join(row) + " |" for row in rows]
    note = (
        f"{res['queries']} XQuAD questions ({', '.join(res['langs'])}), each encoded alone "
        f"and as the first of a batch of {res['mates'] + 1} questions drawn at random; "
        f"the tops are dense rankings of {res['passages']} paragraphs (fp32 vectors, the "
        "same for every row). Times: best of 3, variants taking turns; (x): over int8."
    )
    return "\n".join(table) + "\n\n" + note + "\n\n" + source_note(RESULT, doc)


TABLES: dict[str, Callable[[Path], str]] = {"batch_dependence": batch_dependence_table}
