"""Sparse lexical vectors (BM25-style) that work for every script.

Words are lower-cased, NFKC-normalised runs of letters, marks and digits. Scripts
written without spaces (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar,
Tibetan) have no word boundaries that a regex can see, so each run of them is
indexed as overlapping character bigrams (plus the single character for runs of
one), the usual trick of CJK search engines. Terms are hashed to 31-bit ids
(crc32: stable across processes and machines, unlike ``hash()``).

Document side: BM25 term-frequency saturation with length normalisation against
a fixed average length; the IDF part is applied by Qdrant at query time (the
sparse vector is declared with the IDF modifier), so it always reflects the
collection as it is now. Query side: weight 1 per distinct term.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
import zlib
from collections import Counter
from functools import lru_cache
from pathlib import Path

from xsearch.bundle.manifest import STOP_WORDS_CACHE

# BM25 constants (Robertson/Zaragoza defaults); avg length in terms of a passage
# of the default window (~200 words); only used to normalise term frequencies.
K1 = 1.2
B = 0.75
AVG_TERMS = 200.0

_WORD = re.compile(r"[\w\u0300-\u036f\u0900-\u0dff\u0e00-\u0eff\u1000-\u109f]+", re.UNICODE)
# Scripts without spaces between words -> character bigrams.
_NOSPACE = re.compile(
    "[\u0e00-\u0e7f"  # Thai
    "\u0e80-\u0eff"  # Lao
    "\u1780-\u17ff"  # Khmer
    "\u1000-\u109f"  # Myanmar
    "\u0f00-\u0fff"  # Tibetan
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # Han
    "\U00020000-\U0002ffff"
    "]+"
)
_MAX_TERM_CHARS = 40  # longer "words" are ids, hashes, base64: index a prefix


def terms(text: str) -> list[str]:
    """The lexical terms of ``text`` in order (with repeats)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    out: list[str] = []
    for word in _WORD.findall(text):
        pos = 0
        for m in _NOSPACE.finditer(word):
            if m.start() > pos:
                out.append(word[pos : m.start()][:_MAX_TERM_CHARS])
            units = _clusters(m.group())
            if len(units) == 1:
                out.append(units[0])
            else:
                out.extend(units[i] + units[i + 1] for i in range(len(units) - 1))
            pos = m.end()
        if pos < len(word):
            out.append(word[pos:][:_MAX_TERM_CHARS])
    return out


def _clusters(run: str) -> list[str]:
    """Characters with their combining marks attached (Thai tone marks, vowel signs)."""
    units: list[str] = []
    for ch in run:
        if units and unicodedata.category(ch) in ("Mn", "Mc"):
            units[-1] += ch
        else:
            units.append(ch)
    return units


def term_id(term: str) -> int:
    return zlib.crc32(term.encode("utf-8")) & 0x7FFFFFFF


def _to_sparse(weights: dict[int, float]) -> tuple[list[int], list[float]]:
    idx = sorted(weights)
    return idx, [float(weights[i]) for i in idx]


def document_vector(text: str) -> tuple[list[int], list[float]]:
    """BM25 term-frequency weights of a passage (IDF comes from Qdrant)."""
    tf = Counter(term_id(t) for t in terms(text))
    if not tf:
        return [], []
    length = sum(tf.values())
    norm = K1 * (1 - B + B * length / AVG_TERMS)
    return _to_sparse({i: f * (K1 + 1) / (f + norm) for i, f in tf.items()})


def query_vector(text: str, stop: frozenset[str] = frozenset()) -> tuple[list[int], list[float]]:
    """One unit of weight per distinct query term; ``stop`` words carry none.

    A query of stop words only gives an empty vector (no lexical vote).
    """
    return _to_sparse({term_id(t): 1.0 for t in terms(text) if t not in stop})


# Whole words among the most probable pieces of the bundle's tokenizer are stop words.
STOP_TOP = 600


@lru_cache(maxsize=8)
def frequent_words(tokenizer_json: Path, top: int = STOP_TOP) -> frozenset[str]:
    """The ``top`` most frequent whole words of a Unigram (SentencePiece) tokenizer.

    A Unigram vocabulary stores each piece's log-probability, measured on the
    model's multilingual training text (CC-100, 100 languages, for XLM-R and
    e5): the most probable whole-word pieces ("▁de", "▁la", "▁in", "▁un",
    "▁die", "▁the", "▁и", "▁و", ...) are the function words of all those
    languages at once, a stop list for the bundle measured across languages
    rather than per collection (whose statistics barely exist in a collection of
    a dozen documents: there, "un" or "die" matched one document and took the
    full lexical vote). Words with a digit are kept (years, codes). Other
    tokenizer types (WordPiece, BPE) store no frequencies: empty set.

    Reading a 9 MB tokenizer.json takes ~0.5 s, which a one-shot `xsearch search`
    paid inside its first hybrid query; the list is therefore kept beside the
    tokenizer (``STOP_WORDS_CACHE``, tied to the file's size and modification time)
    and read back in well under a millisecond. A bundle folder that cannot be
    written to just computes it each time.
    """
    path = Path(tokenizer_json)
    try:
        st = path.stat()
    except OSError:
        return frozenset()
    cache = path.with_name(STOP_WORDS_CACHE)
    stamp = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "top": top}
    try:
        kept = json.loads(cache.read_text(encoding="utf-8"))
        if kept.get("tokenizer") == stamp:
            return frozenset(kept["words"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    words = _frequent_words(path, top)
    try:  # written whole or not at all: a reader never sees half a list
        tmp = cache.with_name(f"{cache.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps({"tokenizer": stamp, "words": sorted(words)}), "utf-8")
        os.replace(tmp, cache)
    except OSError:
        pass
    return words


def _frequent_words(path: Path, top: int) -> frozenset[str]:
    try:
        model = json.loads(path.read_text(encoding="utf-8"))["model"]
    except (OSError, ValueError, KeyError):
        return frozenset()
    if model.get("type") != "Unigram":
        return frozenset()
    words = sorted(
        (
            (float(score), piece[1:])
            for piece, score in model["vocab"]
            if piece.startswith("\u2581") and len(piece) > 1
        ),
        key=lambda t: -t[0],
    )
    out: set[str] = set()
    for _, word in words:
        norm = unicodedata.normalize("NFKC", word).casefold()
        if not any(ch.isdigit() for ch in norm) and terms(norm) == [norm]:
            out.add(norm)
        if len(out) >= top:
            break
    return frozenset(out)


def lexical_margin(scores: list[float]) -> float:
    """How clearly the best lexical document stands out: (s1 - s2) / s1, in [0, 1].

    ``scores``: the best score of each document, best first. One match only -> 1
    (nothing competes); a tie -> 0 (the words do not tell the documents apart).
    Used to weight the lexical list in hybrid fusion per query: measured on
    XQuAD (development languages en, ru, zh; RRF k=5), a fixed weight either
    helps English and Chinese and hurts Russian (inflection: no stemmer) or the
    reverse, while weighting by the margin raises all three (see README).
    """
    if not scores or scores[0] <= 0:
        return 0.0
    if len(scores) == 1:
        return 1.0
    return max(0.0, min(1.0, (scores[0] - scores[1]) / scores[0]))
