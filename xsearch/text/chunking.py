"""Split a text into passages that fit the encoder's window.

Sentences are costed and packed greedily; the token count of a concatenation
is close to the sum of its parts, so each finished passage is counted once
more to verify it, and shrunk by a sentence if it overflows. When the counter
also offers ``token_offsets`` (the encoder's tokenizer: see :class:`Tokenizer`),
the text is tokenized once, in blocks of whole sentences, and a sentence's cost
is the number of tokens starting inside it (two bisections), instead of one
tokenizer call per sentence: a ~6x faster, still linear, pass (issue 12: a
10 MB document took ~10 s/MB to chunk). In-context and stand-alone counts of a
sentence agree for space-separated scripts (the tokenizer pre-splits on
spaces) and may differ by a token or so at a sentence edge elsewhere; the
verification count of each passage keeps every passage within the window
either way. A sentence longer than a whole passage is cut at word boundaries
(between characters for Chinese, Japanese, Thai ...), found by an
interpolation search near the estimated cut with a few counts per piece.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from xsearch.errors import ConfigError, EncoderError, LimitExceeded
from xsearch.text import segment as seg
from xsearch.text.segment import sentence_spans

CountTokens = Callable[[str], int]

# Sentences tokenized together when costing by offsets: big enough that the
# per-call overhead vanishes, small enough to keep the tokenizer's output small.
BLOCK_CHARS = 64 * 1024
# Tokens by which a passage counted alone may exceed the sum of its sentences'
# in-context costs. The tokenizers pre-split on whitespace, so the two differ
# only in what is cut at the passage's two edges (the prompt's word-start
# marker; a word of a script written without spaces cut mid-run); the largest
# difference measured (XQuAD paragraphs in 12 languages, long texts in 10
# scripts, windows of 48-512 tokens) is 1 token (tests/text/
# test_chunking_real.py checks every passage's own count). A passage whose sum
# stays this far under its cap is not counted again: for most documents (one
# short passage) that count was a second full tokenization of the text.
EDGE_SLACK = 16
# A whitespace-separated word with at least one letter or digit in it.
_WORD = re.compile(r"\S*?[^\W_]\S*")


@runtime_checkable
class Tokenizer(Protocol):
    """A ``count_tokens`` that can also tokenize once and give token offsets."""

    def __call__(self, text: str) -> int: ...

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of each content token of ``text`` (no prompt, no specials)."""
        ...


class TooManyPassages(LimitExceeded):
    """The text makes more than ``max_passages`` passages (``at_least`` of them):
    raised as soon as that is certain, before the rest of the text is chunked."""

    def __init__(self, at_least: int, limit: int) -> None:
        super().__init__(
            f"the text makes at least {at_least:,} passages, over the limit of {limit:,}",
            fix="split it into smaller documents, or raise XSEARCH_MAX_PASSAGES_PER_DOC",
        )
        self.at_least = at_least
        self.limit = limit


@dataclass(frozen=True)
class Span:
    start: int  # character offsets: the passage is text[start:end]
    end: int
    # Content tokens of the passage as the chunker summed them (in-context
    # costs); 0 when unknown. Not part of equality: two equal spans are the
    # same text whatever was estimated.
    tokens: int = field(default=0, compare=False)


@dataclass
class _Unit:  # a sentence, or a piece of an over-long one
    start: int
    end: int
    cost: int  # tokens of its own, prompt and special tokens excluded


