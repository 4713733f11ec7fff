"""Language of short text (queries): py3langid's n-gram model, a prior, and abstention.

langdetect, right 99% of the time on passages, is wrong on a fifth of 2-4 word
queries and needs ~1 ms each; py3langid 0.4.0 (BSD-3, its model ships in the
wheel, ~4.5 MB) scores byte n-grams with naive Bayes in ~30-70 us. Three
changes make its answer safe to feed the ranking, where a wrong language costs
more than "und" (bench/langid_short.py measures each of them):

- its 139 labels are cut to the 54 languages langdetect knows (the ones the
  engine reported so far): "arz" for an Arabic question, "pcm" or "af" for an
  English one are not answers a search engine can use;
- a prior: short text is ambiguous between close languages (hi/mr/ne,
  ru/bg/uk, en/af/nl) and the bigger language is then the better bet; the
  prior is the number of speakers (L1 + L2, millions, rounded from Ethnologue),
  raised to PRIOR_WEIGHT;
- abstention: below MIN_PROB the answer is "und".

PRIOR_WEIGHT and MIN_PROB were chosen on Tatoeba 3-word prefixes (the most
right answers with at most 0.25% wrong) and are reported held out on XQuAD
questions; py3langid's training data includes Tatoeba, so XQuAD is the honest
figure. The scores use py3langid's own tokeniser and tables through two
private methods (``_encode``, ``_raw_score``), hence the exact version pin.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from xsearch.text.langcodes import UNDETERMINED

PRIOR_WEIGHT = 0.5
MIN_PROB = 0.5

# Speakers (L1 + L2), millions, rounded (Ethnologue 2023); a language missing
# here gets FLOOR_SPEAKERS.
SPEAKERS: dict[str, float] = {
    "en": 1500, "zh": 1140, "hi": 610, "es": 560, "ar": 370, "fr": 310, "bn": 270, "pt": 260,
    "ru": 255, "ur": 230, "id": 200, "de": 135, "ja": 125, "mr": 99, "te": 96, "tr": 90,
    "ta": 86, "vi": 85, "tl": 83, "ko": 82, "sw": 80, "fa": 77, "it": 68, "gu": 62, "th": 60,
    "kn": 59, "pa": 50, "pl": 41, "uk": 39, "ml": 38, "ne": 32, "nl": 30, "ro": 24, "so": 22,
    "af": 17, "el": 13, "hu": 13, "sv": 13, "cs": 11, "ca": 10, "he": 9, "bg": 8, "sq": 7,
    "da": 6, "fi": 6, "sk": 5, "no": 5, "hr": 5, "lt": 3, "sl": 2.5, "lv": 2, "mk": 2,
    "et": 1.2, "cy": 0.9,
}
FLOOR_SPEAKERS = 0.5
# langdetect 1.0.9's languages (zh-cn and zh-tw as zh): the labels kept.
LANGS: tuple[str, ...] = tuple(sorted(SPEAKERS))

_lock = threading.Lock()
_model: tuple[Any, np.ndarray, list[str]] | None = None  # (identifier, log prior, classes)


def _load() -> tuple[Any, np.ndarray, list[str]]:
    """py3langid's identifier cut to LANGS, and the log prior per class (~0.3 s, once)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
                ident.set_languages(list(LANGS))
                classes = list(ident.nb_classes)
                speakers = np.array([SPEAKERS.get(c, FLOOR_SPEAKERS) for c in classes])
                _model = (ident, np.log(speakers / speakers.sum()), classes)
    return _model


def warm_up() -> None:
    _load()


def probabilities(text: str, *, prior_weight: float | None = None) -> list[tuple[str, float]]:
    """(language, posterior) for the n-gram model with the prior, best first.

    ``prior_weight`` overrides PRIOR_WEIGHT (0: py3langid's own answer, cut to
    LANGS), for calibration. py3langid divides its log-likelihoods by the
    square root of the byte length before the softmax, which keeps its
    probabilities comparable across lengths; the prior is added after that.
    """
    scores, classes = _posteriors(text, prior_weight)
    order = np.argsort(-scores, kind="stable")
    return [(classes[i], float(scores[i])) for i in order]


def _posteriors(text: str, prior_weight: float | None) -> tuple[np.ndarray, list[str]]:
    ident, log_prior, classes = _load()
    data = ident._encode(text)
    scores = ident._raw_score(data).astype(np.float64) / math.sqrt(len(data) or 1)
    scores += (PRIOR_WEIGHT if prior_weight is None else prior_weight) * log_prior
    scores = np.exp(scores - scores.max())
    scores /= scores.sum()
    return scores, classes


def classify(text: str, *, min_prob: float | None = None) -> tuple[str, float]:
    """The most probable language and its posterior; "und" below ``min_prob`` (MIN_PROB)."""
    ident, log_prior, classes = _load()
    data = ident._encode(text)
    # probabilities()[0] with fewer numpy calls (each costs microseconds on 54
    # numbers): the best class's posterior is 1 / sum(exp(score - best score))
    scores = ident._raw_score(data) * (1.0 / math.sqrt(len(data) or 1))
    scores += PRIOR_WEIGHT * log_prior
    best = int(scores.argmax())  # the first of equals, as probabilities() ranks them
    lang, prob = classes[best], 1.0 / float(np.exp(scores - scores[best]).sum())
    threshold = MIN_PROB if min_prob is None else min_prob  # read now: the bench calibrates it
    return (lang if prob >= threshold else UNDETERMINED), prob
