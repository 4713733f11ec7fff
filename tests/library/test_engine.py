"""What only one side has: the Engine's shared services and lock, the async client,
and that ``import xsearch`` stays cheap."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import xsearch
from tests.api.corpus import documents
from tests.api.server import REPO
from tests.library.conftest import engine_settings
from xsearch.client import AsyncClient, Client
from xsearch.errors import CollectionNotFound
from xsearch.ranking.centering import LanguageMeans
from xsearch.runtime import Engine
from xsearch.schemas import SearchResponse, StoredDocument


def test_public_names_are_the_implementations() -> None:
    assert xsearch.Engine is Engine and xsearch.Client is Client
    assert xsearch.AsyncClient is AsyncClient
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        xsearch.Nope  # noqa: B018


def test_import_xsearch_loads_no_heavy_module() -> None:
    code = (
        "import sys, xsearch; xsearch.Engine; xsearch.Client; "
        "heavy = {'torch', 'transformers', 'fastapi', 'onnxruntime', 'numpy', 'qdrant_client'}; "
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_services_are_built_once(library_engine: Engine) -> None:
    assert library_engine.searcher is library_engine.searcher
    assert library_engine.indexer is library_engine.indexer


def test_concurrent_adds_keep_the_language_statistics(library_engine: Engine) -> None:
    # Before the services were shared, each thread got its own IndexingService and
    # the per-language running means (read-modify-write of the collection metadata)
    # lost one thread's update.
    engine, name = library_engine, "concurrent-means"
    docs = documents()
    threads = [
        threading.Thread(target=lambda d=d: engine.add([d], collection=name)) for d in docs
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    info = engine.stats(name)
    assert info.documents == len(docs)
    counts = LanguageMeans.counts_from_meta(engine.store.get_meta(name))
    assert counts == info.languages


def test_context_manager_releases_the_store(tiny_bundle: Path, tmp_path: Path) -> None:
    settings = engine_settings(tmp_path / "home", tiny_bundle)
    with Engine(settings=settings, collection="c") as engine:
        engine.add(["Der Zug fährt um sieben."])
    assert engine._store is None  # closed on exit
    engine.close()  # idempotent
    with Engine(settings=settings, collection="c") as again:  # the lock was released
        assert again.stats().documents == 1


def test_home_argument_sets_where_things_live(tiny_bundle: Path, tmp_path: Path) -> None:
    base = engine_settings(tmp_path / "unused", tiny_bundle)
    engine = Engine(tmp_path / "other", settings=base)
    assert engine.settings.home == tmp_path / "other"
    assert engine.settings.default_bundle == base.default_bundle
    assert Engine(base).settings is base  # Engine(settings), as older code calls it


def test_engine_and_client_encode_alike(library_engine: Engine, server_url: str) -> None:
    texts = ["Der Zug fährt um sieben.", "電車は七時に出発します。"]
    with Client(server_url) as client:
        remote = client.encode(texts, kind="query")
    np.testing.assert_allclose(remote, library_engine.encode(texts, kind="query"), atol=1e-5)


def test_async_client_offers_the_same_methods(server_url: str) -> None:
    docs = documents()[:6]

    async def scenario() -> tuple[object, ...]:
        async with AsyncClient(server_url, collection="async-lib") as client:
            added = await client.add(docs)
            found = await client.search("airport train", k=3)
            doc = await client.get(docs[0]["id"])
            vectors = await client.encode(["a", "b"])
            removed = await client.delete([docs[0]["id"]])
            info = await client.stats()
            names = [c.name for c in await client.collections()]
            try:
                await client.stats("nowhere")
            except CollectionNotFound as err:
                missing: object = err
            return added, found, doc, vectors, removed, info, names, missing

    added, found, doc, vectors, removed, info, names, missing = asyncio.run(scenario())
    assert added.indexed == len(docs)  # type: ignore[attr-defined]
    assert isinstance(found, SearchResponse) and found.hits
    assert isinstance(doc, StoredDocument) and doc.id == docs[0]["id"]
    assert np.asarray(vectors).shape[0] == 2
    assert removed >= 1 and info.documents == len(docs) - 1  # type: ignore[attr-defined,operator]
    assert "async-lib" in names  # type: ignore[operator]
    assert isinstance(missing, CollectionNotFound)


def test_stored_payload_has_exactly_the_payload_typeddict_keys(library_engine: Engine) -> None:
    from typing import get_type_hints

    from xsearch.documents import point_id
    from xsearch.store.payload import Payload

    library_engine.add([{"id": "p1", "text": "Ein Satz.", "title": "T"}], collection="payload")
    (point,) = library_engine.store.retrieve("payload", [point_id("p1", 0)])
    assert set(point.payload) == set(get_type_hints(Payload))


def test_client_encode_splits_batches_above_the_server_limit(
    library_engine: Engine, server_url: str
) -> None:
    texts = [f"Satz Nummer {i}." for i in range(300)]  # the server takes 256 at a time
    with Client(server_url) as client:
        remote = client.encode(texts)
        empty = client.encode([])
    local = library_engine.encode(texts)
    assert remote.shape == local.shape
    # Not bit-equal: the int8 graph quantizes activations per batch, and the split
    # batches differ from the engine's. Each vector must still be the same text's.
    assert float(np.min(np.sum(remote * local, axis=1))) > 0.99
    assert empty.shape == library_engine.encode([]).shape == (0, remote.shape[1])