def split_passages(
    text: str,
    *,
    count_tokens: CountTokens,
    max_tokens: int,
    overlap_tokens: int = 32,
    title_tokens: int = 0,
    max_passages: int | None = None,
) -> list[Span]:
    """Spans of ``text`` that each fit ``max_tokens`` by ``count_tokens``.

    ``count_tokens`` counts what the encoder sees (prompt and special tokens
    included), so a passage fits when ``count_tokens(text[s:e]) <= max_tokens``;
    the first passage also leaves ``title_tokens`` free for the title. Spans are
    in order, stripped of surrounding whitespace, and consecutive ones share up
    to ``overlap_tokens`` (at most a quarter of the window) of whole sentences.
    Empty or blank text gives []. Raises ConfigError for a window too small for
    the prompt, a negative overlap, or a title over half the window.

    ``max_passages``: raise TooManyPassages as soon as the text certainly makes
    more, so a huge text costs about the limit's worth of work, not its own size:
    first a bound from its word count (the tokenizers pre-split on whitespace, so
    every word is at least one token), then the running sum of sentence costs
    while costing, then the passages while packing.
    """
    if not text.strip():
        return []
    chunker = _Chunker(text, count_tokens, max_tokens, overlap_tokens, title_tokens)
    chunker.max_passages = max_passages
    if max_passages is not None:
        chunker.check_limit(_word_count(text))
    return chunker.run()


def _word_count(text: str) -> int:
    """Whitespace-separated words holding a letter or digit: the tokenizer's
    normaliser may drop a word of control characters, never one of these."""
    return sum(1 for _ in _WORD.finditer(text))


