"""fastdetect: langdetect's own answers, probabilities included, on real and odd text.

The reference is langdetect itself (``Detector.get_probabilities()`` on a
detector from the same seeded factory), computed once per text and shared by
the tests below. Real text comes from ../shared/data (Tatoeba sentences, both
columns, and XQuAD paragraphs) and is skipped when that folder is absent; the
built-in strings always run.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from xsearch.text import detect_language, fastdetect, langid
from xsearch.text.fastdetect import _detect_block, _tables_for, get_probabilities

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
TOLERANCE = 1e-9

Ranked = list[tuple[str, float]] | None  # None: langdetect raised (no usable n-gram)

BUILT_IN = [
    "The quick brown fox jumps over the lazy dog.",
    "Die Katze schläft auf dem Sofa neben dem Fenster.",
    "Où est la gare, s'il vous plaît ?",
    "¿Dónde está la biblioteca municipal?",
    "Questa frase potrebbe essere spagnolo o italiano",
    "Dit is een korte zin in het Nederlands of Afrikaans",
    "Şehir kütüphanesi sabah dokuzda açılıyor.",
    "Thư viện thành phố mở cửa lúc chín giờ sáng.",  # Vietnamese: normalize_vi
    "Москва является столицей России.",
    "Міська бібліотека відчиняється о дев'ятій ранку.",
    "القاهرة هي عاصمة مصر.",
    "این یک جمله کوتاه فارسی است",
    "दिल्ली भारत की राजधानी है।",
    "मुंबई ही महाराष्ट्राची राजधानी आहे",
    "Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
    "北京是中华人民共和国的首都。",
    "東京は日本の首都です。",
    "서울은 한국의 수도입니다.",
    "กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย",
    "iPhone 15 Pro Max цена в Москве",  # mixed scripts
    "Hello мир, hola mundo, مرحبا",
    "ok",
    "Berlin",
    "a",
    "ok ok bueno",
    "Der Zug nach Berlin fährt um 8:15 Uhr ab, Gleis 12 — 45 € bis München.",
    # no usable n-gram: langdetect raises, and so must the port
    "",
    "   ",
    "12345 678 90",
    "!!! ??? ... ---",
    "😀🎉👍",
    "https://example.com/path?q=1&r=2",
    "someone@example.com",
    "NASA ESA",  # capital words are skipped
]


def _factory() -> DetectorFactory:
    return langid._get_factory()  # the one detect_language uses, seed 0


def _ranked(langs: list) -> list[tuple[str, float]]:
    return [(lang.lang, lang.prob) for lang in langs]


_reference_cache: dict[str, Ranked] = {}


def reference(text: str) -> Ranked:
    """langdetect's own answer (memoised: it is the slow side)."""
    if text not in _reference_cache:
        detector = _factory().create()
        detector.append(text)
        try:
            _reference_cache[text] = _ranked(detector.get_probabilities())
        except LangDetectException:
            _reference_cache[text] = None
    return _reference_cache[text]


def port(text: str, factory: DetectorFactory | None = None) -> Ranked:
    try:
        return _ranked(get_probabilities(factory or _factory(), text))
    except LangDetectException:
        return None


def difference(expected: Ranked, got: Ranked) -> float:
    """Largest probability difference; inf when the languages differ."""
    if expected is None or got is None:
        return 0.0 if expected is got else float("inf")
    if [lang for lang, _ in expected] != [lang for lang, _ in got]:
        return float("inf")
    return max((abs(a - b) for (_, a), (_, b) in zip(expected, got, strict=True)), default=0.0)


def assert_same(texts: list[str]) -> None:
    worst = max(((difference(reference(t), port(t)), t) for t in texts), key=lambda d: d[0])
    assert worst[0] <= TOLERANCE, worst


def tatoeba_sentences() -> list[str]:
    """Every 7th pair of each Tatoeba file, both columns: 2,288 sentences."""
    folder = DATA / "tatoeba"
    files = sorted(folder.glob("*.tsv")) if folder.is_dir() else []
    if not files:
        pytest.skip("../shared/data/tatoeba not found")
    out: list[str] = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines()[::7]:
            out += [part for part in line.split("\t")[:2] if part]
    return out


def xquad_paragraphs() -> list[str]:
    """Every 10th XQuAD paragraph in its 12 languages: 288 paragraphs."""
    path = DATA / "xquad" / "parallel_paragraphs.jsonl"
    if not path.is_file():
        pytest.skip("../shared/data/xquad not found")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [text for row in rows[::10] for text in row["context"].values()]


