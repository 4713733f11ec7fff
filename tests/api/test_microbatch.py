"""The micro-batcher: grouping, latency for a lone query, off-loop encoding, errors."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from xsearch.api.microbatch import MicroBatcher

from xsearch.encoder.core import Encoder
from xsearch.errors import EncoderError, InputError


class RecordingEncoder:
    """Deterministic vectors (a function of the text) and a log of every call."""

    def __init__(self, delay_s: float = 0.0, fail_on: str | None = None) -> None:
        self.delay_s = delay_s
        self.fail_on = fail_on
        self.batches: list[list[str]] = []
        self.threads: set[int] = set()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(list(texts))
        self.threads.add(threading.get_ident())
        if self.fail_on in texts:
            raise EncoderError("cannot encode", fix="none")
        time.sleep(self.delay_s)  # an encoder call holds its thread like onnxruntime does
        return np.stack([self.vector(t) for t in texts])

    @staticmethod
    def vector(text: str) -> np.ndarray:
        rng = np.random.default_rng(abs(hash(text)) % 2**32)
        v = rng.standard_normal(8).astype(np.float32)
        return v / np.linalg.norm(v)


def run(coro):  # noqa: ANN001, ANN201
    return asyncio.run(coro)


def test_concurrent_queries_are_encoded_together() -> None:
    enc = RecordingEncoder(delay_s=0.02)

    async def main() -> list:
        b = MicroBatcher(enc, max_wait_ms=5, max_batch=32)
        await b.start()
        try:
            return await asyncio.gather(*(b.encode(f"query {i}") for i in range(32)))
        finally:
            await b.stop()

    results = run(main())
    assert len(enc.batches) < 8, enc.batches  # 32 queries, a handful of calls
    assert sum(len(b) for b in enc.batches) == 32
    for i, r in enumerate(results):  # every caller gets its own vector back
        np.testing.assert_array_equal(r.vector, enc.vector(f"query {i}"))
        assert r.batch_size >= 1 and r.encode_ms >= 0 and r.queued_ms >= 0


def test_encoding_runs_off_the_event_loop() -> None:
    enc = RecordingEncoder()

    async def main() -> int:
        b = MicroBatcher(enc, max_wait_ms=1)
        await b.start()
        try:
            await asyncio.gather(*(b.encode(str(i)) for i in range(5)))
        finally:
            await b.stop()
        return threading.get_ident()

    loop_thread = run(main())
    assert enc.threads and loop_thread not in enc.threads


def test_lone_query_does_not_wait_for_company() -> None:
    enc = RecordingEncoder()

    async def main() -> float:
        b = MicroBatcher(enc, max_wait_ms=500, max_batch=32)  # a long wait, on purpose
        await b.start()
        try:
            t0 = time.perf_counter()
            await b.encode("alone")
            return time.perf_counter() - t0
        finally:
            await b.stop()

    assert run(main()) < 0.2


def test_after_concurrency_it_waits_to_gather_staggered_queries() -> None:
    enc = RecordingEncoder()

    async def staggered(b: MicroBatcher) -> None:
        async def later(i: int) -> None:
            await asyncio.sleep(0.005 * i)
            await b.encode(f"late {i}")

        await asyncio.gather(*(later(i) for i in range(4)))

    async def main() -> None:
        b = MicroBatcher(enc, max_wait_ms=60, max_batch=32)
        await b.start()
        try:
            await asyncio.gather(*(b.encode(f"burst {i}") for i in range(4)))
            await staggered(b)
        finally:
            await b.stop()

    run(main())
    assert [len(x) for x in enc.batches] == [4, 4], enc.batches


def test_max_batch_is_respected_and_duplicates_encoded_once() -> None:
    enc = RecordingEncoder(delay_s=0.01)

    async def main() -> list:
        b = MicroBatcher(enc, max_wait_ms=5, max_batch=4)
        await b.start()
        try:
            texts = [f"q{i % 5}" for i in range(20)]  # 5 distinct queries, 4 times each
            return await asyncio.gather(*(b.encode(t) for t in texts))
        finally:
            await b.stop()

    results = run(main())
    assert max(len(x) for x in enc.batches) <= 4
    assert all(len(set(x)) == len(x) for x in enc.batches)  # no text twice in one call
    for i, r in enumerate(results):
        np.testing.assert_array_equal(r.vector, enc.vector(f"q{i % 5}"))


def test_a_failing_query_fails_alone_and_the_worker_survives() -> None:
    enc = RecordingEncoder(fail_on="bad")

    async def main() -> tuple[list, np.ndarray]:
        b = MicroBatcher(enc, max_wait_ms=5)
        await b.start()
        try:
            outcomes = await asyncio.gather(
                b.encode("bad"), b.encode("good"), b.encode("good too"), return_exceptions=True
            )
            after = await b.encode("fine afterwards")
            return outcomes, after.vector
        finally:
            await b.stop()

    outcomes, vector = run(main())
    bad, good, good_too = outcomes
    # The others encoded fine, so the failure is this query's: a 422, not a 500.
    assert isinstance(bad, InputError) and bad.status_code == 422, bad
    np.testing.assert_array_equal(good.vector, enc.vector("good"))
    np.testing.assert_array_equal(good_too.vector, enc.vector("good too"))
    assert ["bad", "good", "good too"] in enc.batches  # tried together first, then alone
    np.testing.assert_array_equal(vector, enc.vector("fine afterwards"))


def test_an_encoder_failing_for_everyone_keeps_its_own_error() -> None:
    def broken(texts: Sequence[str]) -> np.ndarray:
        raise EncoderError("the session is gone", fix="restart")

    async def main() -> list:
        b = MicroBatcher(broken, max_wait_ms=5)
        await b.start()
        try:
            return await asyncio.gather(b.encode("a"), b.encode("b"), return_exceptions=True)
        finally:
            await b.stop()

    # Not the queries' fault: no 422 pretending it was.
    assert all(type(o) is EncoderError for o in run(main()))


def test_a_lone_surrogate_beside_good_queries_on_the_real_encoder(tiny_bundle: Path) -> None:
    encoder = Encoder.load(tiny_bundle)
    texts = ["black cat", "\ud800 cat", "chat noir", "perro"]

    async def main() -> list:
        b = MicroBatcher(lambda t: encoder.encode(list(t), kind="query"), max_wait_ms=20)
        await b.start()
        try:
            return await asyncio.gather(*(b.encode(t) for t in texts), return_exceptions=True)
        finally:
            await b.stop()

    outcomes = run(main())
    assert isinstance(outcomes[1], InputError) and "encoded" in str(outcomes[1])
    for i in (0, 2, 3):
        expected = encoder.encode([texts[i]], kind="query")[0]
        np.testing.assert_allclose(outcomes[i].vector, expected, atol=1e-5)


def test_encode_after_stop_is_an_error() -> None:
    async def main() -> None:
        b = MicroBatcher(RecordingEncoder(), max_wait_ms=1)
        await b.start()
        await b.stop()
        await b.encode("too late")

    with pytest.raises(EncoderError, match="not running"):
        run(main())


def test_stop_fails_queries_still_in_flight() -> None:
    enc = RecordingEncoder(delay_s=0.2)

    async def main() -> list:
        b = MicroBatcher(enc, max_wait_ms=0, max_batch=1)
        await b.start()
        tasks = [asyncio.create_task(b.encode(f"q{i}")) for i in range(3)]
        await asyncio.sleep(0.05)  # the first is being encoded, two are queued
        await b.stop()
        return await asyncio.gather(*tasks, return_exceptions=True)

    outcomes = run(main())
    assert all(isinstance(o, EncoderError) for o in outcomes), outcomes


class BatchDependentEncoder(RecordingEncoder):
    """Like int8's per-call activation scales: each call nudges its vectors a little."""

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        out = super().__call__(texts)
        return out + np.float32(1e-3 * len(self.batches))


