"""Chunking with the real default model's tokenizer (slow: needs the real bundle)."""

from __future__ import annotations

import re

import pytest

from tests.text.checks import check_spans
from tests.text.corpus import long_document
from xsearch.documents import Document
from xsearch.text import Span, document_passages, split_passages

pytestmark = pytest.mark.slow

# Latin, Cyrillic, Arabic, Devanagari, Han, Japanese, Thai, Hangul (+ Greek, Hebrew)
LANGS = ["en", "ru", "ar", "hi", "zh", "ja", "th", "ko", "el", "he"]


@pytest.fixture(scope="module")
def encoder(real_bundle):
    from xsearch.encoder import Encoder

    return Encoder.load(real_bundle)


@pytest.mark.parametrize("lang", LANGS)
def test_long_documents_fit_the_model_window(encoder, lang: str) -> None:
    def count(text: str) -> int:
        return encoder.count_tokens(text, kind="passage")

    window = encoder.max_seq_length
    text = long_document(lang, 25_000)
    doc = Document(id=f"long-{lang}", text=text, title=f"A title for {lang}")
    out = document_passages(doc, count_tokens=count, max_tokens=window)
    assert len(out) >= 3
    for p in out:
        assert p.text == text[p.start : p.end]
        assert count(p.encode_text) <= window, (p.number, count(p.encode_text))
    check_spans(text, [Span(p.start, p.end) for p in out], count, window, overlap_tokens=32,
                title_tokens=count(doc.title + "\n") - count(""))
    # the encoder agrees: nothing it is given is truncated
    _, stats = encoder.encode_with_stats([p.encode_text for p in out[:4]], "passage")
    assert stats.truncated == 0
    # passages are well filled: on average at least 60% of the window
    assert sum(count(p.text) for p in out[:-1]) / (len(out) - 1) >= 0.6 * window


@pytest.mark.parametrize("lang", ["zh", "ja", "th", "en", "hi"])
def test_unpunctuated_text_with_a_small_window(encoder, lang: str) -> None:
    # no sentence punctuation (Thai keeps its spaces, which end phrases)
    def count(text: str) -> int:
        return encoder.count_tokens(text, kind="passage")

    text = re.sub(r"[.!?。！？।\n]+", " " if lang in ("en", "hi") else "", long_document(lang))
    text = text[:8_000]
    out = document_passages(Document(id="u", text=text), count_tokens=count, max_tokens=64)
    check_spans(text, [Span(p.start, p.end) for p in out], count, 64, overlap_tokens=32)
    fills = [count(p.text) for p in out[:-1]]
    assert sum(fills) / len(fills) >= 0.6 * 64  # cut late, not early
    if lang in ("zh", "ja"):  # one endless sentence: every cut is inside it, at a
        # clause mark (，、) when that still fills half the window
        assert min(fills) >= 0.45 * 64


@pytest.mark.parametrize("lang", LANGS)
def test_span_tokens_with_the_real_tokenizer(encoder, lang: str) -> None:
    # what the indexer runs: token offsets, and passages far under their cap
    # not counted again (EDGE_SLACK); every passage still fits its window
    from xsearch.text.chunk_pool import DeadlineTokens
    from xsearch.text.chunking import EDGE_SLACK

    def count(text: str) -> int:
        return encoder.count_tokens(text, kind="passage")

    tokens = DeadlineTokens(count, encoder.token_offsets, None, 60.0)
    text = long_document(lang, 12_000)
    for window in (48, 128, encoder.max_seq_length):
        spans = split_passages(text, count_tokens=tokens, max_tokens=window)
        diffs = [count(text[s.start : s.end]) - count("") - s.tokens for s in spans]
        assert max(diffs) <= 1 < EDGE_SLACK, (window, diffs)
        for doc in (Document(id="d", text=text), Document(id="d", text=text, title="Title")):
            for p in document_passages(doc, count_tokens=tokens, max_tokens=window):
                assert count(p.encode_text) <= window, (window, p.number)
