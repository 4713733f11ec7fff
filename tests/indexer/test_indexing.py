"""IndexingService: the one write path (add, bulk indexer, API) against a real Edge store."""

from __future__ import annotations

from tests.indexer.conftest import SENTENCES
from xsearch.documents import Document, point_id
from xsearch.runtime import Engine
from xsearch.store import SearchFilter


def doc(doc_id: str, sentences: int, **kw: object) -> Document:
    text = " ".join(SENTENCES[i % len(SENTENCES)] for i in range(sentences))
    return Document(id=doc_id, text=text, **kw)  # type: ignore[arg-type]


def test_index_skip_unchanged_replace_and_delete(engine: Engine) -> None:
    svc, store = engine.indexer, engine.store
    docs = [doc("long", 120, title="A long one", metadata={"year": 2020}), doc("short", 2)]
    first = svc.index_documents("c", docs)
    assert [r.status for r in first] == ["indexed", "indexed"]
    n_long = first[0].passages
    assert n_long > 2 and first[1].passages == 1
    assert store.count("c") == n_long + 1

    # Passage 0 carries the document state; every passage carries doc fields.
    head = store.retrieve("c", [point_id("long", 0)])[0].payload
    assert head["n_passages"] == n_long and head["content_hash"] == docs[0].content_hash()
    assert head["title"] == "A long one" and head["meta"] == {"year": 2020}
    for p in store.scroll("c", with_vectors=False, flt=SearchFilter(doc_ids=["long"])):
        text = docs[0].text[p.payload["start"] : p.payload["end"]]
        assert p.payload["text"] == text and p.payload["n_passages"] == n_long

    # Same content again: nothing written, point count unchanged.
    again = svc.index_documents("c", docs)
    assert [(r.status, r.passages) for r in again] == [("unchanged", n_long), ("unchanged", 1)]
    assert store.count("c") == n_long + 1

    # The long document shrinks to one passage: its old passages are gone (no orphans).
    shorter = svc.index_documents("c", [doc("long", 1, title="A long one")])
    assert shorter[0].status == "indexed" and shorter[0].passages == 1
    assert store.count("c") == 2
    assert store.retrieve("c", [point_id("long", i) for i in range(1, n_long)]) == []
    assert store.count("c", SearchFilter(doc_ids=["long"])) == 1

    # Delete removes every passage of a document.
    svc.index_documents("c", [doc("long", 120)])
    removed = svc.delete_documents("c", ["long"])
    assert removed == n_long and store.count("c") == 1
    assert svc.get_document("c", "long") is None


def test_get_document_rebuilds_text_and_offsets(engine: Engine) -> None:
    d = doc("g", 60, title="T", url="https://example.org/g", metadata={"k": "v"})
    engine.indexer.index_documents("c", [d])
    got = engine.indexer.get_document("c", "g")
    assert got is not None and got["complete"]
    assert (got["title"], got["url"], got["metadata"]) == ("T", "https://example.org/g", {"k": "v"})
    assert got["n_passages"] == len(got["passages"]) > 1
    for p in got["passages"]:
        assert got["text"][p["start"] : p["end"]] == p["text"] == d.text[p["start"] : p["end"]]
    # Only whitespace between passages may differ from the original.
    assert got["text"].split() == d.text[: len(got["text"])].split()


def test_duplicate_ids_in_one_request_and_empty_text(engine: Engine) -> None:
    results = engine.indexer.index_documents("c", [doc("dup", 3), doc("other", 1), doc("dup", 1)])
    assert [r.status for r in results] == ["rejected", "indexed", "indexed"]
    assert "duplicate id" in (results[0].reason or "")
    assert engine.store.count("c", SearchFilter(doc_ids=["dup"])) == results[2].passages


def test_languages_are_set_per_passage(engine: Engine) -> None:
    mixed = Document(id="m", text="Москва является столицей и крупнейшим городом России.")
    given = Document(id="g", text="Москва является столицей России.", lang="uk")
    res = engine.indexer.index_documents("c", [mixed, given])
    assert res[0].lang == "ru"
    assert res[1].lang == "uk"  # a language given by the user wins
    payload = engine.store.retrieve("c", [point_id("g", 0)])[0].payload
    assert payload["lang"] == "uk"


def _points(engine: Engine, collection: str) -> dict[str, dict]:
    return {p.id: p.payload for p in engine.store.scroll(collection, with_vectors=False)}


def test_a_write_cut_before_passage_0_is_redone_by_the_next_run(engine: Engine) -> None:
    """Crash-safety invariant: until passage 0 (content hash + count) is written, the
    document still looks changed, so the next run rewrites it whole, orphans included."""
    svc = engine.indexer
    old, new = doc("d", 120, title="T"), doc("d", 30, title="T2")
    svc.index_documents("clean", [new])
    svc.index_documents("c", [old])
    n_old = svc.get_document("c", "d")["n_passages"]

    # Cut a write of the new version after step 1 (passages 1..n-1 written).
    plan = svc.plan("c", svc.planned([new]))
    (item,) = plan.write
    svc.chunk(item)
    svc.encode([item])
    points = svc.points(item)
    assert 1 < len(points) < n_old
    engine.store.upsert("c", points[1:])
    head = engine.store.retrieve("c", [point_id("d", 0)])[0].payload
    assert head["content_hash"] == old.content_hash()  # still the old version's state

    (result,) = svc.index_documents("c", [new])
    assert result.status == "indexed"
    assert _points(engine, "c") == _points(engine, "clean")
    assert engine.store.count("c") == len(points)
