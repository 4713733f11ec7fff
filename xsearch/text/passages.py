"""Document -> passages: chunking plus a language for every passage."""

from __future__ import annotations

from xsearch.documents import Document, Passage
from xsearch.errors import InputError
from xsearch.text.chunking import EDGE_SLACK, CountTokens, Span, Tokenizer, split_passages
from xsearch.text.langcodes import UNDETERMINED
from xsearch.text.langid import (
    DETECT_CHARS,
    UNKNOWN,
    LangGuess,
    detect_language,
    dominant_script,
)

# The document's language is detected on its first few KB, once.
DOC_DETECT_CHARS = 3000
# Passages shorter than this take the document's language (unless their
# script decides): a few words say little, and a document rarely switches
# language for one line.
SHORT_PASSAGE_CHARS = 200
# A long passage takes a language already detected in the document, without its
# own langdetect run, when the n-gram model names it with this posterior or more
# (see _known_language).
SAME_AS_KNOWN_CONF = 0.9


def document_passages(
    doc: Document,
    *,
    count_tokens: CountTokens,
    max_tokens: int,
    overlap_tokens: int = 32,
    detect: bool = True,
    max_passages: int | None = None,
) -> list[Passage]:
    """Split ``doc`` into passages that fit ``max_tokens`` as the encoder sees them.

    The first passage leaves room for the title (``Passage.encode_text``
    prepends it) and is verified with it. The language comes from ``doc.lang``
    when given (normalised to ISO 639-1), else from detection on each passage,
    short or undecided passages inheriting the document's language (detected
    once on its first few KB); with ``detect=False`` it is "und".
    Returns [] for blank text (callers reject such documents).
    ``max_passages``: TooManyPassages (a LimitExceeded) as soon as the document
    certainly makes more, before the rest is chunked and before any detection.
    """
    spans = _spans_with_title(doc, count_tokens, max_tokens, overlap_tokens, max_passages)
    texts = [doc.text[s.start : s.end] for s in spans]
    langs = _languages(doc, texts, detect)
    return [
        Passage(
            doc_id=doc.id, number=n, text=text, start=span.start, end=span.end,
            lang=guess.lang, lang_confidence=guess.confidence, title=doc.title,
        )
        for n, (span, text, guess) in enumerate(zip(spans, texts, langs, strict=True))
    ]


def _spans_with_title(
    doc: Document,
    count_tokens: CountTokens,
    max_tokens: int,
    overlap_tokens: int,
    max_passages: int | None = None,
) -> list[Span]:
    if not doc.title:
        return split_passages(
            doc.text, count_tokens=count_tokens, max_tokens=max_tokens,
            overlap_tokens=overlap_tokens, max_passages=max_passages,
        )
    overhead = count_tokens("")
    title_tokens = max(0, count_tokens(f"{doc.title}\n") - overhead)
    if title_tokens > (max_tokens - overhead) // 2:
        raise InputError(
            f"the title of document {doc.id!r} takes {title_tokens} tokens of the model's "
            f"{max_tokens}-token window",
            fix="shorten the title to under half of the window (or move it into the text)",
        )
    for _ in range(4):  # the estimate is verified on the real first passage
        spans = split_passages(
            doc.text, count_tokens=count_tokens, max_tokens=max_tokens,
            overlap_tokens=overlap_tokens, title_tokens=title_tokens,
            max_passages=max_passages,
        )
        if not spans:
            return spans
        if (
            isinstance(count_tokens, Tokenizer)  # in-context sums (see EDGE_SLACK)
            and spans[0].tokens
            and overhead + title_tokens + spans[0].tokens + EDGE_SLACK <= max_tokens
        ):
            return spans
        first = f"{doc.title}\n{doc.text[spans[0].start : spans[0].end]}"  # = encode_text
        over = count_tokens(first) - max_tokens
        if over <= 0:
            return spans
        title_tokens += over
    raise InputError(
        f"the first passage of document {doc.id!r} does not fit the model's window with "
        "its title",
        fix="shorten the title",
    )


