"""The bulk pipeline: read -> plan + chunk -> encode -> write, overlapped.

    reader thread ──q──> planner thread ──q──> encoder (main thread) ──q──> writer thread
    (sources, shard)     (skip unchanged,       (one call per unit of       (crash-safe
                          passages)              ~512 passages)              write order)

Queues are bounded (``queue.Queue(maxsize=...)``), so memory stays constant
and a slow stage throttles the ones before it; onnxruntime releases the GIL,
so reading, chunking and writing run while the encoder computes. The encoder
runs on the main thread so Ctrl-C reaches it.

Stopping: ``stop`` (set on the first SIGINT, or by ``--strict``) ends the run
soon and cleanly: the reader stops, documents still waiting to be planned or
encoded are dropped (the re-run reads them again), and the unit being encoded
plus the encoded units are written. An error in any stage sets ``abort``:
every stage quits at once and the error is raised.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from xsearch.indexer.progress import Reporter, RunStats
from xsearch.indexer.rejects import Reject, RejectSink, StrictStop
from xsearch.indexer.shard import Shard
from xsearch.indexer.sources import InputPlan, ProgressBytes, SourceOptions, read_sources

from xsearch.errors import InputError
from xsearch.indexing import IndexingService, PlannedDoc

END = object()  # end of stream marker
FIRST_UNIT = 32  # passages in the first encoder call of a run (then doubling)
_POLL = 0.1  # seconds between checks of the abort flag while a queue is full/empty


@dataclass(slots=True)
class PipelineConfig:
    collection: str
    shard: Shard | None = None
    read_batch: int = 64  # documents per plan step (one document_state lookup)
    unit_passages: int = 512  # passages per encoder call (the encoder sorts them by length)
    queue_size: int = 4
    # Python's GIL switch interval during the run (None: leave it). Between two
    # onnxruntime batches the encoder thread needs the GIL; while the planner runs
    # pure-Python chunking and language detection, it gets it only when the
    # interval (5 ms by default) expires: up to 5 ms idle per ~50 ms batch.
    switch_interval: float | None = 0.0005
    # Niceness added to the reader, planner and writer threads (Linux: per
    # thread; 0 or None: unchanged). onnxruntime's threads meet at a barrier
    # after every operator, so a side stage that takes a core from one of them
    # for a time slice stalls both; at a lower priority the side stages run in
    # the gaps instead (bench.indexing --side-nice compares).
    side_nice: int | None = 10


class Aborted(Exception):
    """Raised inside a stage when another stage failed."""


class Stages:
    """What the local and the remote (``--api``) pipelines share: reading, bounded
    queues, stopping and aborting, rejects and progress."""

    def __init__(
        self,
        inputs: InputPlan,
        options: SourceOptions,
        config: PipelineConfig,
        rejects: RejectSink,
        reporter: Reporter,
        stop: threading.Event | None = None,
    ) -> None:
        self.inputs = inputs
        self.options = options
        self.config = config
        self.rejects = rejects
        self.reporter = reporter
        self.stop = stop or threading.Event()
        self.stats = RunStats(skipped_files=len(inputs.skipped))
        self.bytes = ProgressBytes()  # input bytes read
        self.done_bytes = 0  # input bytes whose documents are written or skipped
        self.strict_error: StrictStop | None = None
        self._abort = threading.Event()
        self._no_more = threading.Event()  # --strict: read nothing more, finish the rest
        self._errors: list[BaseException] = []

    def _run(
        self, threads: list[threading.Thread], main: Callable[..., None], *args: Any
    ) -> RunStats:
        """Start ``threads``, run ``main`` on this thread, and account for the end."""
        self.reporter.start(self.inputs.total_bytes)
        interval = sys.getswitchinterval()
        if self.config.switch_interval is not None:
            sys.setswitchinterval(min(interval, self.config.switch_interval))
        try:
            for t in threads:
                t.start()
            self._guard(main, *args)
        except BaseException as exc:  # KeyboardInterrupt on the second Ctrl-C
            self._fail(exc)
        finally:
            self._join(threads)
            sys.setswitchinterval(interval)
            self.stats.wall_seconds = self.stats.elapsed
            if not self._errors and not self.stop.is_set():
                self.done_bytes = self.bytes.value
            self.reporter.update(self.stats, self.done_bytes)
            self.reporter.stop()
        if self._errors:
            raise self._errors[0]
        self.stats.interrupted = self.stop.is_set() and self.strict_error is None
        if self.strict_error is not None:
            raise self.strict_error
        return self.stats

    def _join(self, threads: list[threading.Thread]) -> None:
        """Wait for the stages; a Ctrl-C meanwhile aborts them instead of leaving them running."""
        for t in threads:
            while t.is_alive():
                try:
                    t.join(0.5)
                except KeyboardInterrupt as exc:
                    self._fail(exc)

    def _guard(self, target: Callable[..., None], *args: Any) -> None:
        started = time.thread_time()  # this stage's own CPU (RunStats.stage_cpu)
        try:
            target(*args)
        except Aborted:
            pass
        except BaseException as exc:
            self._fail(exc)
        finally:
            self.stats.add_cpu(target.__name__.lstrip("_"), time.thread_time() - started)

    def _side(self, target: Callable[..., None], *args: Any) -> None:
        """A side stage's thread: at the configured lower priority, then guarded."""
        nice = self.config.side_nice
        if nice and sys.platform == "linux":  # elsewhere setpriority is per process
            try:
                tid = threading.get_native_id()
                os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + nice)
            except OSError:  # a sandbox without the syscall: run at the same priority
                pass
        self._guard(target, *args)

    def _fail(self, exc: BaseException) -> None:
        if not isinstance(exc, Aborted):
            self._errors.append(exc)
        self._abort.set()

    def _put(self, q: queue.Queue[Any], item: Any) -> None:
        while True:
            try:
                q.put(item, timeout=_POLL)
                return
            except queue.Full:
                if self._abort.is_set():
                    raise Aborted from None

    def _get(self, q: queue.Queue[Any]) -> Any:
        while True:
            try:
                return q.get(timeout=_POLL)
            except queue.Empty:
                if self._abort.is_set():
                    raise Aborted from None

    # --- stages ------------------------------------------------------------------------
    def _read(self, out: queue.Queue[Any]) -> None:
        shard, batch = self.config.shard, []
        for _file, record in read_sources(self.inputs, self.options, self.bytes):
            if self._abort.is_set():
                raise Aborted
            if self.stop.is_set() or self._no_more.is_set():
                break
            self.stats.add(read=1)
            if record.reject is not None:
                self._reject(record.reject)
                continue
            doc = record.doc
            assert doc is not None
            if shard is not None and not shard.holds(doc.id):
                self.stats.add(other_shard=1)
                continue
            # The tag keeps the place (for rejects) and the input bytes read so far
            # (progress counts input bytes whose documents are done, not just read).
            tag = (record.source, record.line, self.bytes.value)
            batch.append(PlannedDoc(doc, doc.content_hash(), tag=tag))
            if self._batch_full(batch):
                self._put(out, batch)
                batch = []
        if batch:
            self._put(out, batch)
        self._put(out, END)

    def _batch_full(self, batch: list[PlannedDoc]) -> bool:
        return len(batch) >= self.config.read_batch

    def _reject(self, reject: Reject) -> bool:
        """Count and record a reject; False when --strict says stop reading."""
        self.stats.add(rejected=1)
        try:
            self.rejects.add(reject)
        except StrictStop as stop:
            # Not self.stop: what was read before the bad record is still written,
            # so the run ends exactly at the first reject.
            if self.strict_error is None:
                self.strict_error = stop
            self._no_more.set()
            return False
        return True

    def _progress(self, done: list[PlannedDoc]) -> None:
        if done:
            self.done_bytes = max(self.done_bytes, max(item.tag[2] for item in done))
        self.reporter.update(self.stats, self.done_bytes)


