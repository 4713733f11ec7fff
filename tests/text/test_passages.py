"""document_passages: offsets, titles, languages per passage."""

from __future__ import annotations

import pytest

from tests.text.checks import check_spans
from tests.text.corpus import SENTENCES, long_document
from tests.text.counters import Recording, simple_count
from xsearch.documents import Document
from xsearch.errors import InputError
from xsearch.text import Span, detect_language, document_passages
from xsearch.text.passages import SHORT_PASSAGE_CHARS


def passages(doc: Document, max_tokens: int = 64, **kw):
    return document_passages(doc, count_tokens=simple_count, max_tokens=max_tokens, **kw)


def test_passages_map_back_to_the_document() -> None:
    doc = Document(id="d1", text=long_document("en", 3_000), title="Super Bowl")
    out = passages(doc)
    assert [p.number for p in out] == list(range(len(out)))
    for p in out:
        assert p.text == doc.text[p.start : p.end]
        assert (p.doc_id, p.title) == ("d1", "Super Bowl")
    spans = [Span(p.start, p.end) for p in out]
    check_spans(doc.text, spans, simple_count, 64, overlap_tokens=32)
    assert len({p.point_id for p in out}) == len(out)


def test_first_passage_fits_with_its_title() -> None:
    title = "A rather long title about libraries, frogs, bread and trains in many cities"
    doc = Document(id="t", text=" ".join(SENTENCES["en"] * 10), title=title)
    out = passages(doc, max_tokens=48)
    assert simple_count(out[0].encode_text) <= 48
    assert out[0].encode_text.startswith(title + "\n")
    assert all(simple_count(p.encode_text) <= 48 for p in out)
    assert out[1].encode_text == out[1].text  # the title goes with the first passage only
    # the first passage gave room to the title, the others did not need to
    untitled = passages(Document(id="t", text=doc.text), max_tokens=48)
    assert len(out[0].text) < len(untitled[0].text)


def test_a_title_that_fills_the_window_is_refused() -> None:
    doc = Document(id="big-title", text="Short text.", title="word " * 40)
    with pytest.raises(InputError) as info:
        passages(doc, max_tokens=64)
    assert "'big-title'" in str(info.value) and "shorten the title" in str(info.value)


def test_blank_text_gives_no_passage() -> None:
    assert passages(Document(id="b", text=" \n ")) == []


def test_given_language_wins_and_is_normalised() -> None:
    doc = Document(id="g", text=" ".join(SENTENCES["de"] * 8), lang="EN-gb")
    out = passages(doc)
    assert len(out) > 1
    assert {(p.lang, p.lang_confidence) for p in out} == {("en", 1.0)}


def test_invalid_given_language_names_the_document() -> None:
    doc = Document(id="bad-lang", text="Hallo Welt.", lang="german")
    with pytest.raises(InputError) as info:
        passages(doc)
    assert "'bad-lang'" in str(info.value) and "'german'" in str(info.value)


@pytest.mark.parametrize("lang", ["en", "ru", "ar", "hi", "zh", "ja", "th", "ko", "el"])
def test_languages_are_detected_per_passage(lang: str) -> None:
    doc = Document(id=lang, text=long_document(lang, 4_000))
    out = passages(doc, max_tokens=128)
    assert len(out) > 2
    assert all(p.lang == lang for p in out), [(p.lang, p.text[:30]) for p in out]


def test_mixed_document_gets_a_language_per_passage() -> None:
    parts = [" ".join(SENTENCES[lang] * 3) for lang in ("en", "de", "ru", "ko")]
    doc = Document(id="mix", text="\n\n".join(parts))
    out = passages(doc, max_tokens=100, overlap_tokens=0)
    bounds, pos = [], 0
    for part in parts:
        bounds.append((pos, pos + len(part)))
        pos += len(part) + 2
    seen = []
    for p in out:
        inside = [i for i, (a, b) in enumerate(bounds) if p.start >= a and p.end <= b]
        if inside:  # a passage from one part has that part's language
            assert p.lang == ("en", "de", "ru", "ko")[inside[0]], (p.lang, p.text[:40])
            seen.append(p.lang)
    assert set(seen) == {"en", "de", "ru", "ko"}


