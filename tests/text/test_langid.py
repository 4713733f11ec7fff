"""Language identification: real sentences, short text, determinism, given codes."""

from __future__ import annotations

import threading
import time

import pytest

from tests.text.corpus import SENTENCES
from xsearch.errors import InputError
from xsearch.text import LangGuess, detect_language, normalize_lang
from xsearch.text.langid import SHORT_LETTERS
from xsearch.text.scripts import _RANGES, letter_scripts

SCRIPT_OF_LANG = {
    "en": "Latin", "de": "Latin", "fr": "Latin", "es": "Latin", "tr": "Latin", "vi": "Latin",
    "ru": "Cyrillic", "uk": "Cyrillic", "ar": "Arabic", "fa": "Arabic", "hi": "Devanagari",
    "zh": "Han", "ja": "Hiragana", "ko": "Hangul", "th": "Thai", "el": "Greek", "he": "Hebrew",
    "hy": "Armenian", "ka": "Georgian",
}


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_every_sentence_detected(lang: str) -> None:
    for sentence in SENTENCES[lang]:
        guess = detect_language(sentence)
        assert guess.lang == lang, (sentence, guess)
        assert guess.confidence >= 0.8
        assert guess.method in ("ngram", "langdetect", "script")


def test_coverage_of_languages_and_scripts() -> None:
    # the brief: >= 12 languages in >= 8 scripts
    assert len(SENTENCES) >= 12
    scripts = {SCRIPT_OF_LANG[lang] for lang in SENTENCES}
    assert len(scripts) >= 8
    for lang, sentences in SENTENCES.items():  # the table above is right
        assert SCRIPT_OF_LANG[lang] in letter_scripts(sentences[0])


def test_paragraph_of_several_sentences_is_confident() -> None:
    for lang in ("en", "de", "ru", "ar", "hi", "vi"):
        text = " ".join(SENTENCES[lang])
        # passages (SHORT_LETTERS letters and more) keep langdetect; shorter text the n-gram model
        long_text = sum(ch.isalpha() for ch in text) >= SHORT_LETTERS
        guess = detect_language(text)
        assert guess == LangGuess(lang, guess.confidence, "langdetect" if long_text else "ngram")
        assert guess.confidence >= 0.99
        guess = detect_language(" ".join([text] * 4))
        assert guess == LangGuess(lang, guess.confidence, "langdetect")


@pytest.mark.parametrize(
    ("text", "lang"),
    [("서울", "ko"), ("東京タワー", "ja"), ("กรุงเทพ", "th"), ("Αθήνα", "el"),
     ("ירושלים", "he"), ("Երևան", "hy"), ("თბილისი", "ka")],
)
def test_short_text_in_a_one_language_script(text: str, lang: str) -> None:
    assert detect_language(text) == LangGuess(lang, 0.99, "script")


def test_short_han_is_chinese_with_low_confidence() -> None:
    # "東京" is Japanese as much as Chinese: a hint, below the default threshold
    guess = detect_language("東京")
    assert (guess.lang, guess.method) == ("zh", "script")
    assert guess.confidence < 0.8
    assert detect_language("北京是中华人民共和国的首都和政治中心。").confidence >= 0.9


@pytest.mark.parametrize("text", ["ok", "Москва", "Berlin", "Hauptstadt", "OK ok", "Київ"])
def test_short_latin_and_cyrillic_are_undetermined(text: str) -> None:
    # langdetect says "sk" for "ok" at 0.99999: one word is not a language yet
    assert detect_language(text) == LangGuess("und", 0.0, "und")


def test_short_devanagari_and_arabic_are_low_confidence_hints() -> None:
    for text, lang in (("नमस्ते", "hi"), ("مرحبا", "ar")):
        guess = detect_language(text)
        assert guess.lang in (lang, "mr", "ne", "fa", "ur")
        assert guess.confidence < 0.8


