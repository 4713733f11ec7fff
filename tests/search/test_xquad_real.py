"""The search path with the real default bundle on XQuAD.

Paragraphs of ../shared/data/xquad in all 12 languages, each language version a
separate document, in the embedded store. Slow; skips when the data is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xsearch.documents import Document, point_id
from xsearch.errors import BundleMismatch
from xsearch.schemas import SearchRequest

XQUAD = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "xquad"
N_PARAGRAPHS = 12

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def setup(real_bundle: Path, real_settings, tmp_path_factory):  # noqa: ANN001, ANN201
    if not (XQUAD / "parallel_paragraphs.jsonl").exists():
        pytest.skip("../shared/data/xquad is absent")
    from xsearch.runtime import Engine

    home = tmp_path_factory.mktemp("xquad-search")
    (home / "models").mkdir()
    (home / "models" / real_bundle.name).symlink_to(real_bundle)
    settings = real_settings.model_copy(update={"home": home, "qdrant_url": None})
    lines = (XQUAD / "parallel_paragraphs.jsonl").read_text("utf-8").splitlines()
    paragraphs = [json.loads(line) for line in lines[:N_PARAGRAPHS]]
    questions = [
        json.loads(line)
        for line in (XQUAD / "parallel_questions.jsonl").read_text("utf-8").splitlines()
    ]
    pids = {p["pid"] for p in paragraphs}
    questions = [q for q in questions if q["pid"] in pids]
    docs = [
        Document(id=f"{p['pid']}:{lang}", text=text, title=p.get("title_en"), lang=lang,
                 metadata={"pid": str(p["pid"]), "n": i})
        for i, p in enumerate(paragraphs)
        for lang, text in p["context"].items()
    ]  # fmt: skip
    engine = Engine(settings)
    results = engine.indexer.index_documents("xq", docs)
    assert [r.status for r in results] == ["indexed"] * len(docs)
    yield engine, settings, paragraphs, questions, docs
    engine.close()


def _search(engine, **kw):  # noqa: ANN001, ANN003, ANN202
    return engine.searcher.search(SearchRequest(collection="xq", **kw))


def test_a_question_finds_its_paragraph_in_other_languages(setup) -> None:  # noqa: ANN001
    engine, _s, _p, questions, _d = setup
    found_langs, detected = [], []
    for q in questions[:20]:
        resp = _search(engine, query=q["question"]["es"], k=12, balance="none")
        hits = [h for h in resp.hits if h.metadata["pid"] == str(q["pid"])]
        found_langs.append({h.lang for h in hits} - {"es"})
        detected.append(resp.query_lang)
    # on average the paragraph is found in many other languages among 12 hits
    mean_other = sum(len(x) for x in found_langs) / len(found_langs)
    assert mean_other >= 4, found_langs
    assert all(len(x) >= 1 for x in found_langs)
    # short questions may stay undetermined; never another language
    assert set(detected) <= {"es", "und"} and detected.count("es") >= 10, detected


def test_lang_filter_is_exact_and_pages_are_disjoint(setup) -> None:  # noqa: ANN001
    engine, _s, _p, questions, _d = setup
    q = questions[0]["question"]["en"]
    resp = _search(engine, query=q, k=10, langs=["de", "zh"])
    assert resp.hits and {h.lang for h in resp.hits} <= {"de", "zh"}
    resp = _search(engine, query=q, k=10, exclude_langs=["en", "es"])
    assert resp.hits and not {h.lang for h in resp.hits} & {"en", "es"}
    pages = [_search(engine, query=q, k=7, offset=o).hits for o in (0, 7, 14)]
    ids = [h.doc_id for page in pages for h in page]
    assert len(ids) == 21 and len(set(ids)) == 21


def test_reindex_idempotent_shorten_and_delete(setup) -> None:  # noqa: ANN001
    engine, _s, _p, _q, docs = setup
    store = engine.store
    before = store.count("xq")
    again = engine.indexer.index_documents("xq", docs[:24])
    assert {r.status for r in again} == {"unchanged"} and store.count("xq") == before
    # a long document, then the same id shortened: no orphan passages
    long_text = " ".join(d.text for d in docs[:12])  # 12 languages of one paragraph
    r = engine.indexer.index_documents("xq", [Document(id="long", text=long_text)])
    n_long = r[0].passages
    assert n_long >= 3
    r = engine.indexer.index_documents("xq", [Document(id="long", text=docs[0].text)])
    assert r[0].passages == 1
    assert len(store.retrieve("xq", [point_id("long", i) for i in range(n_long)])) == 1
    assert engine.indexer.delete_documents("xq", ["long"]) == 1
    assert store.retrieve("xq", [point_id("long", 0)]) == []
    assert store.count("xq") == before


def test_another_bundle_is_refused_naming_both(setup) -> None:  # noqa: ANN001
    engine, _s, _p, _q, _d = setup
    with pytest.raises(BundleMismatch) as err:
        engine.store.ensure_compatible("xq", "0123456789abcdef", "labse")
    msg = str(err.value)
    assert "labse" in msg and engine.encoder.name in msg and "collection" in msg


def test_moved_to_the_server_client_answers_the_same(setup) -> None:  # noqa: ANN001
    engine, settings, _p, questions, _d = setup
    from xsearch.search import Searcher
    from xsearch.store import open_store
    from xsearch.store.transfer import copy_collection

    server = open_store(settings.model_copy(update={"qdrant_url": ":memory:"}))
    n = copy_collection(engine.store, server, "xq")
    assert n == engine.store.count("xq")
    moved = Searcher(engine.encoder, server, settings)
    for q in questions[:5]:
        for balance in ("none", "centered"):
            req = SearchRequest(
                query=q["question"]["de"], collection="xq", k=10, balance=balance, mode="dense"
            )
            a = [h.doc_id for h in engine.searcher.search(req).hits]
            b = [h.doc_id for h in moved.search(req).hits]
            assert a == b, (balance, a, b)
    server.close()
