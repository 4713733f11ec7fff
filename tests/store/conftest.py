"""Fixtures for the store suite: one parametrised store, synthetic structured data.

Every test that takes ``store`` runs against Qdrant Edge (in tmp_path), against
qdrant-client's ``:memory:`` mode, and against a live Qdrant server when
XSEARCH_QDRANT_URL is set (read through Settings), else that case is skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from xsearch.documents import point_id
from xsearch.settings import Settings
from xsearch.store.base import CollectionSpec, PointRecord, Store

DIM = 32
LANGS = ("en", "de", "zh", "ar")
SOURCES = ("wire", "blog", "paper")


def live_url() -> str | None:
    return Settings().qdrant_url


@dataclass
class Corpus:
    points: list[PointRecord]
    vectors: np.ndarray  # [n, DIM] unit rows, same order as points
    centers: np.ndarray  # cluster centres (unit rows)

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.points]


def make_corpus(n_docs: int = 60, seed: int = 7) -> Corpus:
    """Clustered unit vectors (8 topics), 1-4 passages per doc, varied metadata."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(8, DIM))
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    points: list[PointRecord] = []
    vecs: list[np.ndarray] = []
    for d in range(n_docs):
        doc_id = f"doc-{d}"
        n_pass = 1 + d % 4
        topic = d % len(centers)
        lang = LANGS[d % len(LANGS)]
        for k in range(n_pass):
            v = centers[topic] + 0.35 * rng.normal(size=DIM)
            v = (v / np.linalg.norm(v)).astype(np.float32)
            meta = {
                "year": 2000 + d % 10,
                "source": SOURCES[d % 3],
                "score": round(0.1 * (d % 7), 1),
                "flag": d % 2 == 0,
            }
            payload = {
                "doc_id": doc_id,
                "passage": k,
                "n_passages": n_pass,
                "lang": lang,
                "lang_conf": 0.99,
                "title": f"Title {d}" if k == 0 else None,
                "url": None,
                "text": f"passage {k} of document {d} — ünïcödé 中文",
                "start": 100 * k,
                "end": 100 * k + 99,
                "meta": meta,
                "content_hash": f"h{d}",
            }
            # terms: the topic, the doc, a rare term per doc: lexical matches are predictable
            sparse = {"lexical": ([topic, 1000 + d, 5000 + d * 10 + k], [1.0, 0.8, 1.2])}
            vectors = {"dense": v}
            if d % 3 == 0:  # some points carry a centred vector too
                vectors["centered"] = -v
            points.append(PointRecord(point_id(doc_id, k), vectors, payload, sparse))
            vecs.append(v)
    return Corpus(points, np.stack(vecs), centers.astype(np.float32))


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return make_corpus()


def _edge(tmp_path) -> Store:
    from xsearch.store.edge import EdgeStore

    return EdgeStore(tmp_path / "store")


def _memory(tmp_path) -> Store:
    from qdrant_client import QdrantClient

    from xsearch.store.server import ServerStore

    return ServerStore(QdrantClient(location=":memory:"))


def _live(tmp_path) -> Store:
    url = live_url()
    if not url:
        pytest.skip("XSEARCH_QDRANT_URL is not set: no live Qdrant server to test against")
    from xsearch.store.server import ServerStore

    return ServerStore.from_settings(Settings())


BACKENDS = {"edge": _edge, "memory": _memory, "live": _live}


def _cleanup(s: Store, backend: str) -> None:
    if backend == "live":  # leave a shared server as we found it
        for name in s._test_created:  # type: ignore[attr-defined]
            if name in s.list_collections():
                s.delete_collection(name)
    s.close()


@pytest.fixture(params=list(BACKENDS))
def store(request, tmp_path) -> Iterator[Store]:
    s = BACKENDS[request.param](tmp_path)
    s._test_created = []  # type: ignore[attr-defined]
    yield s
    _cleanup(s, request.param)


@pytest.fixture(scope="module", params=list(BACKENDS))
def ro(request, tmp_path_factory, corpus) -> Iterator[tuple[Store, str]]:
    """A filled collection shared by the read-only tests of a module (fast)."""
    s = BACKENDS[request.param](tmp_path_factory.mktemp("ro"))
    name = f"ro-{uuid.uuid4().hex[:12]}"
    s._test_created = [name]  # type: ignore[attr-defined]
    s.create_collection(spec(name))
    s.upsert(name, corpus.points)
    yield s, name
    _cleanup(s, request.param)


@pytest.fixture
def name(store) -> str:
    # Unique per test so a live server shared by runs never sees stale collections.
    n = f"t-{uuid.uuid4().hex[:12]}"
    store._test_created.append(n)
    return n


def spec(name: str, fingerprint: str = "fp-a" * 8, bundle: str = "bundle-a") -> CollectionSpec:
    return CollectionSpec(name=name, dimension=DIM, fingerprint=fingerprint, bundle=bundle)


@pytest.fixture
def filled(store, name, corpus) -> str:
    store.create_collection(spec(name))
    store.upsert(name, corpus.points)
    return name
