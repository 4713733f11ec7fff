"""split_passages: fits the window, maps back, sentence-aware, linear time."""

from __future__ import annotations

import re
import time

import pytest

from tests.text.checks import check_spans, clean_cut
from tests.text.corpus import JOIN, SENTENCES, long_document, xquad_paragraphs
from tests.text.counters import Recording, bpe_counter, simple_count
from xsearch.errors import ConfigError
from xsearch.text import Span, split_passages
from xsearch.text.segment import is_grapheme_boundary, sentence_spans

SCRIPTS = ["en", "ru", "ar", "hi", "zh", "ja", "th", "ko", "el", "he"]


@pytest.fixture(scope="module")
def bpe():
    # Real running text only: without ../shared/data the long documents are our
    # few sentences repeated, and a BPE trained on them learns whole sentences
    # as single tokens (a zh passage of 4 sentences = 15 tokens), which no real
    # tokenizer does.
    corpus = [s for sents in SENTENCES.values() for s in sents]
    corpus += [long_document(lang, 30_000) for lang in SCRIPTS if xquad_paragraphs(lang)]
    return bpe_counter(corpus)


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t "])
def test_blank_text_gives_no_passage(text: str) -> None:
    assert split_passages(text, count_tokens=simple_count, max_tokens=64) == []


def test_short_text_is_one_stripped_passage() -> None:
    text = "  \n" + SENTENCES["en"][0] + "\n  "
    assert split_passages(text, count_tokens=simple_count, max_tokens=64) == [
        Span(3, 3 + len(SENTENCES["en"][0]))
    ]


@pytest.mark.parametrize("lang", SCRIPTS)
@pytest.mark.parametrize(("max_tokens", "overlap"), [(48, 0), (96, 16), (200, 32)])
def test_long_documents_with_a_bpe_tokenizer(bpe, lang: str, max_tokens: int, overlap: int):
    text = long_document(lang, 8_000)
    spans = split_passages(text, count_tokens=bpe, max_tokens=max_tokens, overlap_tokens=overlap)
    check_spans(text, spans, bpe, max_tokens, overlap_tokens=overlap)
    # greedy packing fills passages: on average at least half the window
    fills = [bpe(text[s.start : s.end]) for s in spans[:-1]]
    assert sum(fills) / len(fills) >= max_tokens / 2


@pytest.mark.parametrize("lang", SCRIPTS)
def test_title_budget_is_left_in_the_first_passage(bpe, lang: str) -> None:
    text = long_document(lang, 3_000)
    spans = split_passages(text, count_tokens=bpe, max_tokens=64, title_tokens=20)
    check_spans(text, spans, bpe, 64, title_tokens=20, overlap_tokens=32)
    assert bpe(text[spans[0].start : spans[0].end]) <= 64 - 20


