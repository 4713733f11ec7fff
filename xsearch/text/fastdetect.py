"""langdetect's detection with its trials loop in numpy: the same answers, faster.

On short text langdetect (1.0.9) spends almost all its time in the trials
of ``Detector._detect_block``: 7 trials, each multiplying a 55-entry Python
list of language probabilities by the profile row of a randomly drawn n-gram,
~80 times, normalising every 5 updates. Here the text cleaning, n-gram
extraction, seeding, random draws and ranking are still langdetect's own code;
only that arithmetic moves to numpy, on a dense copy of the profiles (~40 MB,
built once per factory, ~0.2 s). It runs ~2-3x faster, not more: each step
works on 55 numbers, so numpy's per-call overhead is most of what is left. On
long text langdetect's per-character n-gram extraction, kept, is the larger
cost (bench/langid.py).

The port is exact, not approximate: the random draws are made by the
detector's own ``random.Random``, in the same order (one ``gauss`` per trial,
one ``choice(ngrams)`` per update), and every float operation is the one
langdetect does, in the same order, so the probabilities are bit-identical
(tests/text/test_fastdetect.py compares thousands of texts). Bit-identical
matters: a rounding difference could flip a convergence check (max > 0.99999)
and change how many n-grams a trial draws, and so every later draw.

Thread-safe: each call has its own Detector, random state and buffers; the
shared tables are read-only once built.
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
import threading
import weakref
from dataclasses import dataclass

import numpy as np
from langdetect.detector import Detector
from langdetect.detector_factory import DetectorFactory
from langdetect.lang_detect_exception import ErrorCode, LangDetectException
from langdetect.language import Language
from langdetect.utils.ngram import NGram

from xsearch.text.scripts import code_points

# langdetect normalises (and checks convergence) after the first update, then
# after every 5th: iterations i = 0, 5, 10, ... (``if i % 5 == 0``).
_BLOCK = 5


@dataclass(frozen=True, eq=False)
class _Tables:
    """``word_lang_prob_map`` as a matrix: row ``index[ngram]`` is its list."""

    index: dict[str, int]
    probs: np.ndarray  # (n-grams, languages) float64, read-only
    source: dict[str, list[float]]  # the map it was built from, to notice a reload
    size: tuple[int, int]  # (n-grams, languages) of the map when built


_tables: weakref.WeakKeyDictionary[DetectorFactory, _Tables] = weakref.WeakKeyDictionary()
_tables_lock = threading.Lock()


def prepare(factory: DetectorFactory) -> None:
    """Build the factory's tables now (~0.2 s) rather than on the first call."""
    _tables_for(factory)


def _tables_for(factory: DetectorFactory) -> _Tables:
    word_map = factory.word_lang_prob_map
    size = (len(word_map), len(factory.langlist))
    tables = _tables.get(factory)
    if tables is not None and tables.source is word_map and tables.size == size:
        return tables
    with _tables_lock:
        tables = _tables.get(factory)
        if tables is None or tables.source is not word_map or tables.size != size:
            tables = _build(word_map, size)
            _tables[factory] = tables
    return tables


def _build(word_map: dict[str, list[float]], size: tuple[int, int]) -> _Tables:
    n_words, n_langs = size
    # A map row has one entry per file of the profile directory, which may be
    # more than the languages loaded; updates only read the first n_langs.
    width = len(next(iter(word_map.values()))) if word_map else n_langs
    if any(len(row) != width for row in word_map.values()):
        raise ValueError("word_lang_prob_map rows differ in length: profiles loaded twice?")
    flat = itertools.chain.from_iterable(word_map.values())
    probs = np.fromiter(flat, dtype=np.float64, count=n_words * width)
    probs = np.ascontiguousarray(probs.reshape(n_words, width)[:, :n_langs])
    probs.flags.writeable = False
    index = {word: row for row, word in enumerate(word_map)}
    return _Tables(index, probs, word_map, size)


def get_probabilities(factory: DetectorFactory, text: str) -> list[Language]:
    """``d = factory.create(); d.append(text); d.get_probabilities()``, faster.

    Raises LangDetectException when the text has no usable n-gram, as
    langdetect does.
    """
    detector = factory.create()
    detector.append(text)
    detector.langprob = _detect_block(detector, _tables_for(factory))
    return detector._sort_probability(detector.langprob)


