"""Short queries: the n-gram model with its prior and abstention (xsearch.text.shortid)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from xsearch.text import detect_language, shortid

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

# Beginnings of questions, as users type them (written for this test).
PREFIXES = [
    ("en", "Where was the"), ("en", "How many people"), ("de", "Wann blühen die"),
    ("de", "Wie viele Menschen"), ("es", "¿Dónde nació un"), ("es", "¿Cuántas personas viven"),
    ("fr", "Où se trouve"), ("fr", "Combien de personnes"), ("it", "Quando è nato"),
    ("pt", "Onde fica a"), ("nl", "Hoeveel mensen wonen"), ("ru", "Какая планета исследует"),
    ("ru", "Сколько людей живёт"), ("uk", "Скільки людей живе"), ("tr", "Deprem tatbikatı nerede"),
    ("vi", "Ai là người"), ("pl", "Ile osób mieszka"), ("hi", "क्या ब्याज दरें"),
    ("ar", "أين ولد الباندا"), ("ro", "Câte puncte a"),
]


def test_the_issue_query_is_spanish() -> None:
    # issue 11: "un" made this "und" and let a French article in through the lexical vote
    guess = detect_language("¿Dónde nació un bebé panda?")
    assert (guess.lang, guess.method) == ("es", "ngram")
    assert guess.confidence >= shortid.MIN_PROB


def test_prefixes_are_right_or_undetermined_never_wrong() -> None:
    guesses = [(lang, detect_language(text).lang) for lang, text in PREFIXES]
    wrong = [(lang, got, text) for (lang, got), (_, text) in zip(guesses, PREFIXES, strict=True)
             if got not in (lang, "und")]
    assert not wrong
    assert sum(lang == got for lang, got in guesses) >= 0.85 * len(PREFIXES)


def test_probabilities_are_a_distribution_over_the_kept_languages() -> None:
    ranked = shortid.probabilities("Wie viele Menschen leben in Berlin")
    assert ranked[0][0] == "de"
    assert {lang for lang, _ in ranked} == set(shortid.LANGS)
    assert sum(p for _, p in ranked) == pytest.approx(1.0)
    assert [p for _, p in ranked] == sorted((p for _, p in ranked), reverse=True)


def test_prior_favours_the_bigger_of_close_languages() -> None:
    # a Hindi question's first words: without the prior Marathi/Nepali compete
    text = "भारत की राजधानी"
    with_prior = dict(shortid.probabilities(text))
    without = dict(shortid.probabilities(text, prior_weight=0.0))
    assert with_prior["hi"] > without["hi"]
    assert max(with_prior, key=with_prior.__getitem__) == "hi"


def test_low_posterior_abstains() -> None:
    lang, prob = shortid.classify("ok ok", min_prob=1.01)
    assert (lang, prob <= 1.0) == ("und", True)
    assert shortid.classify("Der Zug nach Berlin fährt um acht", min_prob=0.5)[0] == "de"


@pytest.mark.skipif(not (DATA / "xquad").is_dir(), reason="../shared/data/xquad not found")
def test_xquad_three_word_prefixes_held_out() -> None:
    # held out: the thresholds were chosen on Tatoeba (bench/langid_short.py has the full run)
    lines = (DATA / "xquad" / "parallel_questions.jsonl").read_text("utf-8").splitlines()
    items = [(lang, q) for line in lines for lang, q in json.loads(line)["question"].items()]
    rng = random.Random(0)
    sample = [(lang, q) for lang, q in rng.sample(items, 600) if lang not in ("zh", "th")]
    got = [(lang, detect_language(" ".join(q.split()[:3])).lang) for lang, q in sample]
    right = sum(lang == g for lang, g in got) / len(got)
    wrong = sum(g not in (lang, "und") for lang, g in got) / len(got)
    assert right >= 0.90 and wrong <= 0.02, (right, wrong)
