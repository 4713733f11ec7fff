"""Sentence and break-point finding on raw text, by character offsets.

Everything here returns offsets into the text it was given, never copies, so
passages can point back into the original document exactly.

Sentences end at: . ! ? … (followed by a space), the full-width 。！？,
Arabic ؟ and ۔, Devanagari । ॥, Armenian ։, Ethiopic ።, Khmer ។, Myanmar ။,
Greek ; and U+037E, a line break, and a space between two Thai (Lao, Khmer)
characters (those scripts mark sentences with spaces, not punctuation).
Boundaries are candidates for cutting passages; a wrong one (after "Dr.")
costs nothing but a slightly earlier cut.
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from collections.abc import Iterable, Iterator

from xsearch.text.scripts import (
    ARMENIAN,
    CYRILLIC,
    GREEK,
    LATIN,
    NO_SPACE_SCRIPTS,
    char_class,
    script_of,
)

_CLOSE = "\"'”’»)\\]}」』）〉》】〕"
# One plain character class is ~10x faster to scan than an alternation of
# look-arounds on a 10 MB text; the context is checked in Python per hit.
_PUNCT = re.compile(r"[\n.!?…‼⁇⁈⁉;。！？｡．؟۔।॥։።។။\u037e]")
_NO_SPACE_NEEDED = set("。！？｡．؟۔।॥։።។။\u037e")
_CLOSERS = re.compile(f"[{re.escape(_CLOSE)}]*")
_SPACED_NO_PUNCT = "\u0e00-\u0eff\u1780-\u17ff"  # Thai, Lao, Khmer
_HAS_SPACED_NO_PUNCT = re.compile(f"[{_SPACED_NO_PUNCT}]")
_THAI_SPACE = re.compile(f"[{_SPACED_NO_PUNCT}][ \\t\u00a0]+(?=[{_SPACED_NO_PUNCT}])")
_LOWER_AFTER = re.compile(r"\s+([^\W\d_])")
_CASED = frozenset({LATIN, GREEK, CYRILLIC, ARMENIAN})  # Georgian letters are all "lower"


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence, in order, without surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    start = 0
    cuts: Iterable[int] = _punct_cuts(text)
    if _HAS_SPACED_NO_PUNCT.search(text):
        cuts = heapq.merge(cuts, (m.end() for m in _THAI_SPACE.finditer(text)))
    for cut in cuts:
        if cut > start:
            _add_stripped(text, start, cut, spans)
            start = cut
    _add_stripped(text, start, len(text), spans)
    return spans


def _punct_cuts(text: str) -> Iterator[int]:
    n = len(text)
    for m in _PUNCT.finditer(text):
        ch, end = m.group(), m.end()
        if ch == "\n":
            yield end
            continue
        end = _CLOSERS.match(text, end).end()
        if ch in _NO_SPACE_NEEDED:
            yield end
            continue
        if end < n and not text[end].isspace():
            continue  # 3.14, e.g.x, a URL: not the end of a sentence
        if ch == ";" and (m.start() == 0 or script_of(text[m.start() - 1]) != GREEK):
            continue  # ';' ends only Greek questions
        if ch == ".":
            # "e.g. the", "z.B. der": a period before a lower-case word rarely
            # ends a sentence.
            nxt = _LOWER_AFTER.match(text, end)
            if nxt and nxt.group(1).islower() and script_of(nxt.group(1)) in _CASED:
                continue
        yield end


def _add_stripped(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        out.append((start, end))


# --- grapheme clusters (a practical subset of UAX #29) -----------------------
_SPACING_MARKS = {"\u0e33", "\u0eb3"}  # Thai/Lao SARA AM: Lo but glued to the consonant
_PREPEND = {"\u0600", "\u0601", "\u0602", "\u0603", "\u0604", "\u0605", "\u06dd", "\u070f",
            "\u08e2", "\u0d4e"}
_INDIC_LINKERS = {"\u094d", "\u09cd", "\u0acd", "\u0b4d", "\u0c4d", "\u0d4d"}  # viramas


def _hangul_type(ch: str) -> str:
    cp = ord(ch)
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return "L"
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return "V"
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return "T"
    if 0xAC00 <= cp <= 0xD7A3:
        return "LV" if (cp - 0xAC00) % 28 == 0 else "LVT"
    return ""


def is_grapheme_boundary(text: str, i: int) -> bool:
    """May the text be cut between ``text[i-1]`` and ``text[i]``?

    False inside a grapheme cluster: before combining marks, ZWJ/ZWNJ, emoji
    modifiers and tags, inside CR LF, a regional-indicator pair, a Hangul jamo
    syllable, an Indic virama conjunct, or a (broken) surrogate pair.
    """
    if i <= 0 or i >= len(text):
        return True
    prev, ch = text[i - 1], text[i]
    if prev == "\r" and ch == "\n":
        return False
    cp = ord(ch)
    if (
        unicodedata.category(ch) in ("Mn", "Mc", "Me")
        or ch in _SPACING_MARKS
        or ch in ("\u200c", "\u200d")
        or 0x1F3FB <= cp <= 0x1F3FF
        or 0xE0020 <= cp <= 0xE007F
        or 0xDC00 <= cp <= 0xDFFF and 0xD800 <= ord(prev) <= 0xDBFF
    ):
        return False
    if prev == "\u200d" or prev in _PREPEND:
        return False
    if prev in _INDIC_LINKERS and unicodedata.category(ch) == "Lo":
        return False
    hp, hc = _hangul_type(prev), _hangul_type(ch)
    if hp and hc and (
        hp == "L" and hc in ("L", "V", "LV", "LVT")
        or hp in ("LV", "V") and hc in ("V", "T")
        or hp in ("LVT", "T") and hc == "T"
    ):
        return False
    if 0x1F1E6 <= cp <= 0x1F1FF:
        run = 0
        j = i - 1
        while j >= 0 and 0x1F1E6 <= ord(text[j]) <= 0x1F1FF:
            run += 1
            j -= 1
        return run % 2 == 0
    return True


# --- break points inside an over-long sentence ------------------------------
# A cut is searched near an estimated offset, so these predicates are asked
# about a few offsets only, never about every character of a long text.
_CLAUSE = frozenset("、，；：")  # CJK clause marks: a good place to cut after


def is_word_break(text: str, i: int) -> bool:
    """Whitespace starts at i, or i follows a CJK comma (，、): the best cuts."""
    prev, ch = text[i - 1], text[i]
    if prev.isspace():
        return False
    return ch.isspace() or prev in _CLAUSE


def is_char_break(text: str, i: int) -> bool:
    """Between grapheme clusters where either side belongs to a script written
    without spaces (Chinese, Japanese, Thai ...): never inside a word of a
    spaced script."""
    prev, ch = text[i - 1], text[i]
    if prev.isspace() or ch.isspace():
        return False
    if script_of(ch) not in NO_SPACE_SCRIPTS and script_of(prev) not in NO_SPACE_SCRIPTS:
        return False
    return is_grapheme_boundary(text, i)


def is_any_break(text: str, i: int) -> bool:
    """Any boundary between grapheme clusters: the last resort, for a "word"
    longer than a whole passage (a URL, a base64 blob)."""
    return not text[i - 1].isspace() and not text[i].isspace() and is_grapheme_boundary(text, i)


_NS_CHARS = re.compile(char_class(NO_SPACE_SCRIPTS))
_WORD_CHARS = re.compile(r"\S\s|[、，；：]\S")


def has_no_space_script(text: str, start: int, end: int) -> bool:
    return _NS_CHARS.search(text, start, end) is not None


def has_word_break(text: str, start: int, end: int) -> bool:
    return _WORD_CHARS.search(text, start, end) is not None
