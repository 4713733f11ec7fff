"""balance=fair: languages take turns inside one ranking (xsearch.search.take_turns)."""

from __future__ import annotations

from xsearch.search import take_turns
from xsearch.store.base import ScoredPoint


def _ranking(langs: str) -> list[ScoredPoint]:
    return [
        ScoredPoint(id=str(i), score=1 - i / 100, payload={"lang": lang, "doc_id": f"d{i}"})
        for i, lang in enumerate(langs)
    ]


def _ids(points: list[ScoredPoint]) -> list[int]:
    return [int(p.id) for p in points]


def test_each_language_present_gets_a_turn_per_round() -> None:
    # e e e d f e  ->  round 1: e0 d3 f4, round 2: e1, round 3: e2, round 4: e5
    assert _ids(take_turns(_ranking("eeedfe"))) == [0, 3, 4, 1, 2, 5]


def test_a_round_keeps_the_order_of_the_ranking() -> None:
    # the best German beats the best English: it leads the first round
    assert _ids(take_turns(_ranking("ddeed"))) == [0, 2, 1, 3, 4]


def test_absent_languages_are_not_invented_and_nothing_is_lost() -> None:
    ranking = _ranking("eeeeeeeeef")  # one French candidate at the very end
    out = take_turns(ranking)
    assert sorted(_ids(out)) == list(range(10))
    assert _ids(out)[:2] == [0, 9]  # French gets its turn, no other language appears
    assert take_turns([]) == []
    assert _ids(take_turns(_ranking("eee"))) == [0, 1, 2]  # one language: unchanged


def test_missing_language_counts_as_undetermined() -> None:
    pts = _ranking("ee")
    pts[1].payload.pop("lang")
    assert _ids(take_turns(pts)) == [0, 1]


# -- soft turns (issue 11): a language takes a turn only when it competes ------------
def _scored(pairs: list[tuple[str, float]]) -> list[ScoredPoint]:
    return [
        ScoredPoint(id=str(i), score=s, payload={"lang": lang, "doc_id": f"d{i}"})
        for i, (lang, s) in enumerate(pairs)
    ]


def test_soft_turns_with_no_penalty_keep_the_ranking() -> None:
    pts = _scored([("en", 0.9), ("en", 0.8), ("de", 0.7), ("fr", 0.1)])
    assert _ids(take_turns(pts, 0.0)) == [0, 1, 2, 3]


def test_soft_turns_with_a_huge_penalty_are_strict_turns() -> None:
    pts = _ranking("eeedfe")
    assert _ids(take_turns(pts, 1e6)) == _ids(take_turns(pts))


def test_a_language_far_below_is_not_promoted_one_close_is() -> None:
    # English holds two good hits; German is close to them, French far below.
    pts = _scored([("en", 0.90), ("en", 0.88), ("de", 0.87), ("en", 0.5), ("fr", 0.2)])
    out = _ids(take_turns(pts, 1.0))
    assert out[:2] == [0, 2]  # German (close) takes its turn before the second English
    assert out.index(4) > out.index(1)  # French (far) stays below the second English hit
    assert sorted(out) == [0, 1, 2, 3, 4]


def test_place_in_slots_reorders_only_the_slots_and_keeps_scores() -> None:
    from xsearch.search import place_in_slots

    pts = _ranking("edede")  # ids 0..4, English at 0, 2, 4
    lexical = [pts[4], pts[1], pts[2]]  # English 4 then 2; German 1 is not a slot
    out = place_in_slots(pts, [0, 2, 4], lexical)
    assert _ids(out) == [4, 1, 2, 3, 0]  # 0 was not in the lexical list: last slot
    assert [p.score for p in out] == [pts[i].score for i in (4, 1, 2, 3, 0)]


def _soft_turns_reference(docs: list, penalty: float) -> list:  # noqa: ANN001
    """The soft turns as first written (tuples sorted in Python): the numpy version
    must give exactly this order."""
    import numpy as np

    by_lang: dict = {}
    for pos, p in enumerate(docs):
        by_lang.setdefault(str(p.payload.get("lang") or "und"), []).append((pos, p))
    spread = float(np.std([p.score for p in docs])) or 1.0
    keyed = [
        (p.score - penalty * spread * r, pos, p)
        for v in by_lang.values()
        for r, (pos, p) in enumerate(v)
    ]
    return [p for _, _, p in sorted(keyed, key=lambda t: (-t[0], t[1]))]


def test_soft_turns_match_the_reference_order_on_random_pools() -> None:
    import random

    from xsearch.store.records import ScoredPoint

    rng = random.Random(11)
    for trial in range(200):
        n = rng.choice((2, 3, 10, 200))
        langs = rng.sample(["en", "de", "fr", "zh", "ar", None], rng.randint(1, 5))
        # ties on purpose: coarse scores, so the ranking position must break them
        scores = sorted((round(rng.random(), rng.choice((1, 2, 6))) for _ in range(n)),
                        reverse=True)  # fmt: skip
        docs = [ScoredPoint(str(i), s, {"doc_id": f"d{i}", "lang": rng.choice(langs)})
                for i, s in enumerate(scores)]  # fmt: skip
        for penalty in (0.0, 0.5, 2.0, 1e6):
            got = [p.id for p in take_turns(docs, penalty)]
            assert got == [p.id for p in _soft_turns_reference(docs, penalty)], (trial, penalty)
