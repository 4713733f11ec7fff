"""``--api URL``: the same reader, but batches go to a running xsearch API.

Up to ``in_flight`` requests run at once (through one ``xsearch.Client``; any
``SearchEngine`` works), so reading and the server's encoding overlap; the
queue in front of them is bounded like the local one.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from xsearch.indexer.pipeline import END, Aborted, PipelineConfig, Stages
from xsearch.indexer.progress import Reporter, RunStats
from xsearch.indexer.rejects import Reject, RejectSink
from xsearch.indexer.sources import InputPlan, SourceOptions

from xsearch.documents import Document
from xsearch.indexing import PlannedDoc
from xsearch.library import SearchEngine, document_payload
from xsearch.schemas import DocResult


def json_size(doc: Document) -> int:
    """Bytes the document takes in a request body (for batching under the body limit)."""
    return len(json.dumps(document_payload(doc), ensure_ascii=False).encode("utf-8")) + 2


class RemotePipeline(Stages):
    def __init__(
        self,
        client: SearchEngine,
        inputs: InputPlan,
        options: SourceOptions,
        config: PipelineConfig,
        rejects: RejectSink,
        reporter: Reporter,
        stop: threading.Event | None = None,
        *,
        batch_docs: int = 256,
        batch_bytes: int = 16 * 1024 * 1024,
        in_flight: int = 2,
    ) -> None:
        super().__init__(inputs, options, config, rejects, reporter, stop)
        self.client = client
        self.batch_docs = batch_docs
        self.batch_bytes = batch_bytes
        self.in_flight = in_flight
        self._batch_size = 0

    def _batch_full(self, batch: list[PlannedDoc]) -> bool:
        self._batch_size += json_size(batch[-1].doc)
        if len(batch) >= self.batch_docs or self._batch_size >= self.batch_bytes:
            self._batch_size = 0
            return True
        return False

    def run(self) -> RunStats:
        batches: queue.Queue[Any] = queue.Queue(maxsize=self.in_flight * 2)
        reader = threading.Thread(target=self._guard, args=(self._read, batches), name="xs-read")
        return self._run([reader], self._send_all, batches)

    def _send_all(self, batches: queue.Queue[Any]) -> None:
        running: set[Future[tuple[list[PlannedDoc], list[DocResult], float]]] = set()
        with ThreadPoolExecutor(self.in_flight, thread_name_prefix="xs-api") as pool:
            while (batch := self._get(batches)) is not END:
                if len(running) >= self.in_flight:
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    for fut in done:
                        self._account(*fut.result())
                running.add(pool.submit(self._send, batch))
            for fut in running:
                self._account(*fut.result())

    def _send(self, batch: list[PlannedDoc]) -> tuple[list[PlannedDoc], list[DocResult], float]:
        if self._abort.is_set():
            raise Aborted
        started = time.perf_counter()
        resp = self.client.add([item.doc for item in batch], collection=self.config.collection)
        return batch, resp.results, time.perf_counter() - started

    def _account(self, batch: list[PlannedDoc], results: list[DocResult], seconds: float) -> None:
        self.stats.add(api_seconds=seconds)
        for item, result in zip(batch, results, strict=True):
            if result.status == "indexed":
                self.stats.add(indexed=1, passages=result.passages)
            elif result.status == "unchanged":
                self.stats.add(unchanged=1)
            else:
                source, line, _ = item.tag
                reason = f"refused by the API: {result.reason}"
                self._reject(Reject(source, line, reason, doc_id=item.doc.id))
        self._progress(batch)
