"""Micro-batching of passage encoding: concurrent writers' passages share encoder calls.

An API write of 10 short documents is ~10-20 passages: encoded alone, the
encoder runs small, badly padded batches, and 20 writers each pay a call of
their own. Here each writer submits its passages and awaits their vectors; one
encoder call at a time runs on a worker thread, and everything submitted while
it runs goes together into the next call, where the encoder sorts by length and
fills its batches. No timer: a lone writer is encoded at once, and the wait only
grows with the load that makes batching pay.

Fair to small writers (issue 12), sized in characters (a cheap stand-in for
tokens, which are what an encoder call costs): a writer with at most
``call_chars`` of text is small and encoded whole; calls of small writers
(fewest characters first, at most ``call_chars`` in all unless one writer is
alone) and calls of large writers' slices (passages up to ``slice_chars`` per
writer, at least one) take turns. So a 1-document write waits for at most the
one call in flight, never for all of a 5 MB document's passages, and its own
call holds no slice. On 2 busy cores a 512-token passage (~2,000 Latin
characters) of the default model costs ~0.2 s, about as much batched as alone,
so slices cost a large document little; an API write of ten short documents
stays one call, batched with its neighbours (sliced per passage, 20 such
writers cost 63 CPU ms per document against the bulk pipeline's 48:
bench/results/api_writes_passage_slices.json). A writer past its ``deadline`` gets
WriteDeadline before its next slice: an abandoned write stops using the encoder.

One writer's failure does not fail the others: when a shared call raises, each
writer's slice is encoded alone and only the writer whose slice fails alone
gets the error (its later slices are dropped).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from starlette.concurrency import run_in_threadpool

from xsearch.errors import EncoderError, WriteDeadline

EncodeFn = Callable[[Sequence[str]], np.ndarray]


@dataclass(slots=True, eq=False)
class _Job:
    texts: list[str]
    future: asyncio.Future[np.ndarray]
    deadline: float | None = None  # time.monotonic() value
    taken: int = 0  # texts handed to the encoder so far
    parts: list[np.ndarray] = field(default_factory=list)  # their vectors, in order
    chars: int = field(init=False)  # characters of all its texts

    def __post_init__(self) -> None:
        self.chars = sum(len(t) for t in self.texts)

    @property
    def left(self) -> int:
        return len(self.texts) - self.taken


@dataclass(slots=True, eq=False)
class _Slice:
    job: _Job
    lo: int
    hi: int

    @property
    def texts(self) -> list[str]:
        return self.job.texts[self.lo : self.hi]


class PassageBatcher:
    def __init__(
        self,
        encode: EncodeFn,
        *,
        max_passages: int = 512,
        slice_chars: int = 2_000,
        call_chars: int = 16_000,
        on_call: Callable[[int], None] | None = None,
    ) -> None:
        for n in (max_passages, slice_chars, call_chars):
            if n < 1:
                raise ValueError("max_passages, slice_chars and call_chars must be >= 1")
        self._encode = encode
        self._on_call = on_call  # passages of each encoder call (metrics)
        self.max_passages = max_passages
        # a large writer's characters per call (at least one passage); a writer of
        # at most call_chars is small: encoded whole, in the small writers' turn
        self.slice_chars = min(slice_chars, call_chars)
        self.call_chars = call_chars
        self._waiting: list[_Job] = []  # jobs with texts not yet taken, in arrival order
        self._task: asyncio.Task[None] | None = None
        self._small_turn = True  # small writers and slices of large ones take turns
        self.calls = 0  # encoder calls made
        self.jobs = 0  # writers served
        self.sizes: deque[int] = deque(maxlen=1000)  # passages per encoder call, the last ones

    async def encode(self, texts: Sequence[str], *, deadline: float | None = None) -> np.ndarray:
        """The vectors of one writer's passages, in order."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        job = _Job(list(texts), asyncio.get_running_loop().create_future(), deadline)
        self._waiting.append(job)
        if self._task is None or self._task.done():
            # The loop is single-threaded: checking and starting the drainer cannot race.
            self._task = asyncio.create_task(self._drain(), name="xsearch-passage-batch")
        return await job.future

    async def _drain(self) -> None:
        """Encode what is waiting, call after call, until nothing is."""
        while self._waiting:
            take = self._next_call()
            if take:
                await self._run(take)

    def _next_call(self) -> list[_Slice]:
        """The slices of the next call (at most ``max_passages``): small writers
        whole, fewest characters first, up to ``call_chars`` in all (at least
        one writer); or a slice of up to ``slice_chars`` of each large writer, in
        arrival order, up to ``call_chars`` in all (at least one slice). The two
        kinds take turns: a small writer waits for at most the one call in
        flight, and a large one for at most one call of small writers."""
        now = time.monotonic()
        for job in self._waiting:
            if job.deadline is not None and now > job.deadline and not job.future.done():
                job.future.set_exception(_late())
        # a cancelled or failed writer's passages are not encoded
        self._waiting = [job for job in self._waiting if not job.future.done()]
        # by its whole size: a large writer's last passages are still sliced (taken
        # whole, its last few would make one long call that a small writer waits for)
        small = [job for job in self._waiting if job.chars <= self.call_chars]
        large = [job for job in self._waiting if job.chars > self.call_chars]
        if small and (not large or self._small_turn):
            self._small_turn = False
            take = self._whole(sorted(small, key=lambda j: j.chars))  # stable: ties by arrival
        else:
            self._small_turn = True
            take = self._slices(large)
        self._waiting = [job for job in self._waiting if job.left > 0]
        return take

    def _whole(self, jobs: list[_Job]) -> list[_Slice]:
        """Whole writers while the call has room (the first one always)."""
        take: list[_Slice] = []
        room, chars = self.max_passages, 0
        for job in jobs:
            if take and (job.left > room or chars + job.chars > self.call_chars):
                break
            hi = job.taken + min(job.left, room)  # one writer over max_passages: in parts
            take.append(_Slice(job, job.taken, hi))
            room, chars, job.taken = room - (hi - job.taken), chars + job.chars, hi
        return take

    def _slices(self, jobs: list[_Job]) -> list[_Slice]:
        """Up to ``slice_chars`` of each writer (at least one passage), in arrival
        order, while the call has room (the first slice always)."""
        take: list[_Slice] = []
        room, chars = self.max_passages, 0
        for job in jobs:
            lo = hi = job.taken
            got = 0
            while hi < len(job.texts) and hi - lo < room:
                n = len(job.texts[hi])
                over_slice = hi > lo and got + n > self.slice_chars
                # (slice_chars <= call_chars: only a call with slices in it can be full)
                if over_slice or (take and chars + got + n > self.call_chars):
                    break
                got, hi = got + n, hi + 1
            if hi == lo:
                break  # the call is full
            take.append(_Slice(job, lo, hi))
            job.taken, room, chars = hi, room - (hi - lo), chars + got
            if room == 0:
                break
        return take

    async def _run(self, slices: list[_Slice]) -> None:
        texts = [t for s in slices for t in s.texts]
        try:
            vectors = await run_in_threadpool(self._encode, texts)
            if len(vectors) != len(texts):
                raise EncoderError(
                    f"the encoder returned {len(vectors)} vectors for {len(texts)} passages",
                    fix="this is a bug in the encoder; report it",
                )
        except asyncio.CancelledError:
            _fail([s.job for s in slices] + self._waiting, _shutting_down())
            raise
        except Exception as exc:
            if len(slices) == 1:
                _fail([slices[0].job], exc)
                return
            for piece in slices:  # each writer alone: only the one that fails alone fails
                if not piece.job.future.done():
                    await self._run([piece])
            return
        self.calls += 1
        self.sizes.append(len(texts))
        if self._on_call is not None:
            self._on_call(len(texts))
        start = 0
        for piece in slices:
            job, end = piece.job, start + piece.hi - piece.lo
            if not job.future.done():
                job.parts.append(vectors[start:end])
                if piece.hi == len(job.texts):  # its last slice
                    job.future.set_result(
                        job.parts[0] if len(job.parts) == 1 else np.concatenate(job.parts)
                    )
                    self.jobs += 1
            start = end


def _fail(jobs: list[_Job], exc: BaseException) -> None:
    for job in jobs:
        if not job.future.done():
            job.future.set_exception(exc)


def _late() -> WriteDeadline:
    return WriteDeadline(
        "encoding the passages of this write ran past its deadline; nothing of it was stored",
        fix="send fewer or smaller documents per request, or raise XSEARCH_WRITE_DEADLINE_S",
    )


def _shutting_down() -> EncoderError:
    return EncoderError("the server is shutting down", fix="retry on a running server")
