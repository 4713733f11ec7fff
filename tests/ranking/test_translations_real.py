"""Translation grouping on real parallel data (XQuAD): 12 versions -> one hit.

Slow: needs the real default bundle. Skips when ../shared/data is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xsearch.documents import Document
from xsearch.schemas import SearchRequest

XQUAD = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "xquad"
N_PARAGRAPHS = 16

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine(real_bundle: Path, real_settings, tmp_path_factory):  # noqa: ANN001, ANN201
    if not (XQUAD / "parallel_paragraphs.jsonl").exists():
        pytest.skip("../shared/data/xquad is absent")
    from xsearch.runtime import Engine

    settings = real_settings.model_copy(
        update={"home": tmp_path_factory.mktemp("grouping"), "qdrant_url": None}
    )
    (settings.home / "models").mkdir(parents=True)
    (settings.home / "models" / real_bundle.name).symlink_to(real_bundle)
    lines = (XQUAD / "parallel_paragraphs.jsonl").read_text("utf-8").splitlines()
    paragraphs = [json.loads(line) for line in lines[:N_PARAGRAPHS]]
    docs = [
        Document(id=f"{p['pid']}:{lang}", text=text, lang=lang, metadata={"pid": p["pid"]})
        for p in paragraphs
        for lang, text in p["context"].items()
    ]
    eng = Engine(settings)
    results = eng.indexer.index_documents("xq", docs)
    assert all(r.status == "indexed" for r in results)
    yield eng, paragraphs
    eng.close()


def _first_sentence(text: str) -> str:
    return text.split(". ")[0]


def test_twelve_versions_become_one_hit_with_eleven_also_in(engine) -> None:  # noqa: ANN001
    eng, paragraphs = engine
    full_groups = 0
    for p in paragraphs[:8]:
        query = _first_sentence(p["context"]["en"])
        resp = eng.searcher.search(
            SearchRequest(query=query, collection="xq", k=5, group_translations=True)
        )
        top = resp.hits[0]
        pid = top.metadata["pid"]
        assert pid == p["pid"], f"query {query!r} found paragraph {pid}"
        members = [top.doc_id] + [a.doc_id for a in top.also_in]
        # never a different paragraph inside the group, never two of a language
        assert all(m.startswith(f"{pid}:") for m in members), members
        assert len({a.lang for a in top.also_in} | {top.lang}) == len(members)
        full_groups += len(top.also_in) == 11
    # the grouping criterion is conservative (no false merges first): most
    # paragraphs gather all 12 versions
    assert full_groups >= 6, f"only {full_groups} of 8 paragraphs gathered all 12 versions"


def test_grouping_never_merges_different_paragraphs(engine) -> None:  # noqa: ANN001
    eng, paragraphs = engine
    for p in paragraphs:
        for lang in ("de", "zh", "ar"):
            query = _first_sentence(p["context"][lang])
            resp = eng.searcher.search(
                SearchRequest(query=query, collection="xq", k=10, group_translations=True)
            )
            for hit in resp.hits:
                pids = {str(hit.metadata["pid"])} | {a.doc_id.split(":")[0] for a in hit.also_in}
                assert len(pids) == 1, (query, hit.doc_id, [a.doc_id for a in hit.also_in])


def test_without_grouping_the_versions_fill_the_page(engine) -> None:  # noqa: ANN001
    eng, paragraphs = engine
    p = paragraphs[0]
    resp = eng.searcher.search(
        SearchRequest(
            query=_first_sentence(p["context"]["en"]), collection="xq", k=10,
            group_translations=False,
        )
    )  # fmt: skip
    same = sum(h.metadata["pid"] == p["pid"] for h in resp.hits)
    assert same >= 8 and all(not h.also_in for h in resp.hits)
