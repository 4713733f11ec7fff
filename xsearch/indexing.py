"""The indexing service: documents in, Qdrant points out.

One path for every writer (``xsearch add``, the bulk indexer, the API):
plan (skip unchanged documents by content hash) -> passages (chunking and
language per passage) -> vectors (the encoder) -> points (the store).
The stages are public so the bulk pipeline can run them on separate threads.

Crash safety rests on three rules (see :meth:`IndexingService.write`):
point ids are deterministic (UUID5 of document id and passage number); the
passage-0 point, which carries the document's ``content_hash`` and
``n_passages``, is written after every other passage of the document; and the
extra passages of a document that got shorter are deleted before that. So a
document cut off mid-write still looks "changed" and is rewritten whole by the
next run, and a run killed at any moment then re-run equals a clean run.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from xsearch.documents import Document, Passage, point_id
from xsearch.errors import (
    CollectionNotFound,
    InputError,
    LimitExceeded,
    StoreError,
    WriteDeadline,
    XSearchError,
)
from xsearch.schemas import DocResult
from xsearch.settings import Settings

if TYPE_CHECKING:
    from xsearch.encoder import Encoder
    from xsearch.ranking.maintain import RankingData
    from xsearch.store.base import PointRecord, ScoredPoint, Store
    from xsearch.text.chunk_pool import ChunkPool

# Points per store call: keeps a server request well under its body limit.
WRITE_CHUNK = 256


@dataclass(slots=True, eq=False)
class PlannedDoc:
    """A document on its way through the stages."""

    doc: Document
    content_hash: str
    old_passages: int = 0  # n_passages of the stored version (0: not stored)
    passages: list[Passage] = field(default_factory=list)
    vectors: np.ndarray | None = None
    tag: Any = None  # the caller's handle (e.g. file and line), passed through untouched

    @property
    def lang(self) -> str:
        """Document language: given, else the language of most of its text."""
        if self.doc.lang:
            return self.doc.lang
        weight: Counter[str] = Counter()
        for p in self.passages:
            weight[p.lang] += len(p.text)
        return weight.most_common(1)[0][0] if weight else "und"


@dataclass(slots=True)
class Plan:
    write: list[PlannedDoc] = field(default_factory=list)  # new or changed
    unchanged: list[PlannedDoc] = field(default_factory=list)  # same content hash: skipped
    superseded: list[PlannedDoc] = field(default_factory=list)  # a later doc has the same id


@dataclass(slots=True)
class WriteStats:
    points: int = 0  # passages written
    orphans: int = 0  # old passages deleted because the document got shorter
    seconds: float = 0.0


@dataclass(slots=True)
class PreparedBatch:
    """A write's documents after ``IndexingService.prepare``, before ``commit``."""

    items: list[PlannedDoc]  # every input document, in input order
    ready: list[PlannedDoc] = field(default_factory=list)  # chunked; to encode, then write
    later: list[PlannedDoc] = field(default_factory=list)  # unchanged when prepared
    results: dict[int, DocResult] = field(default_factory=dict)  # id(item) -> settled result


def passage_texts(items: Sequence[PlannedDoc]) -> list[str]:
    """The encoder input of ``items``' passages, in order (see ``attach_vectors``)."""
    return [p.encode_text for item in items for p in item.passages]


def attach_vectors(items: Sequence[PlannedDoc], vectors: np.ndarray) -> None:
    """Hand out the vectors of ``passage_texts(items)`` to their documents."""
    start = 0
    for item in items:
        n = len(item.passages)
        item.vectors = vectors[start : start + n]
        start += n
    if start != len(vectors):
        raise RuntimeError(f"{len(vectors)} vectors for {start} passages")  # a bug, not input


