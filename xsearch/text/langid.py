"""Language identification: the script, an n-gram model for short text, langdetect for long.

Short text (queries, under SHORT_LETTERS letters) goes to xsearch.text.shortid
(py3langid's model with a prior and abstention): on 3-word query prefixes it
is right far more often than langdetect and wrong far less, in ~50 us instead
of ~1 ms (bench/langid_short.py). Longer text (passages) stays with langdetect.

langdetect samples n-grams at random: without a fixed seed the same text can
get two different answers. Its probabilities are also overconfident on short
text ("ok" -> Slovak at 0.99999), so its confidence is capped by the number of
letters (caps measured on Tatoeba sentences: accuracy ~0.94 under 20 letters,
~0.98 under 40, ~0.997 above). Scripts that belong to one language (Hangul,
kana, Thai, Greek, ...) decide without langdetect: faster, and right even for
one word.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from xsearch.text import scripts as S
from xsearch.text.langcodes import UNDETERMINED, normalize_lang

# Text beyond this many characters adds little evidence and costs time:
# detection takes ~2 ms on 1000 characters here and ~8 ms on 4000, most of it
# langdetect's n-gram extraction, which grows with the text (its trials, run
# by fastdetect, take ~1 ms whatever the length; bench/langid.py).
DETECT_CHARS = 1000
# Below this many letters the short-text model decides (every XQuAD and
# Tatoeba question is shorter); passages are longer and keep langdetect, whose
# answers the indexed collections were built with.
SHORT_LETTERS = 200

# Scripts used (nearly) only by one language: the script alone decides.
_SCRIPT_LANG = {
    S.HANGUL: "ko", S.THAI: "th", S.GREEK: "el", S.HEBREW: "he", S.ARMENIAN: "hy",
    S.GEORGIAN: "ka", S.BENGALI: "bn", S.GURMUKHI: "pa", S.GUJARATI: "gu", S.ORIYA: "or",
    S.TAMIL: "ta", S.TELUGU: "te", S.KANNADA: "kn", S.MALAYALAM: "ml", S.SINHALA: "si",
    S.LAO: "lo", S.KHMER: "km", S.MYANMAR: "my", S.TIBETAN: "bo", S.ETHIOPIC: "am",
}
# Scripts shared by several languages but with one main one: guessed with a
# low confidence when langdetect cannot tell (hi vs mr/ne, ar vs fa/ur).
_SCRIPT_MAIN = {S.DEVANAGARI: "hi", S.ARABIC: "ar"}
_SCRIPT_MAIN_CONF = 0.5
# The script each langdetect profile is written in (Latin when not listed): an
# answer in another script than the text's is noise (langdetect says "ko" for
# "東京").
_LANGDETECT_SCRIPT = {
    **{c: S.CYRILLIC for c in ("bg", "mk", "ru", "uk")},
    **{c: S.ARABIC for c in ("ar", "fa", "ur")},
    **{c: S.DEVANAGARI for c in ("hi", "mr", "ne")},
    **{lang: script for script, lang in _SCRIPT_LANG.items()},
    "zh": S.HAN,
    "ja": "Japanese",
}


@dataclass(frozen=True)
class LangGuess:
    lang: str  # ISO 639-1 code or "und"
    confidence: float  # 0..1; 1.0 when given by the user
    method: str  # "given" | "langdetect" | "ngram" (short text) | "script" | "und"


UNKNOWN = LangGuess(UNDETERMINED, 0.0, "und")

_factory_lock = threading.Lock()
_factory = None


def _get_factory():  # -> langdetect.DetectorFactory
    """Load the langdetect profiles once (~0.6 s); detectors are made per call.

    A Detector holds per-call state and is never shared between threads; the
    factory's tables are only read after loading, so sharing it is safe.
    """
    global _factory
    if _factory is None:
        with _factory_lock:
            if _factory is None:
                from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

                factory = DetectorFactory()
                factory.load_profile(PROFILES_DIRECTORY)
                factory.set_seed(0)  # per instance: determinism without global state
                from xsearch.text import fastdetect

                fastdetect.prepare(factory)  # its tables (~0.2 s) at warm-up, not on a query
                _factory = factory
    return _factory


def warm_up() -> None:
    """Load langdetect's profiles and the short-text model now (~1 s), not on a query."""
    _get_factory()
    from xsearch.text import shortid

    shortid.warm_up()


def _length_cap(letters: int, words: int) -> float:
    if letters < 8 or words < 2:
        return 0.6  # one word: "Berlin", "ok", "Москва" are not a language yet
    if letters < 20:
        return 0.94
    if letters < 40:
        return 0.98
    return 0.997