class _Chunker:
    def __init__(
        self, text: str, count: CountTokens, max_tokens: int, overlap: int, title_tokens: int
    ) -> None:
        self.text = text
        self.count = count
        self.max_tokens = max_tokens
        self.overhead = count("")  # prompt + special tokens, paid once per passage
        self.budget = max_tokens - self.overhead
        if self.budget < 8:
            raise ConfigError(
                f"a passage window of {max_tokens} tokens leaves {self.budget} after the "
                f"prompt and special tokens ({self.overhead})",
                fix="use a model bundle with a longer max_seq_length",
            )
        if overlap < 0:
            raise ConfigError(
                f"passage overlap of {overlap} tokens is negative",
                fix="choose an overlap of 0 (none) or more tokens",
            )
        if not 0 <= title_tokens <= self.budget // 2:
            raise ConfigError(
                f"a title of {title_tokens} tokens leaves too little of the "
                f"{self.budget}-token window for the first passage",
                fix="shorten the title to at most half of the model's window",
            )
        # The overlap is an upper bound ("up to"): on a small window it shrinks
        # to a quarter of it, so passages still make progress.
        self.overlap = min(overlap, self.budget // 4)
        self.title_tokens = title_tokens
        self.by_offsets = isinstance(count, Tokenizer)
        self.max_passages: int | None = None

    def check_limit(self, tokens: int) -> None:
        """TooManyPassages when ``tokens`` content tokens need more passages than
        allowed: a passage holds at most budget + 1 of them (see :meth:`margin`)."""
        if self.max_passages is None:
            return
        at_least = -(-tokens // (self.budget + 1))
        if at_least > self.max_passages:
            raise TooManyPassages(at_least, self.max_passages)

    def margin(self, cap: int) -> int:
        """Tokens kept free when packing by summed costs. Sums of stand-alone counts
        slightly misjudge a concatenation: keep 2% free. In-context (offset) costs
        add up exactly, but charge the passage's first sentence its word-start
        marker, which merges into the prompt's trailing one ("passage: "): the
        passage holds one token fewer than its sum, hence -1. The verifying count
        keeps the passage within the window whatever the tokenizer."""
        return -1 if self.by_offsets else max(1, cap // 50)

    def cost(self, start: int, end: int) -> int:
        return max(1, self.count(self.text[start:end]) - self.overhead)

    def run(self) -> list[Span]:
        units: list[_Unit] = []
        sentences = list(sentence_spans(self.text))
        if self.by_offsets:
            costs = self.costs_by_offsets(sentences, self.count)
        else:
            costs, total = [], 0
            for start, end in sentences:
                costs.append(self.cost(start, end))
                total += costs[-1]
                if len(costs) % 64 == 0:
                    self.check_limit(total)
        self.check_limit(sum(costs))
        for (start, end), cost in zip(sentences, costs, strict=True):
            if cost > self.budget:
                units.extend(self.split_long(start, end, cost, self.budget))
            else:
                units.append(_Unit(start, end, cost))
        return self.pack(units)

    def costs_by_offsets(self, sentences: list[tuple[int, int]], tok: Tokenizer) -> list[int]:
        """Cost of each sentence = tokens starting inside it, the text tokenized once
        in blocks of whole sentences (so no token straddles two blocks)."""
        costs: list[int] = []
        i, total = 0, 0
        while i < len(sentences):
            j = i + 1  # sentences[i:j] form the block
            while j < len(sentences) and sentences[j][1] - sentences[i][0] <= BLOCK_CHARS:
                j += 1
            base = sentences[i][0]
            block = self.text[base : sentences[j - 1][1]]
            starts = [base + s for s, _e in tok.token_offsets(block)]
            # A token that starts in the whitespace before a sentence (the
            # tokenizer's word-start marker before a CJK or Arabic sentence, ...)
            # is paid by that sentence: in a passage it is there too, while a
            # sentence counted alone misses it (sums then ran ~10% short of the
            # passage's count, and each passage was counted again and again).
            prev_end = base
            for start, end in sentences[i:j]:
                n = bisect_left(starts, end) - bisect_left(starts, min(start, prev_end))
                costs.append(max(1, n))
                total += costs[-1]
                prev_end = end
            i = j
            self.check_limit(total)  # once per block: stop before the rest
        return costs

    # --- packing ----------------------------------------------------------
    def pack(self, units: list[_Unit]) -> list[Span]:
        spans: list[Span] = []
        i, done = 0, -1  # units[: done + 1] are in some passage already
        while done < len(units) - 1:
            cap = self.budget - (0 if spans else self.title_tokens)
            if units[i].cost > cap:  # only for the first passage, with a title
                u = units[i]
                units[i : i + 1] = self.split_long(u.start, u.end, u.cost, cap)
            i, j = self.fill(units, i, cap, done + 1)
            tokens = sum(u.cost for u in units[i : j + 1])
            spans.append(Span(units[i].start, units[j].end, tokens))
            if self.max_passages is not None and len(spans) > self.max_passages:
                raise TooManyPassages(len(spans), self.max_passages)
            done = j
            if j < len(units) - 1:
                i = self.next_start(units, i, j)
        return spans

    def fill(self, units: list[_Unit], i: int, cap: int, first_new: int) -> tuple[int, int]:
        """First and last unit of the passage that starts at unit i (overlap
        included) and must reach at least unit ``first_new``: greedy on the
        sums of unit costs, then verified by counting the passage once."""
        target = cap - self.margin(cap)
        j, total = i, units[i].cost
        while j + 1 < len(units) and total + units[j + 1].cost <= target:
            j += 1
            total += units[j].cost
        reserved = self.max_tokens - cap - self.overhead  # the title's share
        if self.by_offsets and total <= cap - EDGE_SLACK:
            return i, j  # exact in-context sums, far enough under the cap
        while i < j:
            if self.count(self.text[units[i].start : units[j].end]) + reserved <= self.max_tokens:
                break
            # Too long after all: drop a new unit at the end, or, when only
            # the one new unit is left, carried overlap at the front (each
            # unit alone was counted exactly and fits).
            if j > first_new:
                j -= 1
            else:
                i += 1
        return i, j

    def next_start(self, units: list[_Unit], i: int, j: int) -> int:
        """First unit of the next passage: trailing sentences of the last one,
        up to the overlap budget, as long as the next unit still fits."""
        k, carried = j + 1, 0
        while k - 1 > i and carried + units[k - 1].cost <= self.overlap:
            k -= 1
            carried += units[k].cost
        room = self.budget - self.margin(self.budget)
        while k <= j and carried + units[j + 1].cost > room:
            carried -= units[k].cost
            k += 1
        return k

    # --- over-long sentences ------------------------------------------------
    def split_long(self, start: int, end: int, cost: int, cap: int) -> list[_Unit]:
        """Cut ``text[start:end]`` (``cost`` tokens) into pieces of <= cap tokens.

        Only a window ahead of each cut is ever counted, never the remainder:
        counting the rest of a 1 MB unpunctuated text per piece is quadratic.
        """
        pieces: list[_Unit] = []
        chars_per_token = max(1.0, (end - start) / cost)
        window = int(cap * chars_per_token * 1.25) + 32
        while start < end:
            cut, piece_cost, window = self.cut_point(start, end, cap, window)
            pieces.append(_Unit(start, cut, piece_cost))
            start = cut
            while start < end and self.text[start].isspace():
                start += 1
        return pieces

    def cut_point(self, start: int, end: int, cap: int, window: int) -> tuple[int, int, int]:
        """End and cost of the piece starting at ``start``, and the window used."""
        text = self.text
        while True:
            limit = min(end, start + window)
            whole = self.cost(start, limit)
            if whole <= cap:
                if limit == end:
                    return end, whole, window
                window *= 2  # the whole window fits: the best cut lies beyond
                continue
            edge = (limit, whole)
            best_w = None
            if seg.has_word_break(text, start, limit):
                best_w = self.farthest_fit(start, cap, edge, seg.is_word_break)
            # A word or clause break wins unless it wastes half the passage and
            # a break between characters (CJK, Thai) reaches farther.
            if best_w and best_w[1] * 2 >= cap:
                return (*best_w, window)
            best_c = None
            if seg.has_no_space_script(text, start, limit):
                best_c = self.farthest_fit(start, cap, edge, seg.is_char_break)
            if best_c and (best_w is None or best_c[0] > best_w[0]):
                return (*best_c, window)
            if best_w:
                return (*best_w, window)
            best_g = self.farthest_fit(start, cap, edge, seg.is_any_break)
            if best_g:  # a "word" longer than a passage (URL, blob): no better place
                return (*best_g, window)
            raise EncoderError(
                f"cannot cut the text at offset {start} into pieces of {cap} tokens",
                fix="check the tokenizer: a single character counts more than a passage",
            )

    def farthest_fit(
        self, start: int, cap: int, edge: tuple[int, int], is_break: Callable[[str, int], bool]
    ) -> tuple[int, int] | None:
        """Farthest offset ``c`` with ``is_break(text, c)`` whose piece
        ``text[start:c]`` fits ``cap``, and its cost; None if no break fits.

        Token counts grow about linearly with length, so the search
        interpolates on them (2-3 counts per piece where bisection needs ~10);
        after a few steps it falls back to bisection.
        """
        lo_pos, lo_cost = start, 0  # text[start:lo_pos] fits
        hi_pos, hi_cost = edge  # text[start:hi_pos] does not
        best: tuple[int, int] | None = None
        for step in itertools.count():
            if step < 6:
                guess = lo_pos + (hi_pos - lo_pos) * (cap - lo_cost) / max(1, hi_cost - lo_cost)
            else:
                guess = (lo_pos + hi_pos) / 2
            cut = self.nearest_break(int(guess), lo_pos, hi_pos, is_break)
            if cut is None:
                return best
            cost = self.cost(start, cut)
            if cost <= cap:
                lo_pos, lo_cost, best = cut, cost, (cut, cost)
            else:
                hi_pos, hi_cost = cut, cost
        return best  # unreachable: the loop returns

    def nearest_break(
        self, guess: int, lo: int, hi: int, is_break: Callable[[str, int], bool]
    ) -> int | None:
        """A break strictly between lo and hi: the last one at or before
        ``guess``, else the first one after it."""
        guess = min(max(guess, lo + 1), hi - 1)
        for i in range(guess, lo, -1):
            if is_break(self.text, i):
                return i
        for i in range(guess + 1, hi):
            if is_break(self.text, i):
                return i
        return None