class IndexingService:
    """``encoder`` may be a loader (called once, on first use): deleting and reading
    need only the store and the statistics, so ``xsearch delete`` loads no model."""

    def __init__(
        self, encoder: Encoder | Callable[[], Encoder], store: Store, settings: Settings
    ) -> None:
        self._encoder: Encoder | None = None
        self._load_encoder: Callable[[], Encoder] | None = None
        if callable(encoder) and not hasattr(encoder, "encode_with_stats"):
            self._load_encoder = encoder
        else:
            self._encoder = encoder  # type: ignore[assignment]
        self.store = store
        self.settings = settings
        self._lock = threading.Lock()
        self._encoder_lock = threading.Lock()  # not _lock: prepare_collection holds it
        self._ranking: RankingData | None = None
        # Large documents are chunked in worker processes when set (the API
        # server sets one; see xsearch.text.chunk_pool); in this thread otherwise.
        self.chunk_pool: ChunkPool | None = None

    @property
    def encoder(self) -> Encoder:
        with self._encoder_lock:
            if self._encoder is None:
                assert self._load_encoder is not None
                self._encoder = self._load_encoder()
            return self._encoder

    @property
    def ranking(self) -> RankingData:
        """Centred + lexical vectors and per-language means (issue 7), on this encoder."""
        if self._ranking is None:
            from xsearch.ranking.maintain import RankingData

            dimension = self.encoder.dimension
            with self._encoder_lock:  # one RankingData (and its lock) per service
                if self._ranking is None:
                    self._ranking = RankingData(
                        self.store, dimension, defer_save=self.settings.stats_save_s > 0
                    )
        return self._ranking

    def _ranking_of(self, collection: str) -> RankingData:
        """The statistics of ``collection`` without loading the encoder: the
        dimension comes from the collection's metadata (a delete needs no model)."""
        if self._ranking is not None or self._encoder is not None:
            return self.ranking
        from xsearch.ranking.maintain import RankingData

        return RankingData(self.store, int(self.store.get_meta(collection)["dimension"]))

    # --- collection ----------------------------------------------------------------
    def prepare_collection(self, collection: str) -> None:
        """Create the collection with this encoder's bundle, or check it was built with it.

        Checked on every call (a metadata read), not cached: a collection deleted
        while a long-lived service runs is then simply created again.
        """
        from xsearch.store.base import CollectionSpec

        with self._lock:
            enc = self.encoder
            try:
                self.store.ensure_compatible(collection, enc.fingerprint, enc.name)
            except CollectionNotFound:
                spec = CollectionSpec(collection, enc.dimension, enc.fingerprint, enc.name)
                self.store.create_collection(spec)  # idempotent if another writer won the race

    def _collection_ready(self, collection: str) -> bool:
        """True if the collection exists and was built with this encoder's bundle
        (ConflictError if not); False if it does not exist yet. Creates nothing."""
        enc = self.encoder
        try:
            self.store.ensure_compatible(collection, enc.fingerprint, enc.name)
        except CollectionNotFound:
            return False
        return True

    # --- stage 1: plan ---------------------------------------------------------------
    def plan(
        self,
        collection: str,
        docs: Sequence[PlannedDoc],
        *,
        pending: Mapping[str, tuple[str, int]] | None = None,
    ) -> Plan:
        """Split documents into new/changed (to write) and unchanged (skipped).

        ``pending``: state of documents planned but maybe not yet written by
        this process (the bulk pipeline), consulted before the store so a
        repeated id in one run is compared with its latest version.
        """
        plan = Plan()
        last: dict[str, PlannedDoc] = {}
        for item in docs:
            if item.doc.id in last:
                plan.superseded.append(last[item.doc.id])
            last[item.doc.id] = item
        pending = pending or {}
        ask = [d for d in last if d not in pending]
        state = dict(self.store.document_state(collection, ask)) if ask else {}
        for doc_id, item in last.items():
            stored_hash, stored_n = pending.get(doc_id) or state.get(doc_id) or ("", 0)
            item.old_passages = stored_n
            if stored_hash == item.content_hash and stored_n > 0:
                plan.unchanged.append(item)
            else:
                plan.write.append(item)
        return plan

    @staticmethod
    def planned(docs: Sequence[Document], tags: Sequence[Any] | None = None) -> list[PlannedDoc]:
        tags = tags if tags is not None else [None] * len(docs)
        return [PlannedDoc(d, d.content_hash(), tag=t) for d, t in zip(docs, tags, strict=True)]

    # --- stage 2: passages -------------------------------------------------------------
    def chunk(self, item: PlannedDoc, *, deadline: float | None = None) -> None:
        """Fill ``item.passages``; raises InputError when the document yields none.

        ``deadline`` (monotonic): checked at every tokenizer call, so a huge
        document stops chunking there (WriteDeadline) instead of running on.
        """
        from xsearch.text import document_passages
        from xsearch.text.chunk_pool import DeadlineTokens
        from xsearch.text.chunking import TooManyPassages

        enc = self.encoder
        limit = self.settings.max_passages_per_doc
        budget_s = self.settings.write_deadline_s
        pool = self.chunk_pool
        try:
            # the chunker stops as soon as the document is certainly over the limit
            # (before chunking the rest and before language detection)
            if pool is not None and pool.wants(item.doc):
                # a large document: chunked in a worker process, so its seconds of
                # GIL-holding work do not stall this process's other writers
                item.passages = pool.document_passages(
                    item.doc, max_passages=limit, deadline=deadline, budget_s=budget_s
                )
            else:
                count = partial(enc.count_tokens, kind="passage")
                item.passages = document_passages(
                    item.doc,
                    count_tokens=DeadlineTokens(count, enc.token_offsets, deadline, budget_s),
                    max_tokens=enc.max_seq_length,
                    max_passages=limit,
                )
        except TooManyPassages as err:
            item.passages = []
            raise LimitExceeded(
                f"document {item.doc.id!r} makes at least {err.at_least:,} passages, over "
                f"the limit of {limit:,} per document",
                fix="split it into smaller documents, or raise XSEARCH_MAX_PASSAGES_PER_DOC",
            ) from None
        if not item.passages:
            raise InputError(
                f"document {item.doc.id!r} has no text to index", fix="give it some text"
            )

    # --- stage 3: vectors ----------------------------------------------------------------
    def encode(self, items: Sequence[PlannedDoc]) -> tuple[float, int]:
        """Encode every passage of ``items`` in one call (the encoder sorts by length
        and cuts batches by its token budget); returns (encoder seconds, truncated)."""
        texts = passage_texts(items)
        if not texts:
            return 0.0, 0
        vectors, stats = self.encoder.encode_with_stats(texts, "passage")
        attach_vectors(items, vectors)
        return stats.seconds, stats.truncated

    # --- stage 4: points -------------------------------------------------------------------
    def write(self, collection: str, items: Sequence[PlannedDoc]) -> WriteStats:
        """Write the points of encoded documents, all or nothing per document.

        Order (crash safety, see the module docstring):
        1. every passage except passage 0;
        2. delete passages left over from a longer stored version (orphans);
        3. passage 0, which carries content_hash and n_passages;
        4. the language statistics: old vectors out, new ones in, one metadata write.
        Until step 3 a document still looks changed (or absent) to ``plan``.

        If any step fails (a store error, a full disk), every document of the call
        is rolled back to its previous version (the old points were read before
        step 1) and the error is raised: documents, points and statistics agree.
        Use :meth:`write_each` to keep the documents that can be written.
        """
        started = time.perf_counter()
        out = WriteStats()
        prepared = [(item, self._prepared_points(collection, item)) for item in items]
        rest = [p for _, points in prepared for p in points[1:]]
        firsts = [points[0] for _, points in prepared]
        orphans = [
            point_id(item.doc.id, i)
            for item, points in prepared
            for i in range(len(points), item.old_passages)
        ]
        replaced = [point_id(item.doc.id, i) for item in items for i in range(item.old_passages)]
        # the old versions, vectors included: what statistics lose and what a rollback restores
        before = self.store.retrieve(collection, replaced, with_vectors=True) if replaced else []
        try:
            self._upsert(collection, rest)
            for lo in range(0, len(orphans), WRITE_CHUNK):
                self.store.delete_points(collection, orphans[lo : lo + WRITE_CHUNK])
            self._upsert(collection, firsts)
            stale = self.ranking.replace(collection, before, rest + firsts)
        except BaseException as err:  # Ctrl-C too: roll back, then let it through
            self._roll_back(collection, [p for _, points in prepared for p in points], before, err)
            if isinstance(err, XSearchError) or not isinstance(err, Exception):
                raise
            # the bindings raise bare exceptions (a full disk, an I/O error)
            raise StoreError(
                f"writing to collection {collection!r} failed: {err}; the documents of this "
                "write were put back as they were",
                fix="check the disk (space, permissions) and retry",
            ) from err
        # Outside the rollback: counts and points agree already; a failure here only
        # leaves some centred vectors on the old centre (`xsearch recenter` redoes them).
        self.ranking.rewrite(collection, stale)
        out.points = len(rest) + len(firsts)
        out.orphans = len(orphans)
        out.seconds = time.perf_counter() - started
        return out

    def write_each(
        self, collection: str, items: Sequence[PlannedDoc]
    ) -> tuple[list[PlannedDoc], list[tuple[PlannedDoc, XSearchError]]]:
        """Write ``items``; when the batch fails, each document alone (rolled back if it fails).

        Returns (written, [(failed, error)]). A failed document is as it was before.
        """
        try:
            self.write(collection, items)
            return list(items), []
        except XSearchError as err:
            if len(items) == 1:
                return [], [(items[0], err)]
        written: list[PlannedDoc] = []
        failed: list[tuple[PlannedDoc, XSearchError]] = []
        for item in items:
            try:
                self.write(collection, [item])
            except XSearchError as err:
                failed.append((item, err))
            else:
                written.append(item)
        return written, failed

    def _prepared_points(self, collection: str, item: PlannedDoc) -> list[PointRecord]:
        """The document's points, decorated, with a payload the store will take.

        Checked before anything is written, so bad input fails alone and early.
        """
        _check_storable(item)
        points = self.points(item)
        self.ranking.decorate(collection, points, [p.encode_text for p in item.passages])
        return points

    def _roll_back(
        self,
        collection: str,
        written: Sequence[PointRecord],
        before: Sequence[ScoredPoint],
        cause: BaseException,
    ) -> None:
        """Put the documents of a failed write back as they were (statistics untouched)."""
        from xsearch.store.base import PointRecord

        old_ids = {str(p.id) for p in before}
        new_only = [str(p.id) for p in written if str(p.id) not in old_ids]
        old = [
            PointRecord(str(p.id), dict(p.vectors or {}), p.payload, dict(p.sparse or {}))
            for p in before
        ]
        try:
            for lo in range(0, len(new_only), WRITE_CHUNK):
                self.store.delete_points(collection, new_only[lo : lo + WRITE_CHUNK])
            self._upsert(collection, old)
        except Exception as err:
            raise StoreError(
                f"a write to collection {collection!r} failed ({cause}) and so did putting "
                f"the documents back ({err})",
                fix=f"free the disk or fix the store, then run `xsearch check -c {collection} "
                "--repair` (or re-index those documents)",
            ) from err

    def _upsert(self, collection: str, points: Sequence[PointRecord]) -> None:
        for lo in range(0, len(points), WRITE_CHUNK):
            self.store.upsert(collection, points[lo : lo + WRITE_CHUNK])

    def points(self, item: PlannedDoc) -> list[PointRecord]:
        """The Qdrant points of one encoded document (payload per interfaces.md)."""
        from xsearch.store.base import DENSE, PointRecord

        if item.vectors is None or len(item.vectors) != len(item.passages):
            raise RuntimeError(f"document {item.doc.id!r} was not encoded")  # a bug, not input
        doc, n = item.doc, len(item.passages)
        out = []
        for passage, vector in zip(item.passages, item.vectors, strict=True):
            payload = {
                "doc_id": doc.id,
                "passage": passage.number,
                "n_passages": n,
                "lang": passage.lang,
                "lang_conf": round(float(passage.lang_confidence), 4),
                "title": doc.title,
                "url": doc.url,
                "text": passage.text,
                "start": passage.start,
                "end": passage.end,
                "meta": dict(doc.metadata),
                "content_hash": item.content_hash,
            }
            out.append(PointRecord(passage.point_id, {DENSE: vector}, payload))
        return out

    # --- all stages, for a few documents (API, `xsearch add`) ------------------------------
    def index_documents(
        self, collection: str, docs: Sequence[Document], *, deadline: float | None = None
    ) -> list[DocResult]:
        """Index ``docs`` and return one result per input document, in input order.

        All or nothing per document: a document is indexed whole, or rejected
        (bad input, found before anything is written) or failed (its write
        failed and was rolled back). ``deadline`` (``time.monotonic()`` value):
        past it, before the write, nothing is written and WriteDeadline is raised.
        A document over ``max_passages_per_doc`` refuses the whole call
        (LimitExceeded), before anything is written.

        The same three steps as the API, which runs ``prepare`` and the encoding
        outside its per-collection lock and only ``commit`` inside it.
        """
        batch = self.prepare(collection, docs, deadline=deadline)
        self.encode(batch.ready)
        return self.commit(collection, batch, deadline=deadline)

    def prepare(
        self, collection: str, docs: Sequence[Document], *, deadline: float | None = None
    ) -> PreparedBatch:
        """The pure work of a write, safe to run beside other writers of the collection:
        a first plan against the stored state, chunking and language detection of
        the new or changed documents, and the payload checks. Writes nothing,
        creates nothing (``commit`` creates the collection). Encode ``batch.ready`` next
        (``encode`` or any encoder call over ``passage_texts``), then ``commit``.
        """
        # Nothing is created here (see ``commit``): a refused request leaves no empty
        # collection.
        exists = self._collection_ready(collection)
        items = self.planned(docs)
        # a collection not there yet holds no document: plan every one as new
        fresh = None if exists else {item.doc.id: ("", 0) for item in items}
        plan = self.plan(collection, items, pending=fresh)
        batch = PreparedBatch(items)
        for item in plan.unchanged:
            batch.later.append(item)
        for item in plan.superseded:
            batch.results[id(item)] = DocResult(
                id=item.doc.id,
                status="rejected",
                reason="duplicate id in this request: the last document with this id is the "
                "one indexed",
            )
        for item in plan.write:
            _check_deadline(deadline, collection)
            if (refused := self._chunk_or_reason(item, deadline)) is not None:
                status, reason = refused
                batch.results[id(item)] = DocResult(id=item.doc.id, status=status, reason=reason)
                continue
            batch.ready.append(item)
        return batch

    def commit(
        self, collection: str, batch: PreparedBatch, *, deadline: float | None = None
    ) -> list[DocResult]:
        """The read-compare-write of a prepared, encoded batch: the one step that must
        not interleave with another write to the collection (callers serialise it).

        Plans again against the state now stored, so a document another writer
        stored meanwhile is compared with that version (and its passage count is
        what orphans and rollbacks use). A document that was unchanged at
        ``prepare`` but has changed since is chunked and encoded here (rare).
        """
        results = batch.results
        candidates = batch.ready + batch.later
        # Created only here, right before the first write: a request refused or
        # abandoned before (over a limit, past its deadline while chunking or
        # encoding) leaves no empty collection behind.
        exists = self._collection_ready(collection)
        fresh = None if exists else {item.doc.id: ("", 0) for item in candidates}
        plan = self.plan(collection, candidates, pending=fresh)
        for item in plan.unchanged:
            results[id(item)] = DocResult(
                id=item.doc.id, status="unchanged", passages=item.old_passages, lang=item.doc.lang
            )
        late: list[PlannedDoc] = []  # changed since prepare saw them unchanged
        ready: list[PlannedDoc] = []
        for item in plan.write:
            if item.vectors is None:
                if (refused := self._chunk_or_reason(item, deadline)) is not None:
                    status, reason = refused
                    results[id(item)] = DocResult(id=item.doc.id, status=status, reason=reason)
                    continue
                late.append(item)
            ready.append(item)
        self.encode(late)
        _check_deadline(deadline, collection)
        if not exists and ready:
            self.prepare_collection(collection)
        written, failed = self.write_each(collection, ready)
        for item in written:
            results[id(item)] = DocResult(
                id=item.doc.id, status="indexed", passages=len(item.passages), lang=item.lang
            )
        for item, err in failed:
            results[id(item)] = DocResult(
                id=item.doc.id,
                status="rejected" if isinstance(err, InputError) else "failed",
                reason=str(err),
            )
        return [results[id(item)] for item in batch.items]

    def _chunk_or_reason(
        self, item: PlannedDoc, deadline: float | None
    ) -> tuple[Literal["rejected", "failed"], str] | None:
        """Chunk one document and check its payload; None, or the status and reason
        of its refusal: "rejected" (its input) or "failed" (its chunking worker died).

        LimitExceeded (a document over the passage limit) refuses the whole call.
        """
        from xsearch.errors import ChunkWorkerCrashed

        try:
            self.chunk(item, deadline=deadline)
            _check_storable(item)  # bad payloads fail here, alone, before any write
        except LimitExceeded:
            raise
        except InputError as err:
            return "rejected", str(err)
        except ChunkWorkerCrashed as err:
            return "failed", str(err)
        return None

    # --- reading and deleting ------------------------------------------------------------
    def get_document(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        """A stored document rebuilt from its passages, or None.

        ``text`` puts every passage at its offsets; whitespace between passages
        (not stored) comes back as spaces, so offsets stay valid.
        """
        first = self.store.retrieve(collection, [point_id(doc_id, 0)])
        if not first:
            return None
        head = first[0].payload
        n = int(head.get("n_passages", 1))
        ids = [point_id(doc_id, i) for i in range(1, n)]
        found = {int(p.payload["passage"]): p.payload for p in self.store.retrieve(collection, ids)}
        found[0] = head
        passages = [found[i] for i in sorted(found)]
        size = max(int(p["end"]) for p in passages)
        chars = [" "] * size
        for p in passages:
            chars[int(p["start"]) : int(p["end"])] = p["text"]
        langs: Counter[str] = Counter()
        for p in passages:
            langs[p["lang"]] += len(p["text"])
        return {
            "id": doc_id,
            "title": head.get("title"),
            "url": head.get("url"),
            "lang": langs.most_common(1)[0][0],
            "metadata": head.get("meta") or {},
            "content_hash": head.get("content_hash"),
            "n_passages": n,
            "complete": len(passages) == n,
            "text": "".join(chars),
            "passages": [
                {k: p[k] for k in ("passage", "lang", "lang_conf", "start", "end", "text")}
                for p in passages
            ],
        }

    def delete_documents(self, collection: str, ids: Sequence[str]) -> int:
        """Delete every passage of these documents; returns the number of points removed.

        The one delete path (API and CLI): the language statistics lose exactly
        the deleted points, in one metadata write after the points are gone; if
        that write fails the points are put back.
        """
        ids = list(dict.fromkeys(str(i) for i in ids))
        if not ids:
            return 0
        from xsearch.store.base import PointRecord, SearchFilter

        flt = SearchFilter(doc_ids=ids)
        # every point of these documents, orphans included (not only passages 0..n-1)
        old = list(self.store.scroll(collection, with_vectors=True, flt=flt))
        ranking = self._ranking_of(collection)
        removed = self.store.delete_documents(collection, ids)
        try:
            stale = ranking.replace(collection, old, [])
        except BaseException as err:
            restore = [
                PointRecord(str(p.id), dict(p.vectors or {}), p.payload, dict(p.sparse or {}))
                for p in old
            ]
            self._upsert(collection, restore)
            if isinstance(err, XSearchError) or not isinstance(err, Exception):
                raise
            raise StoreError(
                f"deleting from collection {collection!r} failed: {err}; the documents "
                "were put back",
                fix="check the disk (space, permissions) and retry",
            ) from err
        ranking.rewrite(collection, stale)
        return removed


def _check_storable(item: PlannedDoc) -> None:
    """InputError unless the document's own payload fields serialise as strict JSON
    (the store would fail on NaN or infinity half-way through a write)."""
    doc = item.doc
    try:
        json.dumps([doc.id, doc.title, doc.url, dict(doc.metadata)], allow_nan=False)
    except (TypeError, ValueError) as err:
        raise InputError(
            f"document {doc.id!r} cannot be stored: {err}",
            fix="metadata values must be strings, finite numbers or booleans",
        ) from None


def _check_deadline(deadline: float | None, collection: str) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise WriteDeadline(
            f"the write to collection {collection!r} ran past its deadline; nothing of it "
            "was stored",
            fix="send fewer or smaller documents per request, or raise XSEARCH_WRITE_DEADLINE_S",
        )
