"""README table of the write path (issue 12): chunking by token offsets vs per sentence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from xsearch.provenance import read_result


def chunking(root: Path) -> str:
    doc = read_result(root / "bench" / "results" / "chunking.json")
    res = doc["results"]
    lines = [
        "| language | text | passages per sentence / by offsets | tokenizer calls "
        "per sentence / by offsets | speed-up |",
        "|---|---:|---:|---:|---:|",
    ]
    for lang, row in res["langs"].items():
        a, b = row["per_sentence"], row["offsets"]
        lines.append(
            f"| {lang} | {row['chars'] / 1000:,.0f} k chars ({row.get('text', '?')}) "
            f"| {a['passages']} / {b['passages']} "
            f"| {a['tokenizer_calls']:,} / {b['tokenizer_calls']:,} | {row['speedup']:.1f}x |"
        )
    det = res.get("language_detection")
    if det:
        lines.append("")
        lines.append(
            f"Splitting {det['chars'] / 1000:,.0f} k chars of English into passages takes "
            f"{det['detection_factor']:.1f}x as long when each passage's language is "
            "detected as when the document's language is given."
        )
    command = doc["provenance"].get("command")
    if isinstance(command, list):
        command = " ".join(command)
    lines.append("")
    lines.append(
        f"Bundle {res['bundle']} ({res['max_tokens']}-token window), best of 2 runs each, "
        f"side by side: `{command}`."
    )
    return "\n".join(lines)


TABLES: dict[str, Callable[[Path], str]] = {"write-chunking": chunking}
