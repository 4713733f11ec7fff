"""Sentence boundaries and grapheme clusters."""

from __future__ import annotations

import random

import pytest

from tests.text.corpus import JOIN, SENTENCES
from xsearch.text.segment import (
    is_any_break,
    is_char_break,
    is_grapheme_boundary,
    is_word_break,
    sentence_spans,
)


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


@pytest.mark.parametrize("lang", sorted(set(SENTENCES) - {"th"}))
def test_sentences_of_every_script_come_back(lang: str) -> None:
    text = JOIN.get(lang, " ").join(SENTENCES[lang])
    assert sentences(text) == SENTENCES[lang]


def test_thai_spaces_are_sentence_boundaries() -> None:
    # Thai has no sentence punctuation: spaces between Thai letters separate
    # phrases and sentences (our third sentence holds one such space)
    got = sentences(" ".join(SENTENCES["th"]))
    assert got == [
        SENTENCES["th"][0], SENTENCES["th"][1], "ตอนที่ฉันยังเด็ก", "คุณยายสอนฉันทำขนมปัง",
        SENTENCES["th"][3],
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It costs 3.14 euros. Next one!", ["It costs 3.14 euros.", "Next one!"]),
        ("See e.g. the manual. Then go.", ["See e.g. the manual.", "Then go."]),
        ('He said "Stop." Then left.', ['He said "Stop."', "Then left."]),
        ("Really?! Yes… ok.", ["Really?!", "Yes…", "ok."]),
        ("Visit https://a.b/c.d?x=1 today. Ok", ["Visit https://a.b/c.d?x=1 today.", "Ok"]),
        ("「はい。」と言った。次", ["「はい。」", "と言った。", "次"]),
        ("Τι κάνεις; Καλά.", ["Τι κάνεις;", "Καλά."]),
        ("a; b. C", ["a; b.", "C"]),  # ';' ends only Greek questions
        ("هل أنت بخير؟نعم.", ["هل أنت بخير؟", "نعم."]),
        ("یہ اردو ہے۔ اور یہ بھی۔", ["یہ اردو ہے۔", "اور یہ بھی۔"]),
        ("line one\nline two\n\n  para  ", ["line one", "line two", "para"]),
        ("   ", []),
        ("", []),
    ],
)
def test_sentence_rules(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_spans_are_stripped_ordered_and_cover_all_text() -> None:
    text = "\n\n  ".join(" ".join(s) for s in SENTENCES.values()) + "  \n"
    spans = sentence_spans(text)
    covered = set()
    for (s, e), (s2, _e2) in zip(spans, spans[1:] + [(len(text), len(text))], strict=True):
        assert s < e <= s2
        assert not text[s].isspace() and not text[e - 1].isspace()
        covered.update(range(s, e))
    assert all(text[i].isspace() for i in range(len(text)) if i not in covered)


GRAPHEME_SAMPLES = [
    "e\u0301te\u0301",  # combining acute
    "नमस्ते क्षत्रिय",  # Devanagari with virama conjuncts
    "ที่น้ำ กำลัง",  # Thai tone marks and SARA AM
    "\u1100\u1161\u11a8한국",  # conjoining Hangul jamo
    "👩\u200d💻👍🏽🇫🇷🇩🇪",  # ZWJ sequence, skin tone, flags
    "a\r\nb",
    "مُحَمَّد",  # Arabic harakat
]


def test_grapheme_boundaries_never_split_a_cluster() -> None:
    for text in GRAPHEME_SAMPLES:
        for i in range(1, len(text)):
            ch = text[i]
            if ch in "\u0301\u094d\u0e48\u0e49\u0e33\u200d\u064f\u064e\u0651\n" or (
                0x1F3FB <= ord(ch) <= 0x1F3FF or 0x1160 <= ord(ch) <= 0x11FF
            ):
                assert not is_grapheme_boundary(text, i), (text, i)
    flags = "🇫🇷🇩🇪"
    assert [is_grapheme_boundary(flags, i) for i in range(1, 4)] == [False, True, False]


def test_grapheme_boundaries_agree_with_regex_x() -> None:
    regex = pytest.importorskip("regex")  # the reference UAX #29 implementation
    rng = random.Random(7)
    pool = GRAPHEME_SAMPLES + [s for v in SENTENCES.values() for s in v]
    for text in pool + ["".join(rng.sample(pool, 3)) for _ in range(20)]:
        reference = set()
        pos = 0
        for m in regex.finditer(r"\X", text):
            pos += len(m.group())
            reference.add(pos)
        ours = {i for i in range(1, len(text)) if is_grapheme_boundary(text, i)}
        # ours may refuse a few more cuts (never fewer): a cut we allow is a real boundary
        assert ours <= reference, (text, sorted(ours - reference))
        assert len(reference - ours - {len(text)}) <= 2, (text, sorted(reference - ours))


def test_break_kinds() -> None:
    text = "東京は、日本 the capital"
    words = [i for i in range(1, len(text)) if is_word_break(text, i)]
    chars = [i for i in range(1, len(text)) if is_char_break(text, i)]
    assert [text[:i] for i in words] == ["東京は、", "東京は、日本", "東京は、日本 the"]
    assert "東京は、日本 th" not in [text[:i] for i in chars]  # never inside "the"
    assert [text[:i] for i in chars] == ["東", "東京", "東京は", "東京は、", "東京は、日"]
    thai = "น้ำที่"
    assert [i for i in range(1, len(thai)) if is_char_break(thai, i)] == [3]
    assert [i for i in range(1, 6) if is_any_break("abcdef", i)] == [1, 2, 3, 4, 5]
