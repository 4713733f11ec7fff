"""Chunking a long document: one tokenizer call per sentence vs one tokenization
by offsets (issue 12 #4), side by side on the same text and the same tokenizer.

    python -m bench.chunking --bundle PATH [--kb 300] [--out bench/results/chunking.json]
    python -m bench.chunking --bundle PATH --langs [--kb 100] [--out OUT.json]

Per language: seconds of each path (best of 2, alternating), passages, tokenizer
calls; the README table reports the ratio, never a bare time. Text: XQuAD
paragraphs when ../shared/data is present (tests.text.corpus), our sentences else.

``--langs`` (to bench/results/passage_langs.json): the language of each
passage, the path before (langdetect on every long passage) and now (the
document's language taken by long passages in its script that the n-gram model
agrees with), side by side on the same passages: seconds per MB of text (best
of 3, alternating) and the share of passages given the same language, for long
XQuAD documents per language and mixed-language documents (paragraphs of two or
three languages alternating: "en+zh"; or two halves: "en|ru").
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
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


# Mixed documents: paragraphs alternate between these languages.
MIXES = [("en", "zh"), ("en", "ru"), ("es", "de"), ("en", "ar", "hi"), ("en", "es", "de")]
HALVES = [("en", "ru"), ("es", "de"), ("en", "zh")]
XQUAD_LANGS = ["en", "es", "de", "el", "ru", "tr", "ar", "vi", "th", "zh", "hi", "ro"]


def _languages_before(doc: Any, texts: list[str]) -> list[Any]:
    """The passage-language path before this change (a frozen copy): every long
    passage detected on its own; short or undecided ones take the document's."""
    from xsearch.text.langcodes import UNDETERMINED
    from xsearch.text.langid import detect_language
    from xsearch.text.passages import DOC_DETECT_CHARS, SHORT_PASSAGE_CHARS

    doc_guess = None
    out = []
    for text in texts:
        own = detect_language(text)
        confident = own.lang != UNDETERMINED and own.confidence >= 0.80
        short = len(text) < SHORT_PASSAGE_CHARS
        if confident and not short:
            out.append(own)
            continue
        if doc_guess is None:
            doc_guess = detect_language(doc.text, max_chars=DOC_DETECT_CHARS)
        if confident and (own.method == "script" or doc_guess.lang == UNDETERMINED):
            out.append(own)
        else:
            out.append(doc_guess)
    return out


def _mixed(langs: tuple[str, ...], chars: int) -> str:
    from tests.text.corpus import xquad_paragraphs

    columns = [xquad_paragraphs(lang) for lang in langs]
    out: list[str] = []
    size, i = 0, 0
    while size < chars:
        p = columns[i % len(langs)][(i // len(langs)) % len(columns[0])]
        out.append(p)
        size += len(p) + 2
        i += 1
    return "\n\n".join(out)


def run_langs(bundle: Path, kb: int) -> dict[str, Any]:
    from tests.text.corpus import long_document, xquad_paragraphs
    from xsearch.documents import Document
    from xsearch.encoder import Encoder
    from xsearch.text import split_passages
    from xsearch.text.langid import warm_up
    from xsearch.text.passages import _languages
    from xsearch.text.shortid import warm_up as warm_short

    if not xquad_paragraphs("en"):
        raise SystemExit("--langs needs the XQuAD data in ../shared/data")
    warm_up()
    warm_short()
    enc = Encoder.load(bundle)
    docs = {lang: long_document(lang, kb * 1000) for lang in XQUAD_LANGS}
    docs.update({"+".join(m): _mixed(m, kb * 1000) for m in MIXES})
    for a, b in HALVES:  # the first half in one language, the second in another
        half = kb * 1000 // 2
        docs[f"{a}|{b}"] = long_document(a, half)[:half] + "\n\n" + long_document(b, half)[:half]
    out: dict[str, Any] = {"bundle": enc.name, "kb": kb, "docs": {}}
    for name, text in docs.items():
        doc = Document(id=name, text=text)
        spans = split_passages(text, count_tokens=_Offsets(enc), max_tokens=enc.max_seq_length)
        texts = [text[sp.start : sp.end] for sp in spans]
        best: dict[str, float] = {}
        langs: dict[str, list[str]] = {}
        for _round in range(3):
            for path, fn in (("before", _languages_before), ("now", _languages)):
                started = time.perf_counter()
                guesses = fn(doc, texts) if path == "before" else fn(doc, texts, True)
                seconds = time.perf_counter() - started
                best[path] = min(seconds, best.get(path, seconds))
                langs[path] = [g.lang for g in guesses]
        mb = len(text.encode("utf-8")) / 1e6
        same = sum(a == b for a, b in zip(langs["before"], langs["now"], strict=True))
        row = {
            "mixed": "+" in name or "|" in name,
            "mb": round(mb, 3),
            "passages": len(texts),
            "before_s_per_mb": round(best["before"] / mb, 3),
            "now_s_per_mb": round(best["now"] / mb, 3),
            "speedup": round(best["before"] / best["now"], 2),
            "agreement": round(same / len(texts), 4),
            "languages_before": dict(Counter(langs["before"]).most_common()),
            "languages_now": dict(Counter(langs["now"]).most_common()),
        }
        out["docs"][name] = row
        print(name, row, file=sys.stderr)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--kb", type=int, default=300)
    ap.add_argument("--langs", action="store_true", help="passage languages: before vs now")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    if args.langs:
        results = run_langs(args.bundle, args.kb)
        out = args.out or Path("bench/results/passage_langs.json")
    else:
        results = run(args.bundle, args.kb)
        out = args.out or Path("bench/results/chunking.json")
    write_result(out, results, command=["python", "-m", "bench.chunking", *sys.argv[1:]])


if __name__ == "__main__":
    main()
