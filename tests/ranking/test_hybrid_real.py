"""Hybrid (dense + lexical) search with the real bundle: codes and numbers.

Slow: needs the real default bundle. A service manual where every entry has the
same shape and only an error code tells them apart: the dense encoder cannot
read a code, BM25 can. Checks that hybrid finds the entry by its code, that it
leaves searches in other languages exactly as dense ranks them, and that the
store's fusion is what answers (not a client-side merge).
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from xsearch.documents import Document
from xsearch.schemas import SearchRequest

pytestmark = pytest.mark.slow

CAUSES = {
    "en": [
        "the pump overheated", "the filter is blocked", "the door is open",
        "the water pressure is too low", "the drain hose is kinked", "the heater failed",
    ],
    "de": [
        "die Pumpe ist überhitzt", "der Filter ist verstopft", "die Tür ist offen",
        "der Wasserdruck ist zu niedrig", "der Ablaufschlauch ist geknickt",
        "die Heizung ist ausgefallen",
    ],
}  # fmt: skip
TEMPLATE = {
    "en": "Error {code}: {cause}. Switch the machine off and call the service line.",
    "de": "Fehler {code}: {cause}. Schalten Sie das Gerät aus und rufen Sie den Kundendienst an.",
}


@pytest.fixture(scope="module")
def engine(real_bundle: Path, real_settings, tmp_path_factory):  # noqa: ANN001, ANN201
    from xsearch.runtime import Engine

    settings = real_settings.model_copy(
        update={"home": tmp_path_factory.mktemp("hybrid"), "qdrant_url": None}
    )
    (settings.home / "models").mkdir(parents=True)
    (settings.home / "models" / real_bundle.name).symlink_to(real_bundle)
    # codes that are permutations of the same digits: near-identical to a
    # subword encoder, distinct terms to BM25
    perms = sorted({"".join(p) for p in itertools.permutations("48213", 4)})
    codes = random.Random(7).sample(perms, 36)
    docs = []
    for i, code in enumerate(codes):
        lang = "en" if i < 24 else "de"
        cause = CAUSES[lang][i % len(CAUSES[lang])]
        text = TEMPLATE[lang].format(code=f"E-{code}", cause=cause)
        docs.append(Document(id=f"e{code}", text=text, lang=lang, metadata={"code": code}))
    eng = Engine(settings)
    assert all(r.status == "indexed" for r in eng.indexer.index_documents("manual", docs))
    yield eng, codes
    eng.close()


def _ids(eng, **kw) -> list[str]:  # noqa: ANN001
    resp = eng.searcher.search(SearchRequest(collection="manual", k=10, **kw))
    return [h.doc_id for h in resp.hits]


def test_hybrid_finds_an_entry_by_its_code(engine) -> None:  # noqa: ANN001
    eng, codes = engine
    hybrid_top = dense_top = 0
    for code in codes[:24]:
        query = f"What does error E-{code} mean?"
        hybrid_top += _ids(eng, query=query, mode="hybrid", balance="none")[0] == f"e{code}"
        dense_top += _ids(eng, query=query, mode="dense", balance="none")[0] == f"e{code}"
    print(f"code queries answered first: hybrid {hybrid_top}/24, dense {dense_top}/24")
    assert hybrid_top == 24  # every code found first
    assert dense_top < 24  # and dense alone does not (codes are all alike to it)


def test_hybrid_leaves_other_language_searches_dense(engine) -> None:  # noqa: ANN001
    eng, codes = engine
    for code in codes[:6]:
        query = f"What does error E-{code} mean?"  # English; German entries only
        for balance in ("none", "centered"):
            kw = {"query": query, "langs": ["de"], "balance": balance}
            assert _ids(eng, mode="hybrid", **kw) == _ids(eng, mode="dense", **kw)


def test_words_every_entry_shares_do_not_reorder_dense(engine) -> None:  # noqa: ANN001
    eng, _ = engine
    # every English entry holds these words about equally: no lexical margin
    query = "Switch the machine off and call the service line"
    kw = {"query": query, "langs": ["en"], "balance": "none"}
    assert _ids(eng, mode="hybrid", **kw) == _ids(eng, mode="dense", **kw)


def test_an_undetermined_query_gets_no_lexical_vote(engine) -> None:  # noqa: ANN001
    # issue 11: an `und` query used to give the lexical list full weight
    eng, codes = engine
    q = f"E-{codes[30]}"
    dense = _ids(eng, query=q, query_lang="und", mode="dense", balance="none")
    assert _ids(eng, query=q, query_lang="und", mode="hybrid", balance="none") == dense
    # the same words with a language do get their vote (the code is found first)
    assert _ids(eng, query=q, query_lang="de", mode="hybrid", balance="none")[0] == f"e{codes[30]}"


def test_stop_words_cast_no_lexical_vote(engine) -> None:  # noqa: ANN001
    eng, _ = engine
    q = "die der ist zu"  # German function words only: the bundle's stop list
    dense = _ids(eng, query=q, query_lang="de", mode="dense", balance="none")
    assert _ids(eng, query=q, query_lang="de", mode="hybrid", balance="none") == dense


@pytest.mark.parametrize("balance", ["none", "centered", "fair"])
def test_hybrid_only_reorders_the_query_language(engine, balance: str) -> None:  # noqa: ANN001
    # issue 11: the lexical list speaks for the query's language only, so it may
    # reorder English hits among the English places but never move a German one
    eng, codes = engine

    def hits(mode: str) -> list[tuple[str, str]]:
        req = SearchRequest(
            query=f"Error E-{codes[5]}, what to do", collection="manual", k=36,
            query_lang="en", mode=mode, balance=balance,
        )  # fmt: skip
        return [(h.doc_id, h.lang) for h in eng.searcher.search(req).hits]

    dense, hybrid = hits("dense"), hits("hybrid")
    assert [lang for _, lang in hybrid] == [lang for _, lang in dense]
    assert [d for d, lang in hybrid if lang == "de"] == [d for d, lang in dense if lang == "de"]
    assert sorted(hybrid) == sorted(dense)
    assert hybrid[0][0] == f"e{codes[5]}"  # and the code still decides among the English
