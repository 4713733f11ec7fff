"""Chunk and language-detect large documents in worker processes.

Why a process, not a thread (issue 12): chunking a 5 MB document is seconds of
pure Python and tokenizer calls that hold the GIL in bursts; in the server's
own threads it stretched a 1-document write to another collection from ~15 ms
to 0.6-2.1 s. In a worker process it costs the server nothing but the pickling
of the text and of the passages.

Only documents of at least ``min_chars`` go there: a process hop costs ~ms, and
the pool's start-up (a fresh interpreter that loads the tokenizer) is paid once,
lazily, by the first large document, never by ordinary writes. Workers are
bounded (``workers``) and started with ``forkserver`` (``spawn`` where it does
not exist): never ``fork`` of a server that runs threads.

A worker that dies (killed, out of memory) breaks every task of the pool: each
is tried once more in a fresh pool, and a document that kills its worker twice
fails alone with :class:`ChunkWorkerCrashed`; the other documents are unharmed.
Errors raised on purpose in a worker (the passage limit, the deadline, no
text) come back as the same exception types, rebuilt from their parts (some of
them do not pickle as they are).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from xsearch import errors
from xsearch.documents import Document, Passage
from xsearch.errors import ChunkWorkerCrashed, WriteDeadline, XSearchError

# Attempts per document: a worker killed under one document that was only
# queued behind the culprit must not fail that document.
ATTEMPTS = 2


class DeadlineTokens:
    """``count_tokens`` plus ``token_offsets`` (see text.chunking.Tokenizer) that
    check a write deadline at every tokenizer call: a huge document stops
    chunking there (WriteDeadline) instead of running on."""

    def __init__(
        self,
        count: Callable[[str], int],
        offsets: Callable[[str], list[tuple[int, int]]],
        deadline: float | None,
        budget_s: float,
    ) -> None:
        self._count = count
        self._offsets = offsets
        self.deadline = deadline
        self.budget_s = budget_s

    def __call__(self, text: str) -> int:
        self._check()
        return self._count(text)

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        self._check()
        return self._offsets(text)

    def _check(self) -> None:
        # time.monotonic is CLOCK_MONOTONIC: one clock for every process of the
        # machine, so a worker checks the server's deadline as it is
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise WriteDeadline(
                f"chunking a document ran past the write deadline ({self.budget_s:g} s); "
                "nothing of this write was stored",
                fix="split large documents, or raise XSEARCH_WRITE_DEADLINE_S",
            )


class ChunkPool:
    """Worker processes that turn a Document into passages, as
    ``xsearch.text.document_passages`` with the bundle's tokenizer would."""

    def __init__(
        self,
        tokenizer_path: Path,
        prompt: str,
        max_tokens: int,
        *,
        workers: int = 1,
        min_chars: int = 100_000,
    ) -> None:
        if workers < 1:
            raise ValueError("a chunk pool needs at least one worker")
        self.tokenizer_path = Path(tokenizer_path)
        self.prompt = prompt
        self.max_tokens = max_tokens
        self.workers = workers
        self.min_chars = min_chars
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.started = 0  # executors started (1 + one per crash)
        self.submitted = threading.Event()  # set at each submission (tests watch it)

    def wants(self, doc: Document) -> bool:
        """Large enough to be worth a process hop."""
        return len(doc.text) >= self.min_chars

    def document_passages(
        self,
        doc: Document,
        *,
        max_passages: int | None,
        deadline: float | None,
        budget_s: float,
    ) -> list[Passage]:
        """The passages of ``doc``, computed in a worker; blocks the calling thread
        (not the GIL). Raises what chunking raises, or ChunkWorkerCrashed."""
        for attempt in range(ATTEMPTS):
            executor = self._get_executor()
            try:
                future = executor.submit(
                    _chunk_in_worker, doc, self.max_tokens, max_passages, deadline, budget_s
                )
                self.submitted.set()
                outcome = future.result()
            except BrokenProcessPool:
                self._discard(executor)
                if attempt + 1 < ATTEMPTS:
                    continue
                raise ChunkWorkerCrashed(
                    f"the worker process chunking document {doc.id!r} died twice (killed, or "
                    "out of memory); nothing of it was stored",
                    fix="retry; if it fails again, split the document into smaller ones",
                ) from None
            return _unpack(outcome)
        raise AssertionError("unreachable")  # pragma: no cover

    def pids(self) -> list[int]:
        """The worker processes running now (for tests and diagnostics)."""
        executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        return [p.pid for p in processes.values() if p.pid is not None]

    def close(self) -> None:
        """Stop the workers (the server's shutdown); later calls raise.

        Terminated, not waited for: a worker may be minutes from the end of a huge
        document (its write's deadline), and a stopping server must not wait."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is None:
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(10)

    def _get_executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise ChunkWorkerCrashed(
                    "the server is shutting down", fix="retry on a running server"
                )
            if self._executor is None:
                methods = multiprocessing.get_all_start_methods()
                method = "forkserver" if "forkserver" in methods else "spawn"
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context(method),
                    initializer=_init_worker,
                    initargs=(str(self.tokenizer_path), self.prompt),
                )
                self.started += 1
            return self._executor

    def _discard(self, broken: ProcessPoolExecutor) -> None:
        """Forget a broken executor (only if no other thread replaced it already)."""
        with self._lock:
            if self._executor is broken:
                self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)


# --- in the worker process ------------------------------------------------------
_tokens: tuple[Any, str] | None = None  # (tokenizer, passage prompt) of this worker


def _init_worker(tokenizer_path: str, prompt: str) -> None:
    global _tokens
    # Lower priority than the server: a worker uses a core the server's event
    # loop and encoder may need for short requests.
    try:
        os.nice(5)
    except OSError:  # pragma: no cover - not permitted: run at the same priority
        pass
    from xsearch.encoder.core import _load_tokenizer

    _tokens = (_load_tokenizer(Path(tokenizer_path)), prompt)


def _count(text: str) -> int:
    """As ``Encoder.count_tokens(text, "passage")``."""
    from xsearch.encoder.core import count_tokens

    assert _tokens is not None
    return count_tokens(_tokens[0], _tokens[1], text)


def _offsets(text: str) -> list[tuple[int, int]]:
    """As ``Encoder.token_offsets``."""
    from xsearch.encoder.core import content_offsets

    assert _tokens is not None
    return content_offsets(_tokens[0], text)


def _chunk_in_worker(
    doc: Document,
    max_tokens: int,
    max_passages: int | None,
    deadline: float | None,
    budget_s: float,
) -> tuple[Any, ...]:
    from xsearch.text import document_passages
    from xsearch.text.chunking import TooManyPassages

    try:
        passages = document_passages(
            doc,
            count_tokens=DeadlineTokens(_count, _offsets, deadline, budget_s),
            max_tokens=max_tokens,
            max_passages=max_passages,
        )
    except TooManyPassages as err:
        return ("too_many", err.at_least, err.limit)
    except XSearchError as err:
        return ("error", type(err).__name__, err.message, err.fix)
    return ("ok", passages)


def _unpack(outcome: tuple[Any, ...]) -> list[Passage]:
    from xsearch.text.chunking import TooManyPassages

    kind = outcome[0]
    if kind == "ok":
        return outcome[1]
    if kind == "too_many":
        raise TooManyPassages(outcome[1], outcome[2])
    name, message, fix = outcome[1:]
    # the same error as chunking in a thread raises (every class of the tree
    # takes (message, fix=...)); an unknown name stays a failure of this document
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, XSearchError)):
        cls, message = XSearchError, f"{message} ({name})"
    raise cls(message, fix=fix)