@pytest.mark.parametrize("text", ["", "   \n\t ", "12345 678", "!!! ??? ...", "3.14 + 2 = 5.14"])
def test_no_letters_is_undetermined(text: str) -> None:
    assert detect_language(text) == LangGuess("und", 0.0, "und")


def test_deterministic_across_calls_and_threads() -> None:
    # langdetect samples n-grams at random; with our fixed seed the answer,
    # confidence included, never changes
    texts = ["Die Katze schläft auf dem Sofa neben dem Fenster", "Esta es una frase corta",
             "Questa frase potrebbe essere spagnolo o italiano", "ok ok bueno"]
    expected = [detect_language(t) for t in texts]
    for _ in range(30):
        assert [detect_language(t) for t in texts] == expected
    results: list[list[LangGuess]] = []

    def work() -> None:
        results.append([detect_language(t) for t in texts * 5])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == expected * 5 for r in results)


def test_given_language_wins() -> None:
    assert detect_language("Das ist ganz klar ein deutscher Satz.", given="fr") == LangGuess(
        "fr", 1.0, "given"
    )
    assert detect_language("", given="EN-us") == LangGuess("en", 1.0, "given")
    # "und" or blank given means "not known": detect
    assert detect_language(SENTENCES["de"][0], given="und").lang == "de"
    assert detect_language(SENTENCES["de"][0], given=" ").lang == "de"


@pytest.mark.parametrize(
    ("code", "iso"),
    [("EN", "en"), ("en-US", "en"), ("eng", "en"), ("ger", "de"), ("deu", "de"),
     ("zh_Hant_TW", "zh"), ("zh-cn", "zh"), ("cmn", "zh"), ("iw", "he"), ("fil", None),
     ("pt-BR", "pt"), ("und", "und"), ("ara", "ar"), ("jpn", "ja")],
)
def test_code_normalisation(code: str, iso: str | None) -> None:
    if iso is None:  # ISO 639-3 with no 639-1 code: refused, not guessed
        with pytest.raises(InputError):
            normalize_lang(code)
    else:
        assert normalize_lang(code) == iso


@pytest.mark.parametrize("bad", ["english", "xx", "e", "12", "en_US_", "zz-ZZ"])
def test_invalid_code_names_value_and_fix(bad: str) -> None:
    with pytest.raises(InputError) as info:
        detect_language("some text here", given=bad)
    assert repr(bad) in str(info.value)
    assert "ISO 639-1" in str(info.value)


def test_fast_enough_for_queries() -> None:
    detect_language("warm up the profiles")
    queries = [s for sents in SENTENCES.values() for s in sents] * 3
    t0 = time.perf_counter()
    for q in queries:
        detect_language(q)
    per_query_ms = (time.perf_counter() - t0) / len(queries) * 1000
    assert per_query_ms < 15, per_query_ms  # measured ~1-3 ms here


def test_script_ranges_do_not_overlap() -> None:
    for (a1, b1, _), (a2, _b2, _) in zip(_RANGES, _RANGES[1:], strict=False):
        assert a1 <= b1 < a2


def test_warm_up_loads_the_profiles_once() -> None:
    from xsearch.text import langid, warm_up

    warm_up()
    factory = langid._factory
    assert factory is not None and len(factory.get_lang_list()) == 55
    warm_up()
    assert langid._factory is factory


def test_deterministic_across_processes() -> None:
    # hash randomisation and a fresh random state must not change any answer
    import json
    import os
    import subprocess
    import sys

    texts = ["Questa frase potrebbe essere spagnolo o italiano", "ok ok bueno claro que si",
             "Dit is een korte zin in het Nederlands of Afrikaans"]
    code = (
        "import json,sys; from xsearch.text import detect_language as d; "
        "print(json.dumps([list(map(str, d(t).__dict__.values())) for t in json.load(sys.stdin)]))"
    )
    runs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code], input=json.dumps(texts), env=env,
                             capture_output=True, text=True, check=True)
        runs.add(out.stdout)
    here = json.dumps([list(map(str, detect_language(t).__dict__.values())) for t in texts])
    assert runs == {here + "\n"}