def _langdetect(text: str) -> tuple[str, float] | None:
    from langdetect.lang_detect_exception import LangDetectException

    from xsearch.text.fastdetect import get_probabilities

    try:
        # langdetect's answer, bit for bit, with its trials loop in numpy
        ranked = get_probabilities(_get_factory(), text)
    except LangDetectException:  # no usable n-gram in the text
        return None
    if not ranked:
        return None
    code = "zh" if ranked[0].lang.startswith("zh") else ranked[0].lang
    return code, float(ranked[0].prob)


def dominant_script(text: str) -> tuple[str, int]:
    """The script of most letters, and the letter count; Latin loses to any
    other script covering a quarter of the letters (brand names, acronyms)."""
    counts = S.letter_scripts(text)
    letters = sum(counts.values())
    kana = counts.pop(S.HIRAGANA, 0) + counts.pop(S.KATAKANA, 0)
    # Han + kana is Japanese (kana are 30-60% of Japanese letters); a stray
    # kana in Chinese text is not.
    if kana and kana * 10 >= kana + counts[S.HAN]:
        counts["Japanese"] = kana + counts.pop(S.HAN, 0)
    counts.pop(S.OTHER, None)
    if not counts:
        return S.OTHER, letters
    non_latin = [(n, s) for s, n in counts.items() if s != S.LATIN]
    if non_latin:
        n, script = max(non_latin)
        if n * 4 >= letters:
            return script, letters
    return max((n, s) for s, n in counts.items())[1], letters


def _by_script(script: str, text: str) -> LangGuess | None:
    if script == "Japanese":
        return LangGuess("ja", 0.99, "script")
    if script == S.HAN:
        han = sum(1 for ch in text if S.script_of(ch) == S.HAN)
        # Han alone is Chinese unless it is a short Japanese word ("東京").
        return LangGuess("zh", 0.95 if han >= 10 else 0.85 if han >= 4 else 0.7, "script")
    if script in _SCRIPT_LANG:
        return LangGuess(_SCRIPT_LANG[script], 0.99, "script")
    return None


def detect_language(
    text: str,
    *,
    given: str | None = None,
    min_confidence: float = 0.80,
    max_chars: int = DETECT_CHARS,
) -> LangGuess:
    """Guess the language of ``text`` (ISO 639-1), deterministically.

    A language ``given`` by the user wins (normalised: "EN", "en-US", "eng" ->
    "en"; an invalid code raises InputError). Otherwise the letters' script
    decides when it belongs to one language; else, for text of two words or
    more under SHORT_LETTERS letters, the short-text model (method "ngram",
    accepted at its own calibrated shortid.MIN_PROB, the confidence being its
    posterior); else langdetect, accepted at ``min_confidence``. Below that
    the result is "und", except for text in a script with one main language,
    returned with a low confidence so callers can still use it as a hint:
    Devanagari -> hi and Arabic -> ar (0.5, unless the model names mr/ne/fa/ur
    with more), Han without kana -> zh (0.7 for
    fewer than 4 characters: "東京" may be Japanese). Only the first
    ``max_chars`` characters are looked at. Thread-safe.
    """
    if given is not None and given.strip():
        lang = normalize_lang(given)
        if lang != UNDETERMINED:
            return LangGuess(lang, 1.0, "given")
    sample = text[:max_chars]
    script, letters = dominant_script(sample)
    if letters == 0 or script == S.OTHER:
        return UNKNOWN
    guess = _by_script(script, sample)
    if guess is not None:
        return guess
    words = len(sample.split())
    if letters < SHORT_LETTERS and words >= 2:
        return _short(sample, script)
    cap = _length_cap(letters, words)
    if cap < min_confidence and script not in _SCRIPT_MAIN:
        return UNKNOWN  # langdetect could not be believed: save its ~5 ms
    detected = _langdetect(sample)
    if detected is not None:
        code, prob = detected
        conf = min(prob, cap)
        if _LANGDETECT_SCRIPT.get(code, S.LATIN) == script and conf >= min_confidence:
            return LangGuess(code, round(conf, 4), "langdetect")
    if script in _SCRIPT_MAIN:
        if detected is not None and _LANGDETECT_SCRIPT.get(detected[0]) == script:
            conf = min(detected[1], cap)
            if conf > _SCRIPT_MAIN_CONF:
                return LangGuess(detected[0], round(conf, 4), "langdetect")
        return LangGuess(_SCRIPT_MAIN[script], _SCRIPT_MAIN_CONF, "script")
    return UNKNOWN


def _short(text: str, script: str) -> LangGuess:
    """Short text of two words or more: the n-gram model, or a script hint, or "und"."""
    from xsearch.text import shortid

    lang, prob = shortid.classify(text)
    if lang != UNDETERMINED and _LANGDETECT_SCRIPT.get(lang, S.LATIN) == script:
        return LangGuess(lang, round(prob, 4), "ngram")
    if script in _SCRIPT_MAIN:  # Devanagari -> hi, Arabic -> ar: a hint, as for one word
        return LangGuess(_SCRIPT_MAIN[script], _SCRIPT_MAIN_CONF, "script")
    return UNKNOWN
