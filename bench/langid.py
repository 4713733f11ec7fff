"""Language detection: langdetect against its numpy port (xsearch.text.fastdetect), in one run.

Both run on the same texts, interleaved text by text (the order swapped on
every other text), so a busy neighbour slows both alike. Texts:

- short: Tatoeba sentences, both columns (queries look like these);
- long: XQuAD paragraphs cut at DETECT_CHARS (1,000), what detect_language
  looks at when indexing a passage;
- 4,000 characters: XQuAD paragraphs of one language joined and cut there.

Also reported: the part both share and the port keeps as it is (langdetect's
text cleaning and n-gram extraction), and whether every answer was the same,
probabilities included (they must be bit-identical).

    python -m bench.langid                       # writes bench/results/langid.md
    python -m bench.langid --sentences 500 --no-write
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import DATA, machine_info, markdown_table, print_table, write_result

FALLBACK = [
    "The river floods the valley every spring.",
    "Der Zug nach Berlin fährt um acht Uhr ab.",
    "El mercado abre temprano los sábados.",
    "Le musée présente des peintures anciennes.",
    "Москва является столицей России.",
    "القاهرة هي عاصمة مصر.",
    "दिल्ली भारत की राजधानी है।",
    "北京是中华人民共和国的首都。",
]


# --- the texts -----------------------------------------------------------------------
def load_texts(data: Path, sentences: int, paragraphs: int) -> tuple[dict[str, list[str]], str]:
    """Texts per kind, spread evenly over the files; the source named for the report."""
    from xsearch.text.langid import DETECT_CHARS

    short: list[str] = []
    for path in sorted((data / "tatoeba").glob("*.tsv")):
        short += [
            p
            for line in path.read_text(encoding="utf-8").splitlines()
            for p in line.split("\t")[:2]
            if p
        ]
    contexts: list[dict[str, str]] = []
    xquad = data / "xquad" / "parallel_paragraphs.jsonl"
    if xquad.is_file():
        lines = xquad.read_text(encoding="utf-8").splitlines()
        contexts = [json.loads(line)["context"] for line in lines if line.strip()]
    source = "Tatoeba + XQuAD"
    if not short or not contexts:
        source = "built-in sentences (../shared/data not found)"
        short = FALLBACK
        contexts = [{str(i): " ".join(FALLBACK[i:] + FALLBACK[:i]) * 4 for i in range(8)}]
    flat = [text for context in contexts for text in context.values()]
    langs = sorted(contexts[0])
    joined = [
        " ".join(c[lang] for c in contexts[start:])[:4000]
        for start in range(0, len(contexts), 40)
        for lang in langs
    ]
    texts = {
        "short (Tatoeba sentence)": spread(short, sentences),
        f"long (XQuAD paragraph, first {DETECT_CHARS:,} chars)": [
            t[:DETECT_CHARS] for t in spread(flat, paragraphs)
        ],
        "4,000 chars (XQuAD paragraphs joined)": spread(joined, max(1, paragraphs // 5)),
    }
    return texts, source


def spread(items: list[str], n: int) -> list[str]:
    """n items taken at an even stride (every file and language represented)."""
    step = max(1, len(items) // max(n, 1))
    return items[::step][:n]


# --- the measurement -----------------------------------------------------------------
@dataclass
class Timing:
    texts: int = 0
    chars: int = 0
    langdetect: float = 0.0
    port: float = 0.0
    extraction: float = 0.0
    same: int = 0


def measure(texts: list[str]) -> Timing:
    from langdetect.lang_detect_exception import LangDetectException

    from xsearch.text import fastdetect
    from xsearch.text.langid import _get_factory

    factory = _get_factory()

    def original(text: str) -> Any:
        detector = factory.create()
        detector.append(text)
        return detector.get_probabilities()

    def port(text: str) -> Any:
        return fastdetect.get_probabilities(factory, text)

    def extraction(text: str) -> Any:  # the part the port keeps as it is
        detector = factory.create()
        detector.append(text)
        detector.cleaning_text()
        return detector._extract_ngrams()

    def timed(fn: Callable[[str], Any], text: str) -> tuple[float, Any]:
        started = time.perf_counter()
        try:
            out = [(lang.lang, lang.prob) for lang in fn(text)]
        except LangDetectException:
            out = None
        return time.perf_counter() - started, out

    t = Timing()
    for k, text in enumerate(texts):
        if k % 2:
            (a, want), (b, got) = timed(original, text), timed(port, text)
        else:
            (b, got), (a, want) = timed(port, text), timed(original, text)
        started = time.perf_counter()
        extraction(text)
        t.extraction += time.perf_counter() - started
        t.texts += 1
        t.chars += len(text)
        t.langdetect += a
        t.port += b
        t.same += want == got
    return t


# --- the report ----------------------------------------------------------------------
COLUMNS = [
    "texts",
    "n",
    "mean chars",
    "langdetect ms/text",
    "port ms/text",
    "speed-up",
    "extraction ms/text (in both)",
    "identical answers",
]


def row(kind: str, t: Timing) -> list[Any]:
    n = max(t.texts, 1)
    return [
        kind,
        t.texts,
        round(t.chars / n),
        f"{t.langdetect / n * 1000:.3f}",
        f"{t.port / n * 1000:.3f}",
        f"{t.langdetect / max(t.port, 1e-12):.2f}x",
        f"{t.extraction / n * 1000:.3f}",
        f"{t.same}/{t.texts}",
    ]


def report(rows: list[list[Any]], source: str, info: dict[str, str]) -> str:
    return "\n".join(
        [
            "# Language detection: langdetect vs its numpy port",
            "",
            f"Texts: {source}. Each text detected by both, interleaved, same seed (0); "
            "ms/text is the mean wall time of one detection in this process.",
            "",
            markdown_table(COLUMNS, rows),
            "",
            "The port replaces langdetect's trials loop (7 trials of ~100 random n-gram "
            "updates on 55 languages) with numpy; langdetect's text cleaning and n-gram "
            "extraction run in both, so they bound the speed-up on long text. "
            "'identical answers': same languages and bit-identical probabilities.",
            "",
            *[f"- {k}: {v}" for k, v in info.items()],
        ]
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sentences", type=int, default=2000, help="short texts (Tatoeba)")
    ap.add_argument("--paragraphs", type=int, default=300, help="long texts (XQuAD)")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--no-write", action="store_true", help="do not write bench/results")
    args = ap.parse_args(argv)

    from xsearch.text import fastdetect
    from xsearch.text.langid import _get_factory

    info = machine_info(["langdetect", "numpy"])
    texts, source = load_texts(args.data, args.sentences, args.paragraphs)
    fastdetect.prepare(_get_factory())  # profiles and tables loaded before timing
    rows = []
    for kind, items in texts.items():
        print(f"{kind}: {len(items)} texts", file=sys.stderr)
        rows.append(row(kind, measure(items)))
    print_table("langdetect vs fastdetect", COLUMNS, rows)
    markdown = report(rows, source, info)
    print(markdown)
    if not args.no_write:
        print(f"written to {write_result('langid', markdown)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