def test_short_passages_inherit_the_document_language() -> None:
    # a short last line in English does not make a German document English
    tail = "Thank you very much for reading this."
    window = max(simple_count(s) for s in SENTENCES["de"]) + 2  # one sentence per passage
    text = " ".join(SENTENCES["de"]) + "\n\n" + tail
    out = passages(Document(id="s", text=text), max_tokens=window, overlap_tokens=0)
    assert [p.text for p in out] == SENTENCES["de"] + [tail]
    assert [p.lang for p in out] == ["de"] * 5
    assert detect_language(tail).lang == "en"  # on its own it would be English


def test_detect_false_leaves_languages_undetermined() -> None:
    out = passages(Document(id="n", text=" ".join(SENTENCES["fr"] * 6)), detect=False)
    assert {p.lang for p in out} == {"und"}
    assert {p.lang_confidence for p in out} == {0.0}


def test_counting_is_linear_for_documents() -> None:
    doc = Document(id="long", text=long_document("ru", 200_000), title="Заголовок")
    counter = Recording(simple_count)
    out = document_passages(doc, count_tokens=counter, max_tokens=256)
    assert counter.chars <= 3 * len(doc.text)
    assert out[-1].end == len(doc.text.rstrip())


def _parts_and_languages(parts: list[tuple[str, str]], max_tokens: int = 128) -> set[str]:
    """Passages of a document made of ``parts`` (lang, text): each long passage that
    lies within one part must have that part's language (short ones inherit the
    document's: test_short_passages_inherit_...); returns the languages seen."""
    doc = Document(id="mix", text="\n\n".join(text for _lang, text in parts))
    out = passages(doc, max_tokens=max_tokens, overlap_tokens=0)
    bounds, pos = [], 0
    for lang, text in parts:
        bounds.append((lang, pos, pos + len(text)))
        pos += len(text) + 2
    seen = set()
    for p in out:
        inside = [lang for lang, a, b in bounds if p.start >= a and p.end <= b]
        if inside and len(p.text) >= SHORT_PASSAGE_CHARS:
            assert p.lang == inside[0], (p.lang, p.text[:40])
            seen.add(p.lang)
    return seen


@pytest.mark.parametrize("first", ["en", "ja"])
def test_half_english_half_japanese_keeps_a_language_per_passage(first: str) -> None:
    """Long passages in the document's script and language take the document's
    language without their own langdetect run; the other half (another script)
    is still detected passage by passage, whichever half comes first."""
    halves = {lang: long_document(lang, 3_000) for lang in ("en", "ja")}
    order = [first, "ja" if first == "en" else "en"]
    # 320 tokens: Japanese passages of 200+ characters (a token a character)
    parts = [(lang, halves[lang]) for lang in order]
    assert _parts_and_languages(parts, max_tokens=320) == {"en", "ja"}


def test_same_script_mix_keeps_a_language_per_passage() -> None:
    """English then French, both Latin: the n-gram model disagrees with the
    document's language on the French passages, which are then detected alone."""
    parts = [(lang, long_document(lang, 3_000)) for lang in ("en", "fr", "es")]
    assert _parts_and_languages(parts) == {"en", "fr", "es"}


def _one_passage_texts() -> list[str]:
    texts = [s for sents in SENTENCES.values() for s in sents]
    texts += [" ".join(sents[:3]) for sents in SENTENCES.values()]  # 200+ chars: long path
    texts += [long_document(lang, 900) for lang in ("en", "de", "ru", "ar", "hi", "zh", "ja")]
    texts += ["ok", "Berlin", "12 34", "NASA ESA", "iPhone 15 цена в Москве сегодня"]
    return texts


@pytest.mark.parametrize("text", _one_passage_texts())
def test_a_one_passage_document_gets_what_each_passage_would(text: str) -> None:
    # the shortcut for the usual document (one passage, the whole text) gives
    # exactly the general per-passage answer, confidence and method included
    from xsearch.text.passages import _each_language, _languages

    doc = Document(id="d", text=text)
    assert _languages(doc, [text], True) == _each_language(doc, [text])