TEXT_SETS: dict[str, Callable[[], list[str]]] = {
    "built-in": lambda: BUILT_IN,
    "tatoeba": tatoeba_sentences,
    "xquad": xquad_paragraphs,
}


def test_built_in_strings_match_langdetect() -> None:
    assert_same(BUILT_IN)
    # both the detected and the "no usable n-gram" paths were exercised
    assert sum(reference(t) is None for t in BUILT_IN) >= 5
    assert sum(bool(reference(t)) for t in BUILT_IN) >= 20


def test_tatoeba_sentences_match_langdetect() -> None:
    texts = tatoeba_sentences()
    assert len(texts) >= 2000
    assert_same(texts)


def test_xquad_paragraphs_match_langdetect() -> None:
    texts = xquad_paragraphs()
    assert_same(texts + [t[: langid.DETECT_CHARS] for t in texts[:24]])


def _original_langdetect(text: str) -> tuple[str, float] | None:
    """langid._langdetect as it was, on langdetect's own detector."""
    ranked = reference(text)
    if not ranked:
        return None
    code = "zh" if ranked[0][0].startswith("zh") else ranked[0][0]
    return code, float(ranked[0][1])


@pytest.mark.parametrize("name", sorted(TEXT_SETS))
def test_detect_language_unchanged(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = TEXT_SETS[name]()
    now = [detect_language(t) for t in texts]
    monkeypatch.setattr(langid, "_langdetect", _original_langdetect)
    before = [detect_language(t) for t in texts]
    assert now == before


def test_same_answers_with_a_prior_map() -> None:
    # _detect_block mirrors langdetect's for any detector, a prior included
    factory = _factory()
    for text in BUILT_IN[:12]:
        original, fast = factory.create(), factory.create()
        for detector in (original, fast):
            detector.set_prior_map({"de": 0.5, "nl": 0.3, "en": 0.2})
            detector.append(text)
        assert (
            difference(
                _ranked(original.get_probabilities()),
                _ranked(fast._sort_probability(_detect_block(fast, _tables_for(factory)))),
            )
            <= TOLERANCE
        )


def test_threads_give_the_sequential_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    # a fresh factory, so the four threads also race to build its tables
    builds: list[int] = []
    build = fastdetect._build
    monkeypatch.setattr(fastdetect, "_build", lambda *a: builds.append(1) or build(*a))
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(0)
    texts = (
        BUILT_IN
        + [
            "La biblioteca municipal abre a las nueve de la mañana y cierra a las seis.",
            "Городская библиотека открывается в девять часов утра.",
        ]
        * 5
    )
    results: list[list[Ranked]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def work(k: int) -> None:
        start.wait()
        results[k] = [port(t, factory) for t in texts[k:] + texts[:k]]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sequential = [port(t, factory) for t in texts]
    for k, got in enumerate(results):
        assert got == sequential[k:] + sequential[:k]
    assert len(builds) == 1  # the tables were built once, then shared
    assert [port(t) for t in texts] == sequential  # same as the shared factory's


# Text where langdetect's cleaning drops the Latin letters (mostly non-Latin
# script), Vietnamese (U+1Exx letters, which langdetect counts as non-Latin),
# capital words and runs of capitals, and characters above the BMP.
ODD = [
    "Москва NASA ESA и iPhone в Москве сегодня",
    "Thư viện thành phố mở cửa lúc chín giờ sáng. Hà Nội ỨNG DỤNG ẩm thực",
    "ABC DEF ghi JKL mno PqR sTu",
    "𠀀𠀁 Han extension B 𠀂 and Gothic 𐌰𐌱",
    "العربية English mixed ﻻ ﷲ text",
    "\u0219\u021b Romanian comma letters \u015f\u0163 and \u06cc Farsi yeh",
]


@pytest.mark.parametrize("name", [*sorted(TEXT_SETS), "odd"])
def test_cleaning_and_ngrams_are_langdetects(name: str) -> None:
    # the two ported loops, compared directly (not only through the
    # probabilities, which could hide a dropped n-gram that was never drawn)
    texts = ODD + BUILT_IN if name == "odd" else TEXT_SETS[name]()
    tables = _tables_for(_factory())
    for text in texts:
        detector = _factory().create()
        detector.append(text)
        appended = detector.text
        detector.cleaning_text()
        assert fastdetect._cleaned(appended) == detector.text, text
        expected = [tables.index[w] for w in detector._extract_ngrams()]
        assert fastdetect._ngram_rows(detector.text, tables.index) == expected, text
