"""Micro-batching of query encoding: concurrent queries are encoded together.

One encoder call for 8 short queries costs far less than 8 calls (the per-call
overhead is paid once; `python -m bench.api_load` compares the server with and
without it), so under concurrent load the API gathers queries for at most
``max_wait_ms`` (or until ``max_batch``) and encodes them in one call. The call
runs on a single worker thread, never on the event loop: the loop keeps
accepting requests (which pile up into the next batch) while the encoder works.

The wait is only paid when it can pay off: a query that arrives while no other
query is in sight and the previous batch held a single query (no concurrency
lately) is dispatched at once, so a lone client sees no added latency.

One caller's bad query must not fail the others batched with it: when a batch
call raises, each query is encoded alone, the good ones get their vectors and
only the query that fails alone gets an error (a 422 when the others worked or
when the failure is about the text, so no client input ever yields a 500).

The vectors of the last ``cache_size`` distinct queries are kept: a repeated
query (the next page, a refresh, a popular search) gets its first vector back,
without encoding. Beyond the saving, that keeps a query's ranking stable: the
int8 encoder quantizes activations with one scale per call, so the same text
encoded in another micro-batch gets a slightly different vector, and near-tied
hits could swap between two pages of one query (README, "Same query, same
ranking?"; bench/results/batch_dependence.json).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from xsearch.errors import EncoderError, InputError
from xsearch.validation import text_problem

EncodeFn = Callable[[Sequence[str]], np.ndarray]


@dataclass(slots=True)
class EncodedQuery:
    vector: np.ndarray
    queued_ms: float  # from submission to the start of its batch
    encode_ms: float  # duration of the batch's encoder call
    batch_size: int


@dataclass(slots=True)
class _Item:
    text: str
    future: asyncio.Future[EncodedQuery]
    submitted: float


BatchObserver = Callable[[int, float], None]  # (batch size, encode seconds)


class MicroBatcher:
    def __init__(
        self,
        encode: EncodeFn,
        *,
        max_wait_ms: float = 2.0,
        max_batch: int = 32,
        on_batch: BatchObserver | None = None,
        cache_size: int = 0,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        if cache_size < 0:
            raise ValueError("cache_size must be >= 0")
        self._encode = encode
        self.max_wait = max_wait_ms / 1000.0
        self.max_batch = max_batch
        self._on_batch = on_batch
        self._queue: asyncio.Queue[_Item] | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._last_batch = 1
        self.batches = 0
        self.queries = 0
        # text -> its vector (read-only); touched only on the event loop, so no lock
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.cache_hits = 0

    # -- lifecycle --------------------------------------------------------------
    async def start(self) -> None:
        if self._task is not None:
            return
        self._queue = asyncio.Queue()
        # One thread: two encoder calls at once would only split the same cores.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xsearch-encode")
        self._task = asyncio.create_task(self._run(), name="xsearch-microbatch")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._queue is not None:
            pending = [self._queue.get_nowait() for _ in range(self._queue.qsize())]
            _fail(pending, _shutting_down())
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # -- API ----------------------------------------------------------------------
    async def encode(self, text: str) -> EncodedQuery:
        """The vector of one query, encoded together with whatever else is waiting."""
        if self._queue is None or not self.running:
            raise EncoderError("the query encoder is not running", fix="restart the server")
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            self.cache_hits += 1
            return EncodedQuery(vector=cached, queued_ms=0.0, encode_ms=0.0, batch_size=0)
        loop = asyncio.get_running_loop()
        item = _Item(text, loop.create_future(), time.perf_counter())
        self._queue.put_nowait(item)
        return await item.future

    # -- worker -------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            batch = await self._gather()
            await self._encode_batch(batch)

    async def _gather(self) -> list[_Item]:
        assert self._queue is not None
        queue = self._queue
        batch = [await queue.get()]
        while len(batch) < self.max_batch and not queue.empty():
            batch.append(queue.get_nowait())
        if self.max_wait <= 0 or (len(batch) == 1 and self._last_batch == 1):
            return batch
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait
        while len(batch) < self.max_batch:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(queue.get(), remaining))
            except TimeoutError:
                break
        return batch

    async def _encode_batch(self, batch: list[_Item]) -> None:
        live = [it for it in batch if not it.future.done()]  # drop cancelled callers
        self._last_batch = max(len(live), 1)
        if not live:
            return
        # Identical queries in one batch (a popular search) are encoded once.
        unique = list(dict.fromkeys(it.text for it in live))
        start = time.perf_counter()
        try:
            vectors = await self._call(unique)
        except asyncio.CancelledError:  # shutting down mid-batch: nobody may hang
            _fail(live, _shutting_down())
            raise
        except Exception as exc:  # the worker lives on; only the guilty query fails
            await self._one_by_one(live, unique, exc, start)
            return
        self._deliver(live, dict(zip(unique, vectors, strict=True)), start)

    async def _call(self, texts: list[str]) -> np.ndarray:
        loop = asyncio.get_running_loop()
        vectors = await loop.run_in_executor(self._executor, self._encode, texts)
        if len(vectors) != len(texts):
            raise EncoderError(
                f"the encoder returned {len(vectors)} vectors for {len(texts)} queries",
                fix="this is a bug in the encoder; report it",
            )
        return vectors

    async def _one_by_one(
        self, live: list[_Item], unique: list[str], batch_exc: Exception, start: float
    ) -> None:
        """After a failed batch call: encode each query alone, fail only those that fail alone."""
        if len(unique) == 1:
            _fail(live, _own_error(batch_exc, unique[0], others_worked=False))
            return
        vectors: dict[str, np.ndarray] = {}
        errors: dict[str, Exception] = {}
        for text in unique:
            try:
                vectors[text] = (await self._call([text]))[0]
            except asyncio.CancelledError:
                _fail(live, _shutting_down())
                raise
            except Exception as exc:
                errors[text] = exc
        for it in live:
            if it.text in errors and not it.future.done():
                own = _own_error(errors[it.text], it.text, others_worked=bool(vectors))
                it.future.set_exception(own)
        self._deliver([it for it in live if it.text in vectors], vectors, start)

    def _remember(self, vectors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Keep each new vector (a copy: a row would pin its whole batch array) and
        hand back the cached one where the text was cached meanwhile (a query sent
        again while its first copy was being encoded gets the same vector)."""
        if self.cache_size == 0:
            return vectors
        out: dict[str, np.ndarray] = {}
        for text, vector in vectors.items():
            kept = self._cache.get(text)
            if kept is None:
                kept = np.array(vector, dtype=np.float32, copy=True)
                kept.flags.writeable = False
                self._cache[text] = kept
                if len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
            out[text] = kept
        return out

    def _deliver(self, live: list[_Item], vectors: dict[str, np.ndarray], start: float) -> None:
        elapsed = time.perf_counter() - start
        vectors = self._remember(vectors)
        for it in live:
            if not it.future.done():
                it.future.set_result(EncodedQuery(
                    vector=vectors[it.text],
                    queued_ms=(start - it.submitted) * 1000,
                    encode_ms=elapsed * 1000,
                    batch_size=len(vectors),
                ))
        if not live:
            return
        self.batches += 1
        self.queries += len(live)
        if self._on_batch is not None:
            self._on_batch(len(vectors), elapsed)


def _own_error(exc: Exception, text: str, *, others_worked: bool) -> Exception:
    """The error one query gets for failing to encode on its own.

    When other queries of the batch encoded fine, or the failure is about the
    text itself (not valid Unicode), it is this query's doing: a 422 that says so.
    Otherwise the encoder itself is failing, and the original error stands.
    """
    if isinstance(exc, InputError):
        return exc
    if others_worked or isinstance(exc, UnicodeError) or text_problem(text):
        err = InputError(
            f"this query could not be encoded ({type(exc).__name__}: {exc})",
            fix="send the query as plain UTF-8 text",
        )
        err.__cause__ = exc
        return err
    return exc


def _fail(items: list[_Item], exc: BaseException) -> None:
    for it in items:
        if not it.future.done():
            it.future.set_exception(exc)


def _shutting_down() -> EncoderError:
    return EncoderError("the server is shutting down", fix="retry on a running server")
