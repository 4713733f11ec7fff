"""The passage limit stops chunking early (issue 12 #4 follow-up): a text far over
``max_passages`` costs about the limit's worth of work, not its own size."""

from __future__ import annotations

import pytest

from tests.text.counters import Recording, simple_count
from xsearch.errors import LimitExceeded
from xsearch.text.chunking import TooManyPassages, split_passages

SENTENCE = "The river floods the valley every spring and the farmers move uphill. "
JA = "川は毎年春に谷をあふれさせ、農家は高台へ移る。"


def test_word_count_refuses_before_any_sentence_is_counted() -> None:
    text = SENTENCE * 20_000  # ~1.4 MB, ~260k words: far over 10 passages of 64 tokens
    counter = Recording(simple_count)
    with pytest.raises(TooManyPassages) as info:
        split_passages(text, count_tokens=counter, max_tokens=64, max_passages=10)
    assert isinstance(info.value, LimitExceeded)  # a 413 through the API
    assert info.value.limit == 10 and info.value.at_least > 10
    assert "XSEARCH_MAX_PASSAGES_PER_DOC" in info.value.fix
    assert counter.chars == 0  # only count(""), for the prompt's overhead


def test_costing_stops_early_when_words_do_not_tell() -> None:
    """Japanese has no spaces: the word count says little, the running sum of
    sentence costs stops the chunker after about the limit's worth of text."""
    text = JA * 20_000  # ~460k characters, one 'word' per sentence
    counter = Recording(simple_count)
    with pytest.raises(TooManyPassages):
        split_passages(text, count_tokens=counter, max_tokens=64, max_passages=10)
    assert counter.chars < len(text) / 20, counter.chars


def test_a_text_within_the_limit_is_chunked_as_without_it() -> None:
    text = SENTENCE * 30
    free = split_passages(text, count_tokens=simple_count, max_tokens=64)
    limited = split_passages(
        text, count_tokens=simple_count, max_tokens=64, max_passages=len(free)
    )
    assert limited == free
    with pytest.raises(TooManyPassages) as info:  # one fewer: refused, saying how many
        split_passages(text, count_tokens=simple_count, max_tokens=64, max_passages=len(free) - 1)
    assert info.value.at_least >= len(free)
