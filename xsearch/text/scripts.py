"""Unicode script of a character, by code point ranges.

Python's ``unicodedata`` has no script property, and the ``regex`` module is
not a dependency; the few scripts that matter for language identification and
for finding break points are listed here by block. Anything not listed is
"Other" (symbols, digits, rare scripts).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from functools import cache

import numpy as np

LATIN, GREEK, CYRILLIC, ARMENIAN, HEBREW, ARABIC = (
    "Latin", "Greek", "Cyrillic", "Armenian", "Hebrew", "Arabic",
)
DEVANAGARI, BENGALI, GURMUKHI, GUJARATI, ORIYA, TAMIL, TELUGU, KANNADA, MALAYALAM, SINHALA = (
    "Devanagari", "Bengali", "Gurmukhi", "Gujarati", "Oriya", "Tamil", "Telugu", "Kannada",
    "Malayalam", "Sinhala",
)
THAI, LAO, TIBETAN, MYANMAR, GEORGIAN, HANGUL, ETHIOPIC, KHMER = (
    "Thai", "Lao", "Tibetan", "Myanmar", "Georgian", "Hangul", "Ethiopic", "Khmer",
)
HIRAGANA, KATAKANA, HAN, CJK_PUNCT, OTHER = "Hiragana", "Katakana", "Han", "CJKPunct", "Other"

# (first, last, script), sorted by first; gaps are OTHER.
_RANGES: list[tuple[int, int, str]] = sorted([
    (0x0041, 0x005A, LATIN), (0x0061, 0x007A, LATIN), (0x00AA, 0x00AA, LATIN),
    (0x00BA, 0x00BA, LATIN), (0x00C0, 0x00D6, LATIN), (0x00D8, 0x00F6, LATIN),
    (0x00F8, 0x02AF, LATIN), (0x1D00, 0x1D7F, LATIN), (0x1E00, 0x1EFF, LATIN),
    (0x2C60, 0x2C7F, LATIN), (0xA720, 0xA7FF, LATIN), (0xAB30, 0xAB6F, LATIN),
    (0xFF21, 0xFF3A, LATIN), (0xFF41, 0xFF5A, LATIN),
    (0x0370, 0x03FF, GREEK), (0x1F00, 0x1FFF, GREEK),
    (0x0400, 0x052F, CYRILLIC), (0x1C80, 0x1C8F, CYRILLIC), (0x2DE0, 0x2DFF, CYRILLIC),
    (0xA640, 0xA69F, CYRILLIC),
    (0x0530, 0x058F, ARMENIAN), (0xFB13, 0xFB17, ARMENIAN),
    (0x0590, 0x05FF, HEBREW), (0xFB1D, 0xFB4F, HEBREW),
    (0x0600, 0x06FF, ARABIC), (0x0750, 0x077F, ARABIC), (0x0870, 0x08FF, ARABIC),
    (0xFB50, 0xFDFF, ARABIC), (0xFE70, 0xFEFF, ARABIC),
    (0x0900, 0x097F, DEVANAGARI), (0xA8E0, 0xA8FF, DEVANAGARI),
    (0x0980, 0x09FF, BENGALI), (0x0A00, 0x0A7F, GURMUKHI), (0x0A80, 0x0AFF, GUJARATI),
    (0x0B00, 0x0B7F, ORIYA), (0x0B80, 0x0BFF, TAMIL), (0x0C00, 0x0C7F, TELUGU),
    (0x0C80, 0x0CFF, KANNADA), (0x0D00, 0x0D7F, MALAYALAM), (0x0D80, 0x0DFF, SINHALA),
    (0x0E00, 0x0E7F, THAI), (0x0E80, 0x0EFF, LAO), (0x0F00, 0x0FFF, TIBETAN),
    (0x1000, 0x109F, MYANMAR), (0x10A0, 0x10FF, GEORGIAN), (0x1C90, 0x1CBF, GEORGIAN),
    (0x2D00, 0x2D2F, GEORGIAN),
    (0x1100, 0x11FF, HANGUL), (0x3130, 0x318F, HANGUL), (0xA960, 0xA97F, HANGUL),
    (0xAC00, 0xD7FF, HANGUL), (0xFFA0, 0xFFDC, HANGUL),
    (0x1200, 0x139F, ETHIOPIC), (0x1780, 0x17FF, KHMER), (0x19E0, 0x19FF, KHMER),
    (0x3040, 0x309F, HIRAGANA), (0x30A0, 0x30FF, KATAKANA), (0x31F0, 0x31FF, KATAKANA),
    (0xFF66, 0xFF9F, KATAKANA),
    (0x2E80, 0x2FDF, HAN), (0x3005, 0x3007, HAN), (0x3021, 0x3029, HAN),
    (0x3400, 0x4DBF, HAN), (0x4E00, 0x9FFF, HAN), (0xF900, 0xFAFF, HAN),
    (0x20000, 0x3FFFF, HAN),
    (0x3000, 0x3004, CJK_PUNCT), (0x3008, 0x3020, CJK_PUNCT), (0x3030, 0x303F, CJK_PUNCT),
    (0xFF01, 0xFF20, CJK_PUNCT), (0xFF3B, 0xFF40, CJK_PUNCT), (0xFF5B, 0xFF65, CJK_PUNCT),
])
_STARTS = [r[0] for r in _RANGES]

# Scripts written without spaces between words: a line may break between any
# two grapheme clusters there (Thai, Lao, Khmer, Myanmar prefer spaces when
# present, which callers try first).
NO_SPACE_SCRIPTS = frozenset({HAN, HIRAGANA, KATAKANA, CJK_PUNCT, THAI, LAO, KHMER, MYANMAR,
                              TIBETAN})


def script_of(ch: str) -> str:
    cp = ord(ch)
    i = bisect_right(_STARTS, cp) - 1
    if i >= 0:
        first, last, script = _RANGES[i]
        if first <= cp <= last:
            return script
    return OTHER


def code_points(text: str) -> np.ndarray:
    """The code points of ``text`` as uint32, at C speed; a lone surrogate (valid
    in a JSON string) is kept as its own code point, not an error."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def letter_scripts(text: str) -> Counter[str]:
    """How many letters (``str.isalpha``) of each script the text holds.

    Every passage is looked at once or twice while it is indexed, so this is on
    the bulk indexer's critical path: a per-character loop cost ~1.5 us a
    character (a tenth of the planning stage). The answer is read instead from a
    table of the Basic Multilingual Plane (script of each letter, 0 for a
    non-letter), built once from ``isalpha`` and ``script_of`` themselves, so it
    is the loop's answer; characters above the BMP (rare) still take the loop.
    """
    table, names = _bmp_table()
    cps = code_points(text)
    counts: Counter[str] = Counter()
    if cps.size and int(cps.max()) > 0xFFFF:
        high = cps > 0xFFFF
        for cp in cps[high].tolist():
            ch = chr(cp)
            if ch.isalpha():
                counts[script_of(ch)] += 1
        cps = cps[~high]
    found = np.bincount(table[cps], minlength=len(names))
    for i in np.flatnonzero(found[1:]).tolist():
        counts[names[i + 1]] += int(found[i + 1])
    return counts


@cache
def _bmp_table() -> tuple[np.ndarray, tuple[str, ...]]:
    """(script number of each BMP code point, 0 for a non-letter; the names by number)."""
    names = ("", *sorted({s for _, _, s in _RANGES} | {OTHER}))
    number = {name: i for i, name in enumerate(names)}
    table = np.zeros(0x10000, dtype=np.uint8)
    for cp in range(0x10000):
        ch = chr(cp)
        if ch.isalpha():
            table[cp] = number[script_of(ch)]
    table.flags.writeable = False
    return table, names


def char_class(scripts: frozenset[str]) -> str:
    """A regular-expression character class matching the given scripts."""
    parts = (f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b, s in _RANGES if s in scripts)
    return "[" + "".join(parts) + "]"
