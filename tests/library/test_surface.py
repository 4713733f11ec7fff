"""The library surface, run against both ``Engine`` (in-process) and ``Client`` (HTTP).

Every test here runs twice (``surface`` is parametrised): the two must return
the same typed objects and raise the same ``XSearchError`` subclasses.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from tests.api.corpus import documents
from xsearch.documents import Document
from xsearch.errors import CollectionNotFound, InputError
from xsearch.library import SearchEngine
from xsearch.schemas import (
    CollectionInfo,
    IndexResponse,
    SearchResponse,
    StoredDocument,
)

DOCS = documents()


def test_add_then_search_returns_typed_hits(surface: SearchEngine) -> None:
    added = surface.add(DOCS)
    assert isinstance(added, IndexResponse)
    assert added.collection == surface.collection
    assert (added.indexed, added.unchanged, added.rejected) == (len(DOCS), 0, 0)
    assert [r.id for r in added.results] == [d["id"] for d in DOCS]

    resp = surface.search("train to the airport", k=5)
    assert isinstance(resp, SearchResponse)
    assert resp.collection == surface.collection and 0 < len(resp.hits) <= 5
    assert {h.doc_id for h in resp.hits} <= {d["id"] for d in DOCS}
    # the default (balance=fair) orders by soft turns, so its scores need not
    # decrease down the page (README "What a score means"); plain cosine does
    plain = surface.search("train to the airport", k=5, balance="none", mode="dense")
    scores = [h.score for h in plain.hits]
    assert len(scores) == len(resp.hits) and scores == sorted(scores, reverse=True)

    again = surface.add(DOCS[:3])  # same content: skipped, not rewritten
    assert [r.status for r in again.results] == ["unchanged"] * 3


def test_add_accepts_documents_dicts_and_strings(surface: SearchEngine) -> None:
    doc = Document(id="obj", text="Un document construit en Python.", metadata={"n": 1})
    added = surface.add([doc, {"id": "dict", "text": "Ein Dokument als dict."}, "Just a text."])
    assert [r.status for r in added.results] == ["indexed"] * 3
    assert added.results[2].id is not None and added.results[2].id.startswith("sha256:")
    stored = surface.get("obj")
    assert stored is not None and stored.metadata == {"n": 1}


def test_invalid_document_is_rejected_in_place(surface: SearchEngine) -> None:
    added = surface.add([{"id": "ok", "text": "Fine text."}, {"id": "empty", "text": "  "}])
    assert [r.status for r in added.results] == ["indexed", "rejected"]
    assert added.results[1].id == "empty" and "document 1" in (added.results[1].reason or "")
    assert (added.indexed, added.rejected) == (1, 1)


def test_search_options_filter_and_validate(surface: SearchEngine) -> None:
    surface.add(DOCS)
    resp = surface.search("bread", k=10, langs=["de", "fr"], balance="none", mode="dense")
    assert resp.hits and {h.lang for h in resp.hits} <= {"de", "fr"}
    assert (resp.balance, resp.mode) == ("none", "dense")
    with pytest.raises(InputError, match="k"):
        surface.search("bread", k=0)
    with pytest.raises(InputError, match="balance"):
        surface.search("bread", balance="sideways")  # type: ignore[typeddict-item]
    with pytest.raises(CollectionNotFound, match="nowhere"):
        surface.search("bread", collection="nowhere")


def test_get_rebuilds_the_document_and_none_when_missing(surface: SearchEngine) -> None:
    surface.add(DOCS)
    original = DOCS[0]
    doc = surface.get(original["id"])
    assert isinstance(doc, StoredDocument)
    assert doc.id == original["id"] and doc.text.strip() == original["text"].strip()
    assert doc.complete and doc.n_passages == len(doc.passages) >= 1
    assert surface.get("no/such/doc") is None
    with pytest.raises(CollectionNotFound):
        surface.get("x", collection="nowhere")


def test_delete_removes_every_passage(surface: SearchEngine) -> None:
    surface.add(DOCS)
    victims = [DOCS[0]["id"], DOCS[1]["id"]]
    before = surface.stats()
    removed = surface.delete(victims)
    assert removed >= 2
    assert all(surface.get(v) is None for v in victims)
    after = surface.stats()
    assert after.documents == before.documents - 2
    assert after.points == before.points - removed
    assert surface.delete("never-there") == 0
    with pytest.raises(CollectionNotFound):
        surface.delete(["x"], collection="nowhere")


def test_stats_and_collections(surface: SearchEngine) -> None:
    surface.add(DOCS)
    info = surface.stats()
    assert isinstance(info, CollectionInfo)
    assert info.name == surface.collection and info.documents == len(DOCS)
    assert sum(info.languages.values()) == info.points
    assert {"en", "de", "fr"} <= set(info.languages) and info.compatible
    listed = {c.name: c for c in surface.collections()}
    assert surface.collection in listed and listed[surface.collection].compatible
    with pytest.raises(CollectionNotFound):
        surface.stats("nowhere")


def test_encode_gives_unit_vectors(surface: SearchEngine) -> None:
    many = surface.encode(["Hallo Welt", "Bonjour le monde"], kind="query")
    one = surface.encode("Hallo Welt", kind="query")
    assert many.shape[0] == 2 and one.shape == (many.shape[1],)
    assert many.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(many, axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(one, many[0], atol=1e-5)
    passage = surface.encode("Hallo Welt", kind="passage")
    assert not np.allclose(passage, one)  # the bundle's query and passage prompts differ


def test_two_threads_adding_through_one_object(surface: SearchEngine) -> None:
    # Disjoint halves of the corpus, each added in small batches from its own thread.
    halves = [DOCS[0::2], DOCS[1::2]]
    failures: list[BaseException] = []

    def work(docs: list[dict]) -> None:
        try:
            for i in range(0, len(docs), 3):
                surface.add(docs[i : i + 3])
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(h,)) for h in halves]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    info = surface.stats()
    assert info.documents == len(DOCS)
    assert sum(info.languages.values()) == info.points
