"""Chunking a long document: one tokenizer call per sentence vs one tokenization
by offsets (issue 12 #4), side by side on the same text and the same tokenizer.

    python -m bench.chunking --bundle PATH [--kb 300] [--out bench/results/chunking.json]

Per language: seconds of each path (best of 2, alternating), passages, tokenizer
calls; the README table reports the ratio, never a bare time. Text: XQuAD
paragraphs when ../shared/data is present (tests.text.corpus), our sentences else.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from xsearch.provenance import write_result

LANGS = ["en", "ru", "ar", "hi", "zh", "th"]


class _Count:
    """The encoder's passage count alone (no offsets): the per-sentence path."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder
        self.calls = 0

    def __call__(self, text: str) -> int:
        self.calls += 1
        return self.encoder.count_tokens(text, "passage")


class _Offsets(_Count):
    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        self.calls += 1
        return self.encoder.token_offsets(text)


def run(bundle: Path, kb: int) -> dict[str, Any]:
    from tests.text.corpus import long_document, xquad_paragraphs
    from xsearch.encoder import Encoder
    from xsearch.text import split_passages

    enc = Encoder.load(bundle)
    out: dict[str, Any] = {"bundle": enc.name, "max_tokens": enc.max_seq_length, "langs": {}}
    for lang in LANGS:
        text = long_document(lang, kb * 1000)[: kb * 1000]
        source = "xquad" if xquad_paragraphs(lang) else "built-in sentences, repeated"
        row: dict[str, Any] = {"chars": len(text), "text": source}
        for _round in range(2):
            for name, counter in (("per_sentence", _Count(enc)), ("offsets", _Offsets(enc))):
                started = time.perf_counter()
                spans = split_passages(text, count_tokens=counter, max_tokens=enc.max_seq_length)
                seconds = time.perf_counter() - started
                best = row.get(name, {}).get("seconds")
                if best is None or seconds < best:
                    row[name] = {"seconds": round(seconds, 3), "passages": len(spans),
                                 "tokenizer_calls": counter.calls}  # fmt: skip
        row["speedup"] = round(row["per_sentence"]["seconds"] / row["offsets"]["seconds"], 2)
        out["langs"][lang] = row
        print(lang, row, file=sys.stderr)
    out["language_detection"] = _detection_share(enc, long_document("en", kb * 1000)[: kb * 1000])
    return out


def _detection_share(enc: Any, text: str) -> dict[str, Any]:
    """Where a long document's passage time goes: the same text split into passages
    with its language given (chunking only) and without (each passage detected)."""
    from xsearch.documents import Document
    from xsearch.text import document_passages

    row: dict[str, Any] = {"chars": len(text)}
    for name, lang in (("lang_given", "en"), ("detected", None)):
        doc = Document.from_dict({"id": "d", "text": text, **({"lang": lang} if lang else {})})
        started = time.perf_counter()
        passages = document_passages(
            doc, count_tokens=_Offsets(enc), max_tokens=enc.max_seq_length
        )
        row[name] = {"seconds": round(time.perf_counter() - started, 3), "passages": len(passages)}
    row["detection_factor"] = round(row["detected"]["seconds"] / row["lang_given"]["seconds"], 2)
    print("detection", row, file=sys.stderr)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--kb", type=int, default=300)
    ap.add_argument("--out", type=Path, default=Path("bench/results/chunking.json"))
    args = ap.parse_args()
    results = run(args.bundle, args.kb)
    write_result(args.out, results, command=["python", "-m", "bench.chunking", *sys.argv[1:]])


if __name__ == "__main__":
    main()
