"""Move a collection Edge -> file -> server (qdrant-client :memory:) without re-encoding."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from qdrant_client import QdrantClient

from xsearch.errors import InputError, StoreError
from xsearch.settings import Settings
from xsearch.store import open_store
from xsearch.store.base import SearchFilter
from xsearch.store.edge import EdgeStore
from xsearch.store.server import ServerStore
from xsearch.store.transfer import copy_collection, export_collection, import_collection

from .conftest import spec


@pytest.fixture
def edge(tmp_path, corpus):
    s = EdgeStore(tmp_path / "edge")
    s.create_collection(spec("news"))
    s.upsert("news", corpus.points)
    s.set_meta("news", {**s.get_meta("news"), "lang_means": {"de": [0.1, 0.2]}})
    yield s
    s.close()


@pytest.fixture
def server():
    s = ServerStore(QdrantClient(location=":memory:"))
    yield s
    s.close()


def _same_answers(a, b, name_a, name_b, corpus):
    for i, q in enumerate(corpus.centers):
        flt = SearchFilter(langs=["de", "en"]) if i % 2 else None
        ra = a.query(name_a, q, k=10, flt=flt, exact=True)
        rb = b.query(name_b, q, k=10, flt=flt, exact=True)
        assert [r.id for r in ra] == [r.id for r in rb]
        np.testing.assert_allclose([r.score for r in ra], [r.score for r in rb], atol=1e-5)
    sparse = ([5000 + 130], [1.0])
    ha = a.query_hybrid(name_a, corpus.centers[0], sparse, k=10)
    hb = b.query_hybrid(name_b, corpus.centers[0], sparse, k=10)
    # RRF gives ties (rank 1 dense and rank 1 lexical score alike): compare the
    # scores in order, and the ids above the last score, not the order of equals.
    np.testing.assert_allclose([r.score for r in ha], [r.score for r in hb], atol=1e-6)
    last = ha[-1].score + 1e-6
    assert {r.id for r in ha if r.score > last} == {r.id for r in hb if r.score > last}


def test_export_import_edge_to_server(edge, server, corpus, tmp_path):
    path = tmp_path / "news.jsonl.gz"
    assert export_collection(edge, "news", path) == len(corpus.points)
    assert not (tmp_path / "news.jsonl.gz.tmp").exists()
    assert import_collection(server, path) == len(corpus.points)
    assert server.get_meta("news") == edge.get_meta("news")  # fingerprint, means, created...
    src = {p.id: p for p in edge.scroll("news")}
    dst = {p.id: p for p in server.scroll("news")}
    assert src.keys() == dst.keys()
    for pid, p in src.items():
        assert dst[pid].payload == p.payload
        # the server normalises cosine vectors again: equal up to float32 rounding
        np.testing.assert_allclose(dst[pid].vectors["dense"], p.vectors["dense"], atol=1e-6)
        assert dst[pid].sparse == p.sparse
    _same_answers(edge, server, "news", "news", corpus)
    with pytest.raises(InputError):  # no silent merge into an existing collection
        import_collection(server, path)
    assert import_collection(server, path, name="news2") == len(corpus.points)
    assert import_collection(server, path, name="news2", replace=True) == len(corpus.points)


def test_copy_collection_direct(edge, server, corpus):
    assert copy_collection(edge, server, "news", new_name="copy") == len(corpus.points)
    assert server.stats("copy").languages == edge.stats("news").languages
    _same_answers(edge, server, "news", "copy", corpus)


def test_truncated_export_is_refused_and_leaves_nothing(edge, server, tmp_path):
    path = tmp_path / "news.jsonl.gz"
    export_collection(edge, "news", path)
    lines = gzip.open(path, "rt", encoding="utf-8").read().splitlines()
    cut = tmp_path / "cut.jsonl.gz"
    with gzip.open(cut, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(lines[:-30]) + "\n")
    with pytest.raises(StoreError, match="incomplete"):
        import_collection(server, cut)
    assert "news" not in server.list_collections()
    not_export = tmp_path / "x.jsonl.gz"
    with gzip.open(not_export, "wt") as fh:
        fh.write('{"id": 1, "text": "a document, not an export"}\n')
    with pytest.raises(InputError, match="not an xsearch export"):
        import_collection(server, not_export)


def test_open_store_memory_url_is_server_kind(tmp_path):
    s = open_store(Settings(home=tmp_path, qdrant_url=":memory:"))
    assert isinstance(s, ServerStore) and s.kind == "server"
    s.create_collection(spec("x"))
    assert s.list_collections() == ["x"]
    s.close()
