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

import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from xsearch.documents import Document, Passage, point_id
from xsearch.errors import CollectionNotFound, InputError
from xsearch.schemas import DocResult
from xsearch.settings import Settings

if TYPE_CHECKING:
    from xsearch.encoder import Encoder
    from xsearch.store.base import PointRecord, Store

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


class IndexingService:
    def __init__(self, encoder: Encoder, store: Store, settings: Settings) -> None:
        self.encoder = encoder
        self.store = store
        self.settings = settings
        self._lock = threading.Lock()
        from xsearch.ranking.maintain import RankingData

        # centred + lexical vectors and per-language means (issue 7)
        self.ranking = RankingData(store, encoder.dimension)

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
    def chunk(self, item: PlannedDoc) -> None:
        """Fill ``item.passages``; raises InputError when the document yields none."""
        from xsearch.text import document_passages

        enc = self.encoder
        item.passages = document_passages(
            item.doc,
            count_tokens=lambda text: enc.count_tokens(text, "passage"),
            max_tokens=enc.max_seq_length,
        )
        if not item.passages:
            raise InputError(
                f"document {item.doc.id!r} has no text to index", fix="give it some text"
            )

    # --- stage 3: vectors ----------------------------------------------------------------
    def encode(self, items: Sequence[PlannedDoc]) -> tuple[float, int]:
        """Encode every passage of ``items`` in one call (the encoder sorts by length
        and cuts batches by its token budget); returns (encoder seconds, truncated)."""
        texts = [p.encode_text for item in items for p in item.passages]
        if not texts:
            return 0.0, 0
        vectors, stats = self.encoder.encode_with_stats(texts, "passage")
        start = 0
        for item in items:
            n = len(item.passages)
            item.vectors = vectors[start : start + n]
            start += n
        return stats.seconds, stats.truncated

    # --- stage 4: points -------------------------------------------------------------------
    def write(self, collection: str, items: Sequence[PlannedDoc]) -> WriteStats:
        """Write the points of encoded documents, in the crash-safe order:

        1. every passage except passage 0;
        2. delete passages left over from a longer stored version (orphans);
        3. passage 0, which carries content_hash and n_passages.
        Until step 3 a document still looks changed (or absent) to ``plan``.
        """
        started = time.perf_counter()
        out = WriteStats()
        rest: list[PointRecord] = []
        firsts: list[PointRecord] = []
        orphans: list[str] = []
        replaced: list[str] = []
        for item in items:
            points = self.points(item)
            self.ranking.decorate(collection, points, [p.encode_text for p in item.passages])
            firsts.append(points[0])
            rest.extend(points[1:])
            n = len(points)
            orphans.extend(point_id(item.doc.id, i) for i in range(n, item.old_passages))
            replaced.extend(point_id(item.doc.id, i) for i in range(item.old_passages))
        # the old versions leave the language means before their points are overwritten
        self.ranking.forget(collection, replaced)
        self._upsert(collection, rest)
        for lo in range(0, len(orphans), WRITE_CHUNK):
            self.store.delete_points(collection, orphans[lo : lo + WRITE_CHUNK])
        self._upsert(collection, firsts)
        self.ranking.added(collection, rest + firsts)
        out.points = len(rest) + len(firsts)
        out.orphans = len(orphans)
        out.seconds = time.perf_counter() - started
        return out

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
    def index_documents(self, collection: str, docs: Sequence[Document]) -> list[DocResult]:
        """Index ``docs`` and return one result per input document, in input order."""
        self.prepare_collection(collection)
        items = self.planned(docs)
        plan = self.plan(collection, items)
        results: dict[int, DocResult] = {}
        for item in plan.unchanged:
            results[id(item)] = DocResult(
                id=item.doc.id, status="unchanged", passages=item.old_passages, lang=item.doc.lang
            )
        for item in plan.superseded:
            results[id(item)] = DocResult(
                id=item.doc.id,
                status="rejected",
                reason="duplicate id in this request: the last document with this id is the "
                "one indexed",
            )
        ok: list[PlannedDoc] = []
        for item in plan.write:
            try:
                self.chunk(item)
            except InputError as err:
                results[id(item)] = DocResult(id=item.doc.id, status="rejected", reason=str(err))
                continue
            ok.append(item)
        self.encode(ok)
        self.write(collection, ok)
        for item in ok:
            results[id(item)] = DocResult(
                id=item.doc.id, status="indexed", passages=len(item.passages), lang=item.lang
            )
        return [results[id(item)] for item in items]

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
        """Delete every passage of these documents; returns the number of points removed."""
        ids = [str(i) for i in ids]
        state = self.store.document_state(collection, ids)
        self.ranking.forget(
            collection, [point_id(d, i) for d, (_h, n) in state.items() for i in range(n)]
        )
        return self.store.delete_documents(collection, ids)
