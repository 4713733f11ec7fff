"""Qdrant store: embedded (Qdrant Edge) or server (qdrant-client), one interface.

``open_store(settings)`` picks the backend: a server when ``settings.qdrant_url``
is set, else the embedded store under ``settings.store_dir``. The backends are
imported lazily so ``import xsearch.store`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xsearch.store.base import (
    CENTERED,
    DENSE,
    LEXICAL,
    CollectionSpec,
    CollectionStats,
    PointRecord,
    ScoredPoint,
    SearchFilter,
    Store,
    validate_name,
)

if TYPE_CHECKING:
    from xsearch.settings import Settings

__all__ = [
    "CENTERED",
    "DENSE",
    "LEXICAL",
    "CollectionSpec",
    "CollectionStats",
    "PointRecord",
    "ScoredPoint",
    "SearchFilter",
    "Store",
    "open_store",
    "validate_name",
]


def open_store(settings: Settings) -> Store:
    """The store the settings ask for: server if ``qdrant_url`` is set, else embedded."""
    if settings.qdrant_url:
        from xsearch.store.server import ServerStore

        return ServerStore.from_settings(settings)
    from xsearch.store.edge import EdgeStore

    return EdgeStore(
        settings.store_dir,
        hnsw_m=settings.hnsw_m,
        hnsw_ef_construct=settings.hnsw_ef_construct,
        hnsw_ef=settings.hnsw_ef,
    )
