"""Invariants every chunking result must hold (shared by fast and slow tests)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from xsearch.text import Span
from xsearch.text.scripts import NO_SPACE_SCRIPTS, script_of
from xsearch.text.segment import is_grapheme_boundary

# sentence punctuation after which a cut needs no space
_STOPS = set(".!?…。！？｡．؟۔।॥։።។။;\u037e\"'”’»)]}」』）〉》】〕")


def clean_cut(text: str, i: int) -> bool:
    """A cut at i is not inside a word of a spaced script nor a grapheme cluster."""
    if i in (0, len(text)):
        return True
    prev, ch = text[i - 1], text[i]
    if prev.isspace() or ch.isspace():
        return True
    if not is_grapheme_boundary(text, i):
        return False
    return (
        script_of(prev) in NO_SPACE_SCRIPTS
        or script_of(ch) in NO_SPACE_SCRIPTS
        or prev in _STOPS
    )


def check_spans(
    text: str,
    spans: Sequence[Span],
    count: Callable[[str], int],
    max_tokens: int,
    *,
    title_tokens: int = 0,
    overlap_tokens: int = 0,
    allow_word_cuts: bool = False,
) -> None:
    assert spans, "non-blank text gives passages"
    overhead = count("")
    covered_to = 0
    for n, span in enumerate(spans):
        piece = text[span.start : span.end]
        assert piece and piece == piece.strip(), (n, piece[:40])
        assert count(piece) + (title_tokens if n == 0 else 0) <= max_tokens, n
        assert text[covered_to : span.start].strip() == "", f"text lost before passage {n}"
        if not allow_word_cuts:
            assert clean_cut(text, span.start), (n, text[span.start - 5 : span.start + 5])
            assert clean_cut(text, span.end), (n, text[span.end - 5 : span.end + 5])
        if n:
            prev = spans[n - 1]
            assert prev.start < span.start and prev.end < span.end
            if span.start < prev.end:  # overlap: whole sentences within the budget
                # (budgeted by the sum of the sentences' own counts, which a
                # count of their concatenation can exceed by a few tokens)
                shared = count(text[span.start : prev.end]) - overhead
                slack = max(3, overlap_tokens // 4)
                assert overlap_tokens > 0 and shared <= overlap_tokens + slack, (n, shared)
        covered_to = max(covered_to, span.end)
    assert text[covered_to:].strip() == "", "text lost at the end"
