"""The engine: one object that holds what a process needs to index and search.

Built once by the CLI or the API (in its lifespan) and passed down. The encoder
and the store are opened on first use, so commands that need only one of them
(``xsearch collections`` needs no model) stay quick.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from xsearch.settings import Settings, get_settings

if TYPE_CHECKING:
    from xsearch.encoder import Encoder
    from xsearch.indexing import IndexingService
    from xsearch.search import Searcher
    from xsearch.store.base import Store


class Engine:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        bundle: str | None = None,
        variant: str | None = None,
        encoder: Encoder | None = None,
        store: Store | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.bundle = bundle
        self.variant = variant
        self._encoder = encoder
        self._store = store
        self._lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings | None = None, **kwargs: object) -> Engine:
        return cls(settings, **kwargs)  # type: ignore[arg-type]

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
        from xsearch.search import Searcher

        return Searcher(self.encoder, self.store, self.settings)

    @property
    def indexer(self) -> IndexingService:
        from xsearch.indexing import IndexingService

        # the encoder is loaded on the service's first encode: a delete needs none
        encoder = self._encoder if self._encoder is not None else (lambda: self.encoder)
        return IndexingService(encoder, self.store, self.settings)

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