def test_overlap_carries_the_last_sentences() -> None:
    text = " ".join(SENTENCES["en"] * 6)
    sents = sentence_spans(text)
    spans = split_passages(text, count_tokens=simple_count, max_tokens=100, overlap_tokens=20)
    check_spans(text, spans, simple_count, 100, overlap_tokens=20)
    starts, ends = {s for s, _ in sents}, {e for _, e in sents}
    for prev, nxt in zip(spans, spans[1:], strict=False):
        assert nxt.start in starts and prev.end in ends  # whole sentences only
        assert nxt.start < prev.end  # every sentence here is < 20 tokens: always overlap
    # on a small window the overlap shrinks to a quarter of it
    small = split_passages(text, count_tokens=simple_count, max_tokens=40, overlap_tokens=30)
    check_spans(text, small, simple_count, 40, overlap_tokens=(40 - 4) // 4)
    no_overlap = split_passages(text, count_tokens=simple_count, max_tokens=100, overlap_tokens=0)
    assert all(b.start > a.end for a, b in zip(no_overlap, no_overlap[1:], strict=False))
    assert len(no_overlap) < len(spans)


def test_long_sentence_is_cut_between_words() -> None:
    words = re.sub(r"[.!?]", "", " ".join(SENTENCES["en"] * 30))
    spans = split_passages(words, count_tokens=simple_count, max_tokens=40, overlap_tokens=0)
    check_spans(words, spans, simple_count, 40)
    for s in spans:
        assert s.end == len(words) or words[s.end] == " "
    # cut where the window is full, not early: 36 words of room
    assert all(simple_count(words[s.start : s.end]) >= 38 for s in spans[:-1])


def test_chinese_without_punctuation_is_cut_between_characters(bpe) -> None:
    text = re.sub(r"[。，]", "", "".join(SENTENCES["zh"]) * 20)
    text = text.replace("火车", "火车iPhone Pro")  # Latin words inside must stay whole
    spans = split_passages(text, count_tokens=bpe, max_tokens=32, overlap_tokens=0)
    check_spans(text, spans, bpe, 32)
    for s in spans:
        assert not re.search(r"[A-Za-z]{2}", text[s.end - 1 : s.end + 1])


@pytest.mark.parametrize(("window", "overlap"), [(24, 0), (64, 32), (40, 8)])
def test_thai_without_spaces_is_cut_between_graphemes(bpe, window: int, overlap: int) -> None:
    text = "".join(SENTENCES["th"]).replace(" ", "") * 20
    spans = split_passages(text, count_tokens=bpe, max_tokens=window, overlap_tokens=overlap)
    check_spans(text, spans, bpe, window, overlap_tokens=overlap)
    assert all(is_grapheme_boundary(text, s.end) for s in spans)


def test_thai_prefers_a_space(bpe) -> None:
    # spaces between Thai phrases are where Thai sentences end: cuts go there
    text = " ".join(SENTENCES["th"] * 12)
    assert max(bpe(s) for s in SENTENCES["th"]) < 100
    spans = split_passages(text, count_tokens=bpe, max_tokens=100, overlap_tokens=0)
    check_spans(text, spans, bpe, 100)
    assert all(s.end == len(text) or text[s.end] == " " for s in spans)


def test_a_word_longer_than_the_window_is_cut_as_a_last_resort() -> None:
    blob = "data:" + "QUJD" * 400  # no space anywhere: no word boundary can help
    text = f"Look at this. {blob} And then this."
    spans = split_passages(text, count_tokens=bpe_like_chars, max_tokens=50, overlap_tokens=0)
    check_spans(text, spans, bpe_like_chars, 50, allow_word_cuts=True)
    assert text[spans[0].start : spans[0].end] == "Look at this."
    inside = [s for s in spans if blob[:10] in text[s.start : s.end] or s.start > 14]
    assert len(inside) > 5
    # cuts outside the blob stay clean
    assert clean_cut(text, spans[-1].end)


def bpe_like_chars(text: str) -> int:
    """Four characters per token, like a subword tokenizer on a blob."""
    return 3 + sum((len(w) + 3) // 4 for w in text.split())


def test_combining_sequences_are_never_split() -> None:
    text = "e\u0301" * 300 + " " + "क्षत्रिय" * 50
    spans = split_passages(text, count_tokens=bpe_like_chars, max_tokens=20, overlap_tokens=0)
    check_spans(text, spans, bpe_like_chars, 20, allow_word_cuts=True)
    assert all(is_grapheme_boundary(text, s.start) and is_grapheme_boundary(text, s.end)
               for s in spans)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"max_tokens": 6}, "window"),
        ({"max_tokens": 64, "overlap_tokens": -1}, "overlap"),
        ({"max_tokens": 64, "title_tokens": 50}, "title"),
    ],
)
def test_bad_parameters_say_what_to_do(kwargs: dict, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        split_passages("Some text. More text.", count_tokens=simple_count, **kwargs)
    assert words in str(info.value) and ":" in str(info.value)


def test_ten_megabytes_in_seconds_with_linear_counting() -> None:
    parts = [long_document(lang, 100_000) for lang in SCRIPTS]
    text = "\n\n".join(parts)
    text = (text * (10_000_000 // len(text) + 1))[:10_000_000]
    counter = Recording(simple_count)
    t0 = time.perf_counter()
    spans = split_passages(text, count_tokens=counter, max_tokens=512)
    elapsed = time.perf_counter() - t0
    n_sentences = len(sentence_spans(text))
    # one count per sentence, ~one per passage to verify it: no re-counting
    assert counter.calls <= n_sentences + 3 * len(spans) + 10
    assert counter.chars <= 3 * len(text)
    assert elapsed < 20, elapsed  # measured ~4 s on 2 cores
    assert spans[0].start == 0 and text[spans[-1].end :].strip() == ""
    sample = spans[:: max(1, len(spans) // 200)]
    assert all(simple_count(text[s.start : s.end]) <= 512 for s in sample)


def test_a_megabyte_without_any_punctuation_stays_fast() -> None:
    zh = re.sub(r"[。，]", "", long_document("zh", 50_000))
    text = (zh.replace("\n", "") * 20)[:1_000_000]
    counter = Recording(simple_count)
    t0 = time.perf_counter()
    spans = split_passages(text, count_tokens=counter, max_tokens=256, overlap_tokens=0)
    assert time.perf_counter() - t0 < 10  # measured ~1.5 s
    assert counter.chars <= 12 * len(text)  # a few counts per piece, never the rest
    check_spans(text[: spans[49].end], spans[:50], simple_count, 256)


def test_sentences_joined_without_spaces_in_cjk() -> None:
    for lang in ("zh", "ja"):
        text = JOIN[lang].join(SENTENCES[lang] * 10)
        spans = split_passages(text, count_tokens=simple_count, max_tokens=40, overlap_tokens=8)
        check_spans(text, spans, simple_count, 40, overlap_tokens=8)
        assert all(text[s.end - 1] == "。" for s in spans)