def _languages(doc: Document, texts: list[str], detect: bool) -> list[LangGuess]:
    if doc.lang and doc.lang.strip() and doc.lang.strip().lower() != UNDETERMINED:
        try:
            given = detect_language("", given=doc.lang)
        except InputError as err:
            raise InputError(f"document {doc.id!r}: {err.message}", fix=err.fix) from None
        return [given] * len(texts)
    if not detect or not texts:
        return [UNKNOWN] * len(texts)
    if len(texts) == 1 and len(texts[0]) <= DETECT_CHARS and texts[0] == doc.text:
        # The usual document: one passage, the whole text. The loop below would
        # detect the same string as the document and the passage (one or two
        # runs) and, for a long one, ask the n-gram model about each half,
        # every path ending in the document's guess: give it at once.
        return [_document_language(doc.text, {})]
    return _each_language(doc, texts)


def _each_language(doc: Document, texts: list[str]) -> list[LangGuess]:
    """A language per passage, detecting as little as each needs."""
    doc_guess: LangGuess | None = None  # detected only when a passage needs it
    # (script, language) -> a confident langdetect answer already given in this
    # document: a long passage the fast n-gram model places there takes it
    known: dict[tuple[str, str], LangGuess] = {}
    # Shortcut hits and misses: where passages keep switching language inside
    # (paragraphs alternating), the shortcut only adds its cost: stop trying.
    hits = misses = 0
    out: list[LangGuess] = []
    for text in texts:
        short = len(text) < SHORT_PASSAGE_CHARS
        if not short:
            if doc_guess is None:
                doc_guess = _document_language(doc.text, known)
            if misses <= hits + 2:
                seen = _known_language(text, known)
                if seen is not None:
                    hits += 1
                    out.append(seen)
                    continue
                misses += 1 if known else 0
        own = detect_language(text)
        confident = own.lang != UNDETERMINED and own.confidence >= 0.80
        if confident and not short:
            if own.method == "langdetect":
                known.setdefault((_script(text), own.lang), own)
            out.append(own)
            continue
        if doc_guess is None:
            doc_guess = _document_language(doc.text, known)
        # A short passage keeps the document's language unless its script
        # says otherwise (a Korean paragraph in an English document) or the
        # document's own language is unknown.
        if confident and (own.method == "script" or doc_guess.lang == UNDETERMINED):
            out.append(own)
        else:
            out.append(doc_guess)
    return out


def _script(text: str) -> str:
    return dominant_script(text[:DETECT_CHARS])[0]


def _document_language(text: str, known: dict[tuple[str, str], LangGuess]) -> LangGuess:
    """The document's language, detected once on its first few KB; a confident
    langdetect answer is also a language its passages may evidently be in."""
    sample = text[:DOC_DETECT_CHARS]
    guess = detect_language(sample, max_chars=DOC_DETECT_CHARS)
    if guess.method == "langdetect" and guess.confidence >= SAME_AS_KNOWN_CONF:
        known.setdefault((_script(sample), guess.lang), guess)
    return guess


def _known_language(text: str, known: dict[tuple[str, str], LangGuess]) -> LangGuess | None:
    """The language of a long passage when it is evident, without a langdetect run
    (5-25 ms a passage; the n-gram model of xsearch.text.shortid takes ~1 ms): the
    n-gram model names, at SAME_AS_KNOWN_CONF or more, a language that langdetect
    already gave confidently in this document (the document's own, or an earlier
    passage's) in the same script. Otherwise None: the passage gets its own full
    detection, so mixed-language documents keep a language per passage
    (bench/chunking.py --langs measures the agreement with detecting every one).
    Scripts that decide alone (Greek, Thai, Han, kana ...) never get here: their
    detection is already cheap."""
    if not known:
        return None
    from xsearch.text import shortid

    sample = text[:DETECT_CHARS]
    script = _script(sample)
    if not any(known_script == script for known_script, _lang in known):
        return None  # (a passage in a script that decides alone: its detection is cheap)
    # Both halves of what langdetect would read must agree: a passage that
    # switches language inside it is a close call, left to langdetect.
    mid = len(sample) // 2
    langs = set()
    for half in (sample[:mid], sample[mid:]):
        lang, prob = shortid.classify(half)
        if prob < SAME_AS_KNOWN_CONF:
            return None
        langs.add(lang)
    if len(langs) != 1:
        return None
    return known.get((script, langs.pop()))