def test_a_repeated_query_gets_its_first_vector_without_encoding() -> None:
    enc = BatchDependentEncoder()

    async def main() -> tuple:
        b = MicroBatcher(enc, max_wait_ms=0, max_batch=32, cache_size=2)
        await b.start()
        try:
            first = await b.encode("panda")
            again = await b.encode("panda")
            await b.encode("cherry")
            await b.encode("rates")  # cache of 2: "panda" is the oldest, dropped
            later = await b.encode("panda")
            return first, again, later, b.cache_hits
        finally:
            await b.stop()

    first, again, later, hits = run(main())
    assert again.batch_size == 0 and again.encode_ms == 0.0 and hits == 1
    assert np.array_equal(first.vector, again.vector)
    assert not again.vector.flags.writeable  # shared between callers: nobody may change it
    assert enc.batches == [["panda"], ["cherry"], ["rates"], ["panda"]]
    assert not np.array_equal(first.vector, later.vector)  # encoded again, in another call


def test_the_same_query_in_two_batches_gets_one_vector() -> None:
    """Sent again while its first copy is being encoded: the later batch encodes it
    too (it was not kept yet), but both callers get the vector delivered first."""
    enc = BatchDependentEncoder(delay_s=0.05)

    async def main() -> list:
        b = MicroBatcher(enc, max_wait_ms=0, max_batch=1, cache_size=16)
        await b.start()
        try:
            return await asyncio.gather(b.encode("panda"), b.encode("panda"))
        finally:
            await b.stop()

    one, two = run(main())
    assert len(enc.batches) == 2  # max_batch=1: two calls
    assert np.array_equal(one.vector, two.vector)


def test_no_cache_when_its_size_is_zero() -> None:
    enc = RecordingEncoder()

    async def main() -> int:
        b = MicroBatcher(enc, max_wait_ms=0, max_batch=32, cache_size=0)
        await b.start()
        try:
            for _ in range(3):
                await b.encode("panda")
            return b.cache_hits
        finally:
            await b.stop()

    assert run(main()) == 0 and len(enc.batches) == 3
