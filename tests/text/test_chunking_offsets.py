"""Chunking with a tokenizer that gives offsets (issue 12 #4): the text is tokenized
once, in blocks, instead of once per sentence; passages still fit and read the same."""

from __future__ import annotations

import pytest

from tests.text.checks import check_spans
from tests.text.corpus import SENTENCES, long_document
from xsearch.documents import Document
from xsearch.text import document_passages, split_passages
from xsearch.text.chunking import BLOCK_CHARS, EDGE_SLACK, Tokenizer
from xsearch.text.segment import sentence_spans

LANGS = ["en", "ru", "ar", "hi", "zh", "ja", "th", "ko", "el", "he"]


class BpeTokens:
    """A SentencePiece-like BPE (Metaspace, like XLM-R): counts like an encoder
    (prompt + specials) and gives content-token offsets; records its calls."""

    def __init__(self, corpus: list[str]) -> None:
        from tokenizers import (
            Tokenizer as HfTokenizer,
        )
        from tokenizers import models, normalizers, pre_tokenizers, processors, trainers

        tok = HfTokenizer(models.BPE(unk_token="<unk>"))
        tok.normalizer = normalizers.NFKC()
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        trainer = trainers.BpeTrainer(
            vocab_size=2000, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False
        )
        tok.train_from_iterator(corpus, trainer)
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A </s>", special_tokens=[("<s>", 1), ("</s>", 2)]
        )
        self.tok = tok
        self.count_calls = 0
        self.offset_calls = 0

    def __call__(self, text: str) -> int:
        self.count_calls += 1
        return len(self.tok.encode("passage: " + text).ids)

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        self.offset_calls += 1
        enc = self.tok.encode(text)
        return [o for o, sp in zip(enc.offsets, enc.special_tokens_mask, strict=True) if not sp]


class CountOnly:
    def __init__(self, tokens: BpeTokens) -> None:
        self.tokens = tokens
        self.calls = 0

    def __call__(self, text: str) -> int:
        self.calls += 1
        return self.tokens(text)


@pytest.fixture(scope="module")
def bpe() -> BpeTokens:
    corpus = [s for sents in SENTENCES.values() for s in sents]
    return BpeTokens(corpus)


def test_the_protocol_is_recognised(bpe: BpeTokens) -> None:
    assert isinstance(bpe, Tokenizer)
    assert not isinstance(CountOnly(bpe), Tokenizer)


@pytest.mark.parametrize("lang", LANGS)
def test_passages_fit_and_cover_the_text(bpe: BpeTokens, lang: str) -> None:
    text = long_document(lang, 20_000)
    spans = split_passages(text, count_tokens=bpe, max_tokens=64, overlap_tokens=8)
    check_spans(text, spans, bpe, 64, overlap_tokens=8)


@pytest.mark.parametrize("lang", ["en", "zh", "ar"])
def test_as_many_passages_as_counting_each_sentence(
    bpe: BpeTokens, lang: str
) -> None:
    """Costs from offsets are exact where stand-alone counts run about a token per
    sentence short (the prompt's trailing space marker), so the cuts can move by a
    sentence (and every later one with it); the number of passages stays within a
    few percent."""
    text = long_document(lang, 20_000)
    by_offsets = split_passages(text, count_tokens=bpe, max_tokens=64, overlap_tokens=8)
    by_count = split_passages(text, count_tokens=CountOnly(bpe), max_tokens=64, overlap_tokens=8)
    assert abs(len(by_offsets) - len(by_count)) <= 0.05 * len(by_count) + 1
    check_spans(text, by_offsets, bpe, 64, overlap_tokens=8)


def test_tokenizer_calls_grow_with_passages_not_sentences(bpe: BpeTokens) -> None:
    """Linear in the text: one tokenization per block plus about one verifying
    count per passage, where the counting path counts every sentence."""
    text = long_document("en", 300_000)
    n_sentences = len(list(sentence_spans(text)))
    bpe.count_calls = bpe.offset_calls = 0
    # a window most sentences fit (this small BPE makes long XQuAD sentences of
    # 100+ tokens; an over-long sentence is cut by counting, on either path)
    spans = split_passages(text, count_tokens=bpe, max_tokens=512, overlap_tokens=16)
    assert bpe.offset_calls <= len(text) // BLOCK_CHARS + 2
    offsets_path = bpe.count_calls
    assert offsets_path <= 1.5 * len(spans) + 5, (offsets_path, len(spans))
    counting = CountOnly(bpe)
    split_passages(text, count_tokens=counting, max_tokens=512, overlap_tokens=16)
    assert counting.calls >= n_sentences  # what the offsets path saves
    assert offsets_path * 3 < counting.calls


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("window", [48, 64, 512])
def test_span_tokens_are_the_passage_count(bpe: BpeTokens, lang: str, window: int) -> None:
    # Span.tokens (the in-context sum) lets a passage far under its cap skip
    # its verifying count: it must be the passage's own count, up to its edges,
    # well within EDGE_SLACK (scripts without spaces included)
    text = long_document(lang, 8_000)
    spans = split_passages(text, count_tokens=bpe, max_tokens=window, overlap_tokens=8)
    overhead = bpe("")
    diffs = [bpe(text[s.start : s.end]) - overhead - s.tokens for s in spans]
    assert all(s.tokens > 0 for s in spans)
    # counted alone a passage may lose a token or so at its edges (an
    # overestimate is safe); it must never gain anywhere near EDGE_SLACK (this
    # small BPE, with <unk> for rare letters, gains up to 3 where a passage
    # starts inside a cut sentence; the real tokenizer: 1)
    assert max(diffs) <= EDGE_SLACK // 4 and min(diffs) >= -EDGE_SLACK, diffs
    check_spans(text, spans, bpe, window, overlap_tokens=8)


def test_a_short_document_is_tokenized_once(bpe: BpeTokens) -> None:
    # one passage of several sentences (the common document): its offsets are
    # the only full tokenization; the other count is the prompt's overhead
    text = " ".join(SENTENCES["en"][:4])
    bpe.count_calls = bpe.offset_calls = 0
    spans = split_passages(text, count_tokens=bpe, max_tokens=512)
    assert len(spans) == 1 and bpe.offset_calls == 1
    assert bpe.count_calls == 1  # count(""): the prompt and special tokens
    # with a title: the title's count, but no count of title + passage either
    bpe.count_calls = 0
    out = document_passages(
        Document(id="d", text=text, title="A title"), count_tokens=bpe, max_tokens=512,
        detect=False,
    )
    assert len(out) == 1 and bpe.count_calls == 3  # two overheads and the title
    assert bpe(out[0].encode_text) <= 512


def test_a_passage_near_its_cap_is_still_verified(bpe: BpeTokens) -> None:
    # a full passage (sum within EDGE_SLACK of the cap) is counted once more
    text = long_document("en", 6_000)
    bpe.count_calls = 0
    spans = split_passages(text, count_tokens=bpe, max_tokens=64, overlap_tokens=0)
    assert len(spans) > 3
    full = [s for s in spans if s.tokens > 64 - bpe("") - EDGE_SLACK]
    assert len(full) > 3 and bpe.count_calls >= 1 + len(full)
