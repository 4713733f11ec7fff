"""Micro-batching of passage encoding: concurrent writers' passages share encoder calls.

An API write of 10 short documents is ~10-20 passages: encoded alone, the
encoder runs small, badly padded batches, and 20 writers each pay a call of
their own. Here each writer submits its passages and awaits their vectors; one
encoder call at a time runs on a worker thread, and everything submitted while
it runs goes together into the next call (up to ``max_passages``, the bulk
pipeline's unit), where the encoder sorts by length and fills its batches. No
timer: a lone writer is encoded at once, and the wait only grows with the load
that makes batching pay.

One writer's failure does not fail the others: when a shared call raises, each
writer's passages are encoded alone and only the writer whose passages fail
alone gets the error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from starlette.concurrency import run_in_threadpool

from xsearch.errors import EncoderError

EncodeFn = Callable[[Sequence[str]], np.ndarray]


@dataclass(slots=True)
class _Job:
    texts: list[str]
    future: asyncio.Future[np.ndarray]


class PassageBatcher:
    def __init__(self, encode: EncodeFn, *, max_passages: int = 512) -> None:
        if max_passages < 1:
            raise ValueError("max_passages must be >= 1")
        self._encode = encode
        self.max_passages = max_passages
        self._waiting: list[_Job] = []
        self._task: asyncio.Task[None] | None = None
        self.calls = 0  # encoder calls made
        self.jobs = 0  # writers served

    async def encode(self, texts: Sequence[str]) -> np.ndarray:
        """The vectors of one writer's passages, in order."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        job = _Job(list(texts), asyncio.get_running_loop().create_future())
        self._waiting.append(job)
        if self._task is None or self._task.done():
            # The loop is single-threaded: checking and starting the drainer cannot race.
            self._task = asyncio.create_task(self._drain(), name="xsearch-passage-batch")
        return await job.future

    async def _drain(self) -> None:
        """Encode what is waiting, call after call, until nothing is."""
        while self._waiting:
            take, n = [], 0
            while self._waiting and (not take or n + self._next_size() <= self.max_passages):
                job = self._waiting.pop(0)
                if not job.future.done():  # a cancelled writer's passages are not encoded
                    take.append(job)
                    n += len(job.texts)
            if take:
                await self._run(take)

    def _next_size(self) -> int:
        return len(self._waiting[0].texts)

    async def _run(self, jobs: list[_Job]) -> None:
        texts = [t for job in jobs for t in job.texts]
        try:
            vectors = await run_in_threadpool(self._encode, texts)
            if len(vectors) != len(texts):
                raise EncoderError(
                    f"the encoder returned {len(vectors)} vectors for {len(texts)} passages",
                    fix="this is a bug in the encoder; report it",
                )
        except asyncio.CancelledError:
            _fail(jobs, _shutting_down())
            raise
        except Exception as exc:
            if len(jobs) == 1:
                _fail(jobs, exc)
                return
            for job in jobs:  # each writer alone: only the one that fails alone fails
                await self._run([job])
            return
        self.calls += 1
        self.jobs += len(jobs)
        start = 0
        for job in jobs:
            end = start + len(job.texts)
            if not job.future.done():
                job.future.set_result(vectors[start:end])
            start = end


def _fail(jobs: list[_Job], exc: BaseException) -> None:
    for job in jobs:
        if not job.future.done():
            job.future.set_exception(exc)


def _shutting_down() -> EncoderError:
    return EncoderError("the server is shutting down", fix="retry on a running server")
