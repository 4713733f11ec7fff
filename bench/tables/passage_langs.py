"""README table: passage languages, the old path (langdetect on every long passage)
vs the shortcut (a language already detected in the document, confirmed by the
n-gram model), from bench/results/passage_langs.json (python -m bench.chunking --langs)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.tables._source import load, source_note

REL = "bench/results/passage_langs.json"


def passage_langs(root: Path) -> str:
    doc = load(root, REL)
    res = doc["results"]
    lines = [
        "| document | passages | detection s/MB before | now | speed-up "
        "| same language as before |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in res["docs"].items():
        kind = "mixed: " if row["mixed"] else ""
        name = name.replace("|", " then ")  # (a "|" would split the Markdown cell)
        lines.append(
            f"| {kind}{name} | {row['passages']} | {row['before_s_per_mb']:.2f} "
            f"| {row['now_s_per_mb']:.2f} | {row['speedup']:.2f}x | {row['agreement']:.1%} |"
        )
    lines.append("")
    lines.append(
        f"{res['kb']} KB of XQuAD paragraphs per document (`+`: paragraphs alternating, "
        "`then`: two halves), cut into passages by the bundle's tokenizer; both paths on "
        "the same passages, best of 3, alternating. " + source_note(REL, doc)
    )
    return "\n".join(lines)


TABLES: dict[str, Callable[[Path], str]] = {"passage-langs": passage_langs}
