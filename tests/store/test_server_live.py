"""Server-only checks: run when XSEARCH_QDRANT_URL names a live Qdrant server, else skipped.

The shared suite (test_store.py) also runs its "live" case against that server;
these tests cover what qdrant-client's :memory: mode cannot: payload indexes,
int8 quantization with rescoring, and the metadata field on a real server.
"""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from xsearch.settings import Settings
from xsearch.store.server import ServerStore

from .conftest import make_corpus, spec

pytestmark = pytest.mark.skipif(
    not Settings().qdrant_url, reason="XSEARCH_QDRANT_URL is not set: no live Qdrant server"
)


@pytest.fixture
def live():
    made: list[tuple[ServerStore, str]] = []

    def make(**overrides) -> tuple[ServerStore, str]:
        s = ServerStore.from_settings(Settings().model_copy(update=overrides))
        name = f"t-{uuid.uuid4().hex[:12]}"
        made.append((s, name))
        s.create_collection(spec(name))
        return s, name

    yield make
    for s, name in made:
        if name in s.list_collections():
            s.delete_collection(name)
        s.close()


def test_payload_indexes_exist(live):
    s, name = live()
    schema = s.client.get_collection(name).payload_schema
    assert {"doc_id", "lang", "passage"} <= set(schema)
    assert s.get_meta(name)["bundle"] == "bundle-a"


def test_quantized_collection_answers_like_exact(live):
    s, name = live(quantization=True)
    cfg = s.client.get_collection(name).config
    assert cfg.quantization_config is not None
    c = make_corpus(200, seed=5)
    s.upsert(name, c.points)
    for q in c.centers[:4]:
        got = [r.id for r in s.query(name, q, k=10)]
        want = [c.points[i].id for i in np.argsort(-(c.vectors @ q))[:10]]
        assert len(set(got) & set(want)) >= 9  # int8 search, rescored with the originals


def test_other_collections_on_the_server_are_not_listed(live):
    s, name = live()
    other = f"foreign-{uuid.uuid4().hex[:8]}"
    from qdrant_client import models as m

    s.client.create_collection(other, vectors_config=m.VectorParams(size=4, distance="Cosine"))
    try:
        assert name in s.list_collections() and other not in s.list_collections()
    finally:
        s.client.delete_collection(other)
