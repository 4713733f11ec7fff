"""``xsearch.Engine``: index and search in-process (the library's entry point).

The CLI, the API (in its lifespan) and programs build one Engine and keep it.
The encoder and the store open on first use (commands that only read the store
load no model); the services (``searcher``, ``indexer``) are built once per engine, so
their locks and the language statistics they maintain are shared by every
thread that uses the engine. Writes (``add``, ``delete``) are serialised: the
indexer decides "new / changed / unchanged" and updates the per-language means
from the stored state, which two interleaved writes would both read stale.

``xsearch.Client`` offers the same methods over the HTTP API.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from xsearch.library import (
    DEFAULT_COLLECTION,
    DocumentLike,
    SearchOptions,
    document_payload,
    id_list,
    index_response,
    search_request,
)
from xsearch.schemas import (
    CollectionInfo,
    CollectionSummary,
    DocResult,
    IndexResponse,
    Kind,
    SearchResponse,
    StoredDocument,
)
from xsearch.settings import Settings, get_settings

if TYPE_CHECKING:
    import numpy as np

    from xsearch.encoder import Encoder
    from xsearch.indexing import IndexingService
    from xsearch.search import Searcher
    from xsearch.store.base import Store


class Engine:
    """Index and search in this process.

    >>> with Engine(home="/tmp/xs", collection="news") as engine:  # doctest: +SKIP
    ...     engine.add([{"id": "1", "text": "Le chat dort."}])
    ...     engine.search("sleeping cat", k=3).hits

    ``home``: the folder with ``models/`` and the embedded store (default:
    ``XSEARCH_HOME``); ``collection``: used when a call names none; ``bundle``:
    model bundle name or path (default: ``XSEARCH_DEFAULT_BUNDLE``).
    """

    def __init__(
        self,
        home: str | Path | Settings | None = None,
        *,
        collection: str = DEFAULT_COLLECTION,
        bundle: str | None = None,
        variant: str | None = None,
        settings: Settings | None = None,
        encoder: Encoder | None = None,
        store: Store | None = None,
    ) -> None:
        if isinstance(home, Settings):  # Engine(settings), the form older code uses
            settings, home = home, None
        settings = settings or get_settings()
        if home is not None:
            settings = settings.model_copy(update={"home": Path(home).expanduser()})
        self.settings = settings
        self.collection = collection
        self.bundle = bundle
        self.variant = variant
        self._encoder = encoder
        self._store = store
        self._searcher: Searcher | None = None
        self._indexer: IndexingService | None = None
        # Re-entrant: building a service reads the encoder and store properties.
        self._lock = threading.RLock()
        self._write_locks: dict[str, threading.Lock] = {}

    @classmethod
    def open(cls, settings: Settings | None = None, **kwargs: Any) -> Engine:
        """An engine on these settings (the CLI's and the API's way in)."""
        return cls(settings=settings, **kwargs)

    # --- parts, opened once on first use ----------------------------------------------
    @property
    def encoder(self) -> Encoder:
        with self._lock:
            if self._encoder is None:
                from xsearch.encoder import Encoder

                self._encoder = Encoder.load(
                    self.bundle, settings=self.settings, variant=self.variant
                )
            return self._encoder

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                from xsearch.store import open_store

                self._store = open_store(self.settings)
            return self._store

    @property
    def searcher(self) -> Searcher:
        with self._lock:
            if self._searcher is None:
                from xsearch.search import Searcher

                self._searcher = Searcher(self.encoder, self.store, self.settings)
            return self._searcher

    @property
    def indexer(self) -> IndexingService:
        with self._lock:
            if self._indexer is None:
                from xsearch.indexing import IndexingService

                # the encoder is loaded on the service's first encode: deletes and
                # reads need none (`xsearch delete` works without the model bundle)
                encoder = self._encoder if self._encoder is not None else (lambda: self.encoder)
                self._indexer = IndexingService(encoder, self.store, self.settings)
            return self._indexer

    def bundle_fingerprint(self) -> str | None:
        """The fingerprint of this engine's bundle, from its manifest (no model is
        loaded for it); None when there is no bundle (nothing is compatible then)."""
        if self._encoder is not None:
            return self._encoder.fingerprint
        from xsearch.encoder.bundle_io import load_manifest, resolve_bundle_dir
        from xsearch.errors import BundleError

        try:
            manifest = load_manifest(resolve_bundle_dir(self.bundle, self.settings))
        except BundleError:
            return None
        return str(manifest.get("fingerprint"))

    # --- the library surface (same methods on xsearch.Client) -----------------------------
    def _write_lock(self, collection: str) -> threading.Lock:
        with self._lock:
            return self._write_locks.setdefault(collection, threading.Lock())

    def add(
        self,
        documents: Iterable[DocumentLike],
        *,
        collection: str | None = None,
        deadline: float | None = None,
    ) -> IndexResponse:
        """Index documents (new or changed ones; unchanged ones are skipped).

        A document that fails validation is reported ``rejected`` with the
        reason, in its place; one whose write fails (or would end after
        ``deadline``, a ``time.monotonic()`` value) is ``failed``; the others
        are indexed.
        """
        from xsearch.documents import Document
        from xsearch.errors import InputError

        name = collection or self.collection
        docs: list[Document] = []
        results: list[DocResult | None] = []
        for i, item in enumerate(documents):
            raw = document_payload(item)
            try:
                docs.append(Document.from_dict(raw))
                results.append(None)
            except InputError as err:
                raw_id = None if raw.get("id") is None else str(raw["id"])
                results.append(
                    DocResult(id=raw_id, status="rejected", reason=f"document {i}: {err}")
                )
        with self._write_lock(name):
            written = self.indexer.index_documents(name, docs, deadline=deadline) if docs else []
        indexed = iter(written)
        done = [r if r is not None else next(indexed) for r in results]
        return index_response(name, done)

    def search(self, query: str, **options: Unpack[SearchOptions]) -> SearchResponse:
        """The best documents for ``query`` (any language); options as ``SearchRequest``."""
        return self.searcher.search(search_request(self.collection, query, options))

    def get(self, doc_id: str, *, collection: str | None = None) -> StoredDocument | None:
        """A stored document rebuilt from its passages, or None when there is none."""
        doc = self.indexer.get_document(collection or self.collection, doc_id)
        return None if doc is None else StoredDocument.model_validate(doc)

    def delete(self, ids: str | Sequence[str], *, collection: str | None = None) -> int:
        """Delete documents (every passage of each); returns the passages removed."""
        name = collection or self.collection
        self.store.get_meta(name)  # CollectionNotFound (with its fix) for a missing collection
        with self._write_lock(name):
            return self.indexer.delete_documents(name, id_list(ids))

    def stats(self, collection: str | None = None) -> CollectionInfo:
        """Size, languages and bundle of a collection (reads the store only)."""
        s = self.store.stats(collection or self.collection)
        # s.meta is left out on purpose: it may hold large per-language vectors.
        return CollectionInfo(
            name=s.name, points=s.points, documents=s.documents, languages=s.languages,
            dimension=s.dimension, fingerprint=s.fingerprint, bundle=s.bundle,
            disk_bytes=s.disk_bytes, indexed=s.indexed,
            compatible=s.fingerprint == self.bundle_fingerprint(),
        )

    def collections(self) -> list[CollectionSummary]:
        """Every collection, with the bundle it was built with."""
        from xsearch.errors import XSearchError

        store, fingerprint = self.store, self.bundle_fingerprint()
        out = []
        for name in store.list_collections():
            try:
                meta = store.get_meta(name)
            except XSearchError:  # deleted between the listing and this read
                continue
            out.append(CollectionSummary(
                name=name, bundle=meta.get("bundle"),
                compatible=meta.get("fingerprint") == fingerprint,
            ))
        return out

    def encode(self, texts: str | Sequence[str], *, kind: Kind = "passage") -> np.ndarray:
        """Unit vectors: [dimension] for one string, [len(texts), dimension] for a list."""
        if isinstance(texts, str):
            return self.encoder.encode([texts], kind=kind)[0]
        return self.encoder.encode(list(texts), kind=kind)

    # --- lifetime ------------------------------------------------------------------------
    def close(self) -> None:
        """Close the store (the embedded store's lock is released); idempotent."""
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
            self._searcher = self._indexer = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Engine(home={str(self.settings.home)!r}, collection={self.collection!r})"
