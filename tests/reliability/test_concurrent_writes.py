"""Issue 14 #2: API writers chunk and encode outside the collection's lock and share
encoder calls (api/passage_batch.py); only the read-compare-write is serialised.

Behaviour, not timings: concurrent writers to one collection all succeed, every
document is stored whole (one version, all passages), `xsearch check` finds
nothing and the language statistics count what is stored; a writer whose
encoding fails fails alone; a document changed by another writer between
``prepare`` and ``commit`` is compared with what is stored at commit time.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from xsearch.api.passage_batch import PassageBatcher

from tests.indexer.conftest import SENTENCES
from tests.reliability.conftest import assert_consistent
from xsearch.documents import Document
from xsearch.errors import EncoderError
from xsearch.runtime import Engine

C = "docs"
POISON = "POISONED-PASSAGE"


def text(i: int, sentences: int) -> str:
    return " ".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(sentences))


def batch(writer: int, n: int = 10, *, shared: int = 3) -> list[dict[str, Any]]:
    """n documents of one writer: its own ids, plus ``shared`` ids every writer also
    writes (with its own text), so writers race on the same documents too."""
    own = [
        {"id": f"w{writer}-{i}", "text": text(writer + i, 1 + (writer + i) % 7)}
        for i in range(n - shared)
    ]
    common = [
        {"id": f"shared{i}", "text": text(writer * 3 + i, 2 + writer % 5)} for i in range(shared)
    ]
    return own + common


def post(client: Any, documents: list[dict[str, Any]]) -> Any:
    return client.post(f"/collections/{C}/documents", json={"documents": documents})


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


def test_twenty_concurrent_writers_to_one_collection_all_succeed_whole(make_client: Any) -> None:
    client = make_client()
    writers = 20
    warm = {"id": "warm-up", "text": SENTENCES[0]}
    assert post(client, [warm]).status_code == 200  # opens the passage batcher
    passages = client.app.state.xsearch.passages
    calls0, jobs0, real = passages.calls, passages.jobs, passages._encode
    first = threading.Event()

    def encode(texts: Sequence[str]) -> np.ndarray:
        # The real encoder; its first call is held until the other writers wait
        # behind it (60 s at most). Without the hold, how many writers arrive
        # during one call depends on the machine's speed and load (a fresh CI
        # machine once saw 14 calls for 20 writers), not on the batcher.
        if not first.is_set():
            first.set()
            end = time.monotonic() + 60
            while len(passages._waiting) < writers - 1 and time.monotonic() < end:
                time.sleep(0.01)
        return real(texts)

    passages._encode = encode
    with ThreadPoolExecutor(writers) as pool:
        responses = list(pool.map(lambda w: post(client, batch(w)), range(writers)))
    for r in responses:
        assert r.status_code == 200, r.text
        assert r.json()["rejected"] == r.json()["failed"] == 0, r.text
    report = assert_consistent(client, C)  # whole documents, one version each, stats agree
    assert report.documents == writers * 7 + 3 + 1
    # each shared document is exactly one writer's version, every passage of it
    for i in range(3):
        stored = client.get(f"/collections/{C}/documents/shared{i}").json()
        versions = [next(d for d in batch(w) if d["id"] == f"shared{i}") for w in range(writers)]
        assert stored["complete"] and stored["text"] in {d["text"] for d in versions}
    for w in (0, 7, 19):
        d = batch(w)[0]
        assert client.get(f"/collections/{C}/documents/{d['id']}").json()["text"] == d["text"]
    # the writers that waited were encoded together: fewer encoder calls than the
    # writers would make one after another (a write of more than call_chars
    # characters is encoded slice_chars per call, a smaller one whole)
    per_writer = [sum(d["passages"] for d in r.json()["results"]) for r in responses]
    chars = [
        sum(len(d["text"]) + len(d.get("title") or "") for d in batch(w)) for w in range(writers)
    ]
    assert max(chars) <= passages.call_chars  # small writes: one call each, alone
    alone = writers
    calls, sizes = passages.calls - calls0, list(passages.sizes)[calls0:]
    assert passages.jobs - jobs0 == writers and sum(sizes) == sum(per_writer)
    assert calls < alone / 2, (calls, alone, sizes)


def test_a_writer_whose_encoding_fails_fails_alone(make_client: Any) -> None:
    client = make_client()
    assert post(client, batch(0, shared=0)).status_code == 200  # opens the batcher
    passages = client.app.state.xsearch.passages
    real = passages._encode

    def encode(texts: Sequence[str]) -> np.ndarray:  # the real encoder, one text poisoned
        if any(POISON in t for t in texts):
            raise EncoderError("injected encoder failure", fix="none: a test")
        return real(texts)

    passages._encode = encode
    bodies = [batch(w, shared=0) for w in range(1, 9)]
    bodies[3] = [*bodies[3][:-1], {"id": "bad", "text": f"{POISON} {SENTENCES[0]}"}]
    with ThreadPoolExecutor(len(bodies)) as pool:
        responses = list(pool.map(lambda b: post(client, b), bodies))
    for i, r in enumerate(responses):
        if i == 3:
            # the encoder failed (server side): its own error, not the others'
            assert r.status_code >= 500 and r.json()["error"] == "encoder_error", r.text
        else:
            assert r.status_code == 200 and r.json()["indexed"] == len(bodies[i]), r.text
    # nothing of the failed write is stored; everything else is, whole
    for d in bodies[3]:
        assert client.get(f"/collections/{C}/documents/{d['id']}").status_code == 404
    report = assert_consistent(client, C)
    assert report.documents == 10 + 7 * 10


def test_passage_batcher_shares_calls_and_isolates_a_failure(engine: Engine) -> None:
    enc = engine.encoder
    calls: list[int] = []

    def encode(texts: Sequence[str]) -> np.ndarray:
        calls.append(len(texts))
        if any(POISON in t for t in texts):
            raise EncoderError("injected encoder failure", fix="none: a test")
        return enc.encode(texts, "passage")

    jobs = [[text(i, 2), text(i + 1, 3)] for i in range(12)]

    async def run(bad: int | None) -> list[Any]:
        batcher = PassageBatcher(encode, max_passages=512)
        submitted = [[*j] for j in jobs]
        if bad is not None:
            submitted[bad] = [f"{POISON} x"]
        return await asyncio.gather(*(batcher.encode(j) for j in submitted), return_exceptions=True)

    out = asyncio.run(run(None))
    assert calls == [24]  # 12 writers, one encoder call
    for job, vectors in zip(jobs, out, strict=True):
        alone = enc.encode(job, "passage")
        assert vectors.shape == alone.shape and cosine(vectors, alone).min() > 0.99

    calls.clear()
    out = asyncio.run(run(5))
    assert isinstance(out[5], EncoderError)
    assert all(isinstance(v, np.ndarray) for i, v in enumerate(out) if i != 5)
    assert calls[0] == 23 and len(calls) == 1 + 12  # shared call failed, then each alone


def test_commit_compares_with_what_is_stored_at_commit_time(engine: Engine) -> None:
    """prepare -> (another writer) -> commit: the document's state is read again."""
    svc, store = engine.indexer, engine.store
    v1 = Document(id="x", text=text(0, 3))
    v_long = Document(id="x", text=text(1, 400))
    v_short = Document(id="x", text=text(2, 2))
    assert svc.index_documents("c", [v1])[0].status == "indexed"

    # unchanged when prepared, changed by another writer before commit: written now
    prepared = svc.prepare("c", [v1])
    assert not prepared.ready and len(prepared.later) == 1
    long_result = svc.index_documents("c", [v_long])[0]
    assert long_result.status == "indexed" and long_result.passages > 3
    svc.encode(prepared.ready)
    assert svc.commit("c", prepared)[0].status == "indexed"
    assert engine.store.count("c") == 1 and svc.get_document("c", "x")["text"] == v1.text

    # prepared as a change from v1 (1 passage); another writer stores the long version;
    # the commit must delete the long version's extra passages (planned again)
    prepared = svc.prepare("c", [v_short])
    assert prepared.ready[0].old_passages == 1
    svc.index_documents("c", [v_long])
    svc.encode(prepared.ready)
    assert svc.commit("c", prepared)[0].status == "indexed"
    assert store.count("c") == 1 and svc.get_document("c", "x")["text"] == v_short.text

    # prepared as a change, the same content stored meanwhile: unchanged at commit
    prepared = svc.prepare("c", [v1])
    svc.index_documents("c", [v1])
    svc.encode(prepared.ready)
    assert svc.commit("c", prepared)[0].status == "unchanged"
    from xsearch.consistency import check_collection

    assert check_collection(store, "c").ok


@pytest.fixture
def engine(tmp_path: Any, tiny_bundle: Any) -> Any:
    from tests.api.conftest import make_settings

    with Engine.open(make_settings(tmp_path / "home"), bundle=str(tiny_bundle)) as eng:
        yield eng