def _detect_block(detector: Detector, tables: _Tables) -> list[float]:
    """``Detector._detect_block``, returning ``langprob`` instead of storing it."""
    detector.text = _cleaned(detector.text)
    # _extract_ngrams keeps only n-grams of the map, so langdetect's
    # _update_lang_prob never meets an unknown one (it would skip it, and the
    # iteration would still count): every drawn n-gram has a row here. Drawing
    # from the row numbers instead of the n-grams makes the same draws
    # (``choice`` only uses the sequence's length).
    index, probs = tables.index, tables.probs
    rows = _ngram_rows(detector.text, index)
    if not rows:
        raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
    n_langs = len(detector.langlist)
    n_trial = detector.n_trial
    if detector.prior_map is not None:
        init = np.array(detector.prior_map, dtype=np.float64)
    else:
        init = np.full(n_langs, 1.0 / n_langs)
    langprob = np.zeros(n_langs)
    # Row 0 holds the normalised probabilities, rows 1.. the factors of one
    # block: multiplying the rows together in order, down axis 0, is
    # langdetect's ((p * f1) * f2) * ... per language, with the same roundings.
    buf = np.empty((_BLOCK + 1, n_langs))
    head, prob = buf[0], np.empty(n_langs)
    # (updates, factors, stack) of the first block (one update), then of the others
    first, full = (range(1), buf[1:2], buf[:2]), (range(_BLOCK), buf[1:], buf)
    take, multiply, divide = probs.take, np.multiply.reduce, np.divide  # hot loop: bound once
    rng = detector.random
    choice = rng.choice
    conv, limit = detector.CONV_THRESHOLD, detector.ITERATION_LIMIT
    rng.seed(detector.seed)
    for _ in range(n_trial):
        head[:] = init
        alpha = detector.alpha + rng.gauss(0.0, 1.0) * detector.ALPHA_WIDTH
        weight = alpha / detector.BASE_FREQ
        i = 0
        updates, factors, stack = first
        while True:
            # mode "clip": the rows are valid, and "raise" copies through a buffer
            take([choice(rows) for _ in updates], axis=0, out=factors, mode="clip")
            factors += weight  # weight + p: float addition is commutative
            multiply(stack, axis=0, out=prob)
            # _normalize_prob: Python's own sum() for the same rounding as
            # langdetect's sum(list); max(p / s) == max(p) / s since rounding
            # is monotonic.
            values = prob.tolist()
            total = sum(values)
            divide(prob, total, out=head)
            if max(values) / total > conv or i >= limit:
                break
            i += _BLOCK
            updates, factors, stack = full
        langprob += head / n_trial
    return langprob.tolist()


# --- langdetect's text cleaning and n-gram extraction, the same answers ----------------
# Both are per-character Python loops in langdetect (``cleaning_text``,
# ``_extract_ngrams`` calling ``NGram.add_char`` and ``NGram.normalize``), and
# were two thirds of a passage's detection time. Here the normalisation is a
# ``str.translate`` through a table filled from ``NGram.normalize`` itself
# (it maps one character to one character, whatever its neighbours), and the
# n-gram buffer logic of ``add_char`` is inlined; tests/text/test_fastdetect.py
# compares the answers with langdetect's on thousands of real texts.


class _Normalized(dict[int, str]):
    """``NGram.normalize`` as a translate table, filled as characters are met."""

    def __missing__(self, cp: int) -> str:
        ch = NGram.normalize(chr(cp))
        self[cp] = ch  # idempotent: threads racing here store the same value
        return ch


_NORMALIZED = _Normalized()
_ASCII_LETTERISH = re.compile("[A-z]")  # 'A' <= ch <= 'z', as langdetect counts "Latin"


def _cleaned(text: str) -> str:
    """``Detector.cleaning_text``: drop ASCII letters from text that is mostly non-Latin."""
    latin = len(_ASCII_LETTERISH.findall(text))
    # langdetect 1.0.9 means to skip "Latin Extended Additional" here, but
    # compares unicode_block()'s number with the block's name, which is never
    # equal: every character from U+0300 up counts as non-Latin. Same here.
    cps = code_points(text)
    non_latin = int(np.count_nonzero(cps >= 0x300))
    if latin * 2 < non_latin:
        return _ASCII_LETTERISH.sub("", text)
    return text


def _ngram_rows(text: str, index: dict[str, int]) -> list[int]:
    """``Detector._extract_ngrams``, as rows of the tables: the 1-3-grams of the
    normalised text that the profiles know, in langdetect's order.

    ``add_char`` keeps the last (up to) three characters since the last space,
    so at character i of ``s = " " + text`` its buffer ends in the bigram
    ``s[i-1:i+1]`` and, unless ``s[i-1]`` is a space, the trigram
    ``s[i-2:i+1]``; nothing is emitted for a space after a space (the buffer
    is reset to " "), nor while ``capitalword`` holds, which is exactly when
    ``s[i]`` and ``s[i-1]`` are both upper case (it is set by two capitals in a
    row and cleared by any other character); a lone space is never a unigram.
    So every candidate is built and looked up at C speed (``map``), and the
    rules become masks over a (position, n) table read row by row, the order
    in which langdetect appends.
    """
    s = " " + text.translate(_NORMALIZED)
    if len(s) < 2:
        return []
    get, missing = index.get, itertools.repeat(-1)
    bigrams = list(map(operator.add, s[:-1], s[1:]))  # position i -> s[i-1:i+1]
    table = np.full((len(s) - 1, 3), -1, dtype=np.int64)
    table[:, 0] = list(map(get, s[1:], missing))
    table[:, 1] = list(map(get, bigrams, missing))
    table[1:, 2] = list(map(get, map(operator.add, bigrams[:-1], s[2:]), missing))
    cps = code_points(s)
    space = cps == 0x20
    upper = _upper(s, cps)
    table[(space[1:] & space[:-1]) | (upper[1:] & upper[:-1])] = -1
    table[space[1:], 0] = -1
    table[space[:-1], 2] = -1
    return table[table >= 0].tolist()


def _upper(s: str, cps: np.ndarray) -> np.ndarray:
    """``ch.isupper()`` of every character of ``s`` (code points ``cps``)."""
    upper = _upper_bmp()[np.minimum(cps, 0xFFFF)]
    for i in np.flatnonzero(cps > 0xFFFF).tolist():
        upper[i] = s[i].isupper()
    return upper


@functools.cache
def _upper_bmp() -> np.ndarray:
    table = np.fromiter((chr(cp).isupper() for cp in range(0x10000)), dtype=bool, count=0x10000)
    table.flags.writeable = False
    return table
