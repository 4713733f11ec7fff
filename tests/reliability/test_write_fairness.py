"""Issue 12 #4, the last part: a large document holds neither the server's GIL nor its
encoder for long. Large documents are chunked in a worker process
(xsearch.text.chunk_pool) and encoded a slice per call, beside other writers
(xsearch.api.passage_batch). Real tiny encoder and tokenizer, real processes."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from xsearch.api.passage_batch import PassageBatcher

from tests.indexer.conftest import SENTENCES
from tests.reliability.conftest import assert_consistent
from xsearch.documents import Document
from xsearch.errors import ChunkWorkerCrashed, LimitExceeded, WriteDeadline
from xsearch.runtime import Engine
from xsearch.text import document_passages
from xsearch.text.chunk_pool import ChunkPool, DeadlineTokens

MIXED = " ".join(SENTENCES)  # twelve sentences, six languages


def mixed_text(chars: int) -> str:
    return " ".join([MIXED] * (chars // (len(MIXED) + 1) + 1))[:chars]


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


@pytest.fixture
def engine(tmp_path: Path, tiny_bundle: Path) -> Iterator[Engine]:
    from tests.api.conftest import make_settings

    with Engine.open(make_settings(tmp_path / "home"), bundle=str(tiny_bundle)) as eng:
        yield eng


@pytest.fixture
def pool(engine: Engine) -> Iterator[ChunkPool]:
    enc = engine.encoder
    chunk_pool = ChunkPool(
        enc.bundle_dir / "tokenizer.json", enc.prompts.get("passage", ""), enc.max_seq_length,
        workers=1, min_chars=1000,
    )  # fmt: skip
    yield chunk_pool
    chunk_pool.close()


def in_thread(engine: Engine, doc: Document, **kw: Any) -> list[Any]:
    enc = engine.encoder
    tokens = DeadlineTokens(
        lambda t: enc.count_tokens(t, "passage"), enc.token_offsets, None, 1.0
    )
    return document_passages(doc, count_tokens=tokens, max_tokens=enc.max_seq_length, **kw)


# --- the passage batcher: slices, fewest-left first, deadlines ---------------------------
def test_a_small_writer_waits_for_one_slice_of_a_large_document_not_all_of_it(
    engine: Engine,
) -> None:
    enc = engine.encoder
    big = [f"{SENTENCES[i % 2]} ({i:03d})" for i in range(200)]  # sliced by characters:
    chars = max(len(t) for t in big)  # 16 of the longest per slice, whatever the order
    big = [t.ljust(chars) for t in big]
    small = ["Une phrase courte.", "Ein kurzer Satz."]
    calls: list[list[str]] = []
    first_call = threading.Event()

    def encode(texts: Sequence[str]) -> np.ndarray:
        calls.append(list(texts))
        first_call.set()
        return enc.encode(texts, "passage")

    async def run() -> tuple[np.ndarray, np.ndarray, int]:
        batcher = PassageBatcher(
            encode, max_passages=512, slice_chars=16 * chars, call_chars=32 * chars
        )
        big_task = asyncio.create_task(batcher.encode(big))
        await asyncio.to_thread(first_call.wait, 30)  # the big one's first slice is encoding
        small_vectors = await batcher.encode(small)
        calls_when_small_done = len(calls)
        return await big_task, small_vectors, calls_when_small_done

    big_vectors, small_vectors, calls_when_small_done = asyncio.run(run())
    # the small writer had the very next call, alone: it waited for one slice only
    assert calls_when_small_done == 2, [len(c) for c in calls]
    assert calls[1] == small
    assert [len(c) for c in calls if c != small] == [16] * (200 // 16) + [200 % 16]
    # vectors in order, as if each writer were encoded alone
    assert cosine(small_vectors, enc.encode(small, "passage")).min() > 0.999
    assert big_vectors.shape[0] == 200
    assert cosine(big_vectors, enc.encode(big, "passage")).min() > 0.999


def test_a_writer_past_its_deadline_stops_using_the_encoder(engine: Engine) -> None:
    enc = engine.encoder
    calls: list[int] = []
    deadline = time.monotonic() + 0.05

    def encode(texts: Sequence[str]) -> np.ndarray:
        calls.append(len(texts))
        if len(calls) == 1:
            time.sleep(max(0.0, deadline - time.monotonic()) + 0.01)  # the deadline passes
        return enc.encode(texts, "passage")

    async def run() -> list[Any]:
        batcher = PassageBatcher(encode, slice_chars=8 * 9, call_chars=8 * 9)
        late = batcher.encode([f"passage {i}" for i in range(100)], deadline=deadline)
        expired = batcher.encode(["never encoded"], deadline=time.monotonic() - 1)
        return await asyncio.gather(late, expired, return_exceptions=True)

    late, expired = asyncio.run(run())
    assert isinstance(late, WriteDeadline) and "XSEARCH_WRITE_DEADLINE_S" in str(late)
    assert isinstance(expired, WriteDeadline)
    assert calls == [8], calls  # one slice, then nothing more of it


# --- the chunk pool ---------------------------------------------------------------------
def test_the_pool_chunks_and_detects_exactly_as_a_thread_would(
    engine: Engine, pool: ChunkPool
) -> None:
    doc = Document(id="m", text=mixed_text(60_000), title="Un titre")  # languages detected
    expected = in_thread(engine, doc)
    got = pool.document_passages(doc, max_passages=None, deadline=None, budget_s=1.0)
    assert len(expected) > 20 and len({p.lang for p in expected}) >= 4
    assert got == expected
    assert pool.started == 1 and len(pool.pids()) == 1 and os.getpid() not in pool.pids()


def test_the_pools_refusals_are_the_same_errors(pool: ChunkPool) -> None:
    doc = Document(id="big", text=mixed_text(200_000), lang="en")
    with pytest.raises(LimitExceeded, match="over the limit of 5") as err:
        pool.document_passages(doc, max_passages=5, deadline=None, budget_s=1.0)
    assert err.value.at_least > 5  # type: ignore[attr-defined]
    with pytest.raises(WriteDeadline, match="XSEARCH_WRITE_DEADLINE_S"):
        pool.document_passages(doc, max_passages=None, deadline=time.monotonic(), budget_s=1.0)
    ok = pool.document_passages(Document(id="s", text=MIXED), max_passages=None,
                                deadline=None, budget_s=1.0)  # fmt: skip
    assert ok and pool.started == 1  # refusals are answers, not crashes


def kill_each_worker(pool: ChunkPool, times: int) -> threading.Thread:
    """Kill -9 the pool's worker as soon as each of the next ``times`` submissions
    is made (the worker is then starting or chunking)."""

    def killer() -> None:
        for _ in range(times):
            assert pool.submitted.wait(60)
            pool.submitted.clear()
            for pid in pool.pids():
                os.kill(pid, signal.SIGKILL)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    return thread


def test_a_worker_killed_once_is_replaced_and_the_document_chunked_again(
    engine: Engine, pool: ChunkPool
) -> None:
    doc = Document(id="big", text=mixed_text(300_000), lang="en")
    pool.submitted.clear()
    killer = kill_each_worker(pool, 1)
    got = pool.document_passages(doc, max_passages=None, deadline=None, budget_s=1.0)
    killer.join(10)
    assert pool.started == 2  # the broken pool was replaced
    assert got == in_thread(engine, doc)


def test_a_document_that_kills_its_worker_twice_fails_alone(make_client: Any) -> None:
    """Through HTTP: the big document is reported failed with a reason that says
    what to do, the small one beside it is indexed, no 5xx, the collection is
    consistent, and the next large document is chunked by a fresh worker."""
    client = make_client(chunk_process_min_chars=50_000)
    post = lambda docs: client.post("/collections/c/documents", json={"documents": docs})  # noqa: E731
    assert post([{"id": "warm", "text": MIXED}]).status_code == 200
    pool = client.app.state.xsearch.indexer.chunk_pool
    assert pool is not None and pool.started == 0  # small documents stay in-thread
    pool.submitted.clear()
    killer = kill_each_worker(pool, 2)
    r = post([{"id": "small", "text": MIXED}, {"id": "big", "text": mixed_text(400_000)}])
    killer.join(10)
    assert r.status_code == 200, r.text
    results = {d["id"]: d for d in r.json()["results"]}
    assert results["small"]["status"] == "indexed"
    assert results["big"]["status"] == "failed", results["big"]
    assert "died twice" in results["big"]["reason"] and "split" in results["big"]["reason"]
    assert client.get("/collections/c/documents/big").status_code == 404
    assert_consistent(client, "c")
    r = post([{"id": "big", "text": mixed_text(60_000)}])
    assert r.status_code == 200 and r.json()["indexed"] == 1, r.text
    assert pool.started == 3
    assert_consistent(client, "c")


def test_the_workers_stop_with_the_server(make_client: Any) -> None:
    client = make_client(started=False, chunk_process_min_chars=1000)
    with client:
        r = client.post(
            "/collections/c/documents", json={"documents": [{"id": "d", "text": MIXED * 5}]}
        )
        assert r.status_code == 200 and r.json()["indexed"] == 1, r.text
        pool = client.app.state.xsearch.indexer.chunk_pool
        pids = pool.pids()
        assert pool.started == 1 and len(pids) == 1
    for pid in pids:  # joined at shutdown: gone, not a zombie
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with pytest.raises(ChunkWorkerCrashed, match="shutting down"):
        pool.document_passages(Document(id="x", text=MIXED), max_passages=None,
                               deadline=None, budget_s=1.0)  # fmt: skip


def test_chunk_workers_zero_chunks_everything_in_thread(make_client: Any) -> None:
    client = make_client(chunk_workers=0, chunk_process_min_chars=0)
    r = client.post(
        "/collections/c/documents", json={"documents": [{"id": "d", "text": MIXED * 5}]}
    )
    assert r.status_code == 200 and r.json()["indexed"] == 1, r.text
    assert client.app.state.xsearch.indexer.chunk_pool is None


def test_closing_the_pool_does_not_wait_for_a_huge_document(pool: ChunkPool) -> None:
    """A stopping server terminates its workers: the document in flight fails
    (nothing stored, 'shutting down'), close() returns at once."""
    doc = Document(id="huge", text=mixed_text(3_000_000), lang="en")
    outcome: dict[str, Any] = {}

    def chunk() -> None:
        try:
            pool.document_passages(doc, max_passages=None, deadline=None, budget_s=1.0)
        except ChunkWorkerCrashed as err:
            outcome["error"] = err

    pool.submitted.clear()
    thread = threading.Thread(target=chunk)
    thread.start()
    assert pool.submitted.wait(30)
    started = time.monotonic()
    pool.close()
    closed_s = time.monotonic() - started
    thread.join(30)
    assert "shutting down" in str(outcome.get("error")), outcome
    assert closed_s < 3.0, f"close() waited {closed_s:.1f} s"


@pytest.mark.slow
def test_small_writes_beside_a_large_document_on_a_real_server(
    real_bundle: Path, tmp_path: Path
) -> None:
    """`xsearch serve` with the default model: a ~130 KB document (~60 passages of
    up to 512 tokens, chunked in the worker, then encoded a slice per call, ~10 s
    on 2 cores) is indexed whole while 1-document writes to another collection
    keep coming, each answered in under a second, most while it is encoded."""
    import httpx

    from tests.api.server import home_with_bundle, running_server, serve_env

    home = home_with_bundle(tmp_path / "home", real_bundle)
    big_text = " ".join([MIXED] * 150)
    assert len(big_text) > 100_000  # over the default XSEARCH_CHUNK_PROCESS_MIN_CHARS
    with running_server(serve_env(home, real_bundle.name), timeout_s=180) as (url, _proc):
        with httpx.Client(base_url=url, timeout=120) as http:
            one = [{"id": "warm", "text": SENTENCES[0]}]
            assert http.post("/collections/small/documents", json={"documents": one}).is_success
            outcome: dict[str, Any] = {}

            def index_big() -> None:
                with httpx.Client(base_url=url, timeout=120) as other:
                    body = {"documents": [{"id": "big", "text": big_text, "lang": "en"}]}
                    outcome["response"] = other.post("/collections/big/documents", json=body)

            thread = threading.Thread(target=index_big)
            thread.start()
            times: list[float] = []
            while thread.is_alive():  # writes, one after another, until the big one is done
                doc = {"id": f"s{len(times)}", "text": SENTENCES[len(times) % len(SENTENCES)]}
                started = time.monotonic()
                r = http.post("/collections/small/documents", json={"documents": [doc]})
                times.append(time.monotonic() - started)
                assert r.status_code == 200 and r.json()["indexed"] == 1, r.text
            thread.join()
    response = outcome["response"]
    assert response.status_code == 200 and response.json()["indexed"] == 1, response.text
    assert response.json()["results"][0]["passages"] > 30
    print(f"{len(times)} small writes beside the large one, slowest {max(times):.3f} s")
    assert len(times) >= 5 and max(times) < 1.0, times