class Pipeline(Stages):
    """The local pipeline: plan, chunk, encode and write with an IndexingService."""

    def __init__(
        self,
        service: IndexingService,
        inputs: InputPlan,
        options: SourceOptions,
        config: PipelineConfig,
        rejects: RejectSink,
        reporter: Reporter,
        stop: threading.Event | None = None,
    ) -> None:
        super().__init__(inputs, options, config, rejects, reporter, stop)
        self.service = service
        # Documents planned but not yet written: doc id -> (hash, passages, item).
        self._pending: dict[str, tuple[str, int, PlannedDoc]] = {}
        self._pending_lock = threading.Lock()

    # --- running -----------------------------------------------------------------------
    def run(self) -> RunStats:
        """Index everything; raises the first stage error (StoreLocked, StrictStop, ...)."""
        # On this thread, before any other starts: a locked store or a bundle
        # mismatch is reported as one clear error, not from inside a worker.
        self.service.prepare_collection(self.config.collection)
        self.service.store.count(self.config.collection)  # opens the shard: StoreLocked here
        size = self.config.queue_size
        to_plan: queue.Queue[Any] = queue.Queue(maxsize=size * 2)
        to_encode: queue.Queue[Any] = queue.Queue(maxsize=2)
        to_write: queue.Queue[Any] = queue.Queue(maxsize=2)
        threads = [
            threading.Thread(target=self._side, args=(self._read, to_plan), name="xs-read"),
            threading.Thread(
                target=self._side, args=(self._plan, to_plan, to_encode), name="xs-plan"
            ),
            threading.Thread(target=self._side, args=(self._write, to_write), name="xs-write"),
        ]
        return self._run(threads, self._encode, to_encode, to_write)

    def _plan(self, inp: queue.Queue[Any], out: queue.Queue[Any]) -> None:
        unit: list[PlannedDoc] = []
        unit_passages = 0
        # The first units are small (FIRST_UNIT passages, doubling up to unit_passages):
        # the encoder starts as soon as a few documents are chunked instead of idling
        # while the first full unit is planned (issue 14: the encoder never waits).
        target = min(FIRST_UNIT, self.config.unit_passages)
        halted = False  # --strict and a document failed chunking: nothing after it
        while (batch := self._get(inp)) is not END:
            if self.stop.is_set() or halted:
                continue  # stopping: read but not yet planned documents wait for the re-run
            started = time.perf_counter()
            with self._pending_lock:
                pending = {
                    d.doc.id: self._pending[d.doc.id][:2]
                    for d in batch
                    if d.doc.id in self._pending
                }
            plan = self.service.plan(self.config.collection, batch, pending=pending)
            self.stats.add(unchanged=len(plan.unchanged), duplicates=len(plan.superseded))
            ready: list[PlannedDoc] = []
            for item in plan.write:
                try:
                    self.service.chunk(item)
                except InputError as err:
                    source, line, _ = item.tag
                    if not self._reject(Reject(source, line, str(err), doc_id=item.doc.id)):
                        halted = True
                        break
                    continue
                ready.append(item)
            with self._pending_lock:
                for item in ready:
                    self._pending[item.doc.id] = (item.content_hash, len(item.passages), item)
            self.stats.add(plan_seconds=time.perf_counter() - started)
            for item in ready:
                unit.append(item)
                unit_passages += len(item.passages)
                if unit_passages >= target:
                    self._put(out, unit)
                    unit, unit_passages = [], 0
                    target = min(target * 2, self.config.unit_passages)
            self._progress(plan.unchanged)
        if unit and not self.stop.is_set():
            self._put(out, unit)
        self._put(out, END)

    def _encode(self, inp: queue.Queue[Any], out: queue.Queue[Any]) -> None:
        while (unit := self._get(inp)) is not END:
            if self.stop.is_set():
                continue  # stopping: only the unit being encoded and those encoded are written
            seconds, truncated = self.service.encode(unit)
            self.stats.add(encode_seconds=seconds, truncated=truncated)
            self._put(out, unit)
        self._put(out, END)

    def _write(self, inp: queue.Queue[Any]) -> None:
        while (unit := self._get(inp)) is not END:
            written = self.service.write(self.config.collection, unit)
            self.stats.add(
                indexed=len(unit),
                passages=written.points,
                orphans=written.orphans,
                store_seconds=written.seconds,
            )
            with self._pending_lock:
                for item in unit:
                    entry = self._pending.get(item.doc.id)
                    if entry is not None and entry[2] is item:  # not re-planned since
                        del self._pending[item.doc.id]
            self._progress(unit)


def maybe_optimize(
    service: IndexingService,
    collection: str,
    stats: RunStats,
    *,
    announce: Callable[[], None] | None = None,
) -> bool:
    """Build the search index after a bulk load (Settings.optimize_threshold).

    Runs when this run wrote more points than the threshold, or when the
    collection is above it and has no index yet; a few documents added to a big
    indexed collection do not trigger a rebuild.
    """
    threshold = service.settings.optimize_threshold
    if stats.passages == 0 or stats.interrupted:
        return False
    if stats.passages <= threshold:
        info = service.store.stats(collection)
        if info.points <= threshold or info.indexed:
            return False
    if announce is not None:
        announce()
    started = time.perf_counter()
    service.store.optimize(collection)
    stats.optimize_seconds = time.perf_counter() - started
    return True
