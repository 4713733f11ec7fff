"""The store interface: what the rest of xsearch knows about Qdrant.

Two implementations sit behind it: ``EdgeStore`` (Qdrant Edge, embedded,
in-process) and ``ServerStore`` (qdrant-client against a server, or its
``:memory:`` mode in tests). Nothing outside ``xsearch.store`` imports either
of them directly; use :func:`xsearch.store.open_store`.

Vector names are fixed so every collection can carry everything issue 7 needs
without a migration: ``dense`` (raw passage vector), ``centered`` (vector
minus the language mean, re-normalised) and the sparse ``lexical`` vector.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from xsearch.errors import BundleMismatch, CollectionNotFound, InputError
from xsearch.validation import is_collection_name

DENSE = "dense"
CENTERED = "centered"
LEXICAL = "lexical"
DENSE_VECTORS = (DENSE, CENTERED)

# Payload fields that get a payload index (the store only needs to know these).
KEYWORD_FIELDS = ("doc_id", "lang")
INTEGER_FIELDS = ("passage",)


@dataclass
class CollectionSpec:
    name: str
    dimension: int
    fingerprint: str
    bundle: str  # bundle name, for messages
    distance: str = "cosine"


@dataclass
class PointRecord:
    id: str  # UUID string (xsearch.documents.point_id)
    vectors: dict[str, np.ndarray]  # {"dense": v} and optionally {"centered": v}
    payload: dict[str, Any]
    sparse: dict[str, tuple[list[int], list[float]]] = field(default_factory=dict)


@dataclass
class ScoredPoint:
    id: str
    score: float
    payload: dict[str, Any]
    vectors: dict[str, np.ndarray] | None = None
    # Sparse vectors come back here when vectors are requested (export/transfer).
    sparse: dict[str, tuple[list[int], list[float]]] | None = None


@dataclass
class SearchFilter:
    langs: list[str] | None = None
    exclude_langs: list[str] | None = None
    doc_ids: list[str] | None = None
    # equality on meta.<key>; a list value means "any of"
    metadata: dict[str, str | int | float | bool | list] = field(default_factory=dict)
    # meta.<key> ranges: (gte, lte), either side may be None
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (
            self.langs or self.exclude_langs or self.doc_ids or self.metadata or self.ranges
        )


@dataclass
class CollectionStats:
    name: str
    points: int
    documents: int
    languages: dict[str, int]
    dimension: int
    fingerprint: str
    bundle: str
    disk_bytes: int | None
    indexed: bool
    meta: dict


def validate_name(name: str) -> str:
    """Collection names become directory names and URL parts: keep them plain."""
    if not is_collection_name(name):  # fullmatch: "news\n" is not "news"
        raise InputError(
            f"invalid collection name {name!r}",
            fix="use 1-64 letters, digits, '-' or '_' (for example 'news-2024')",
        )
    return name


def not_found(name: str) -> CollectionNotFound:
    return CollectionNotFound(
        f"collection {name!r} does not exist",
        fix="index documents into it first (`xsearch add --collection "
        f"{name} FILE.jsonl`), or list the existing ones with `xsearch collections`",
    )


def check_compatible(name: str, meta: dict, fingerprint: str, bundle: str) -> None:
    """Raise BundleMismatch when ``meta`` was written by another bundle."""
    have = meta.get("fingerprint")
    if have == fingerprint:
        return
    have_bundle = meta.get("bundle", "?")
    raise BundleMismatch(
        f"collection {name!r} was built with bundle {have_bundle!r} (fingerprint "
        f"{str(have)[:12]}), not with {bundle!r} (fingerprint {fingerprint[:12]}); "
        "vectors of two models cannot be mixed",
        fix=f"query it with bundle {have_bundle!r}, or re-index the documents with "
        f"{bundle!r} into a new collection (e.g. --collection {name}-{_slug(bundle)})",
    )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:32] or "new"


class Store(ABC):
    """A Qdrant store holding one collection per (corpus, bundle)."""

    kind: str  # "edge" | "server"

    # --- collections -----------------------------------------------------
    @abstractmethod
    def create_collection(self, spec: CollectionSpec) -> None:
        """Create it; a no-op when it exists with the same fingerprint (BundleMismatch else)."""

    @abstractmethod
    def list_collections(self) -> list[str]: ...

    @abstractmethod
    def delete_collection(self, name: str) -> None: ...

    @abstractmethod
    def get_meta(self, name: str) -> dict:
        """Collection-level JSON metadata (fingerprint, bundle, dimension, created, ...)."""

    @abstractmethod
    def set_meta(self, name: str, meta: dict) -> None:
        """Replace the collection metadata (keep fingerprint/bundle/dimension in it)."""

    def ensure_compatible(self, name: str, fingerprint: str, bundle: str) -> None:
        """CollectionNotFound if absent, BundleMismatch naming both bundles if built by another."""
        check_compatible(name, self.get_meta(name), fingerprint, bundle)

    # --- points ------------------------------------------------------------
    @abstractmethod
    def upsert(self, name: str, points: Sequence[PointRecord], *, wait: bool = True) -> None: ...

    @abstractmethod
    def delete_points(self, name: str, ids: Sequence[str]) -> None: ...

    @abstractmethod
    def delete_documents(self, name: str, doc_ids: Sequence[str]) -> int:
        """Delete every passage of these documents; returns the number of points removed."""

    @abstractmethod
    def document_state(self, name: str, doc_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        """doc_id -> (content_hash, n_passages) for the documents present (passage-0 lookup)."""

    @abstractmethod
    def retrieve(
        self, name: str, ids: Sequence[str], *, with_vectors: bool = False
    ) -> list[ScoredPoint]: ...

    # --- search --------------------------------------------------------------
    @abstractmethod
    def query(
        self,
        name: str,
        vector: np.ndarray,
        *,
        using: str = DENSE,
        k: int = 10,
        offset: int = 0,
        flt: SearchFilter | None = None,
        with_vectors: bool = False,
        exact: bool = False,
        score_threshold: float | None = None,
    ) -> list[ScoredPoint]: ...

    @abstractmethod
    def query_lexical(
        self,
        name: str,
        sparse: tuple[list[int], list[float]],
        *,
        k: int = 10,
        flt: SearchFilter | None = None,
    ) -> list[ScoredPoint]:
        """The sparse ``lexical`` ranking alone (BM25-style scores, IDF by Qdrant)."""

    @abstractmethod
    def query_hybrid(
        self,
        name: str,
        dense: np.ndarray,
        sparse: tuple[list[int], list[float]],
        *,
        using_dense: str = DENSE,
        k: int = 10,
        offset: int = 0,
        flt: SearchFilter | None = None,
        prefetch_k: int = 100,
        weights: tuple[float, float] | None = None,
        rrf_k: int = 60,
    ) -> list[ScoredPoint]:
        """Prefetch dense and sparse candidates, fuse them by RRF inside Qdrant.

        ``weights`` = (dense, lexical) RRF weights (None: equal); ``rrf_k`` is the
        RRF constant, given explicitly so both backends rank identically.
        """

    @abstractmethod
    def scroll(
        self,
        name: str,
        *,
        batch: int = 512,
        with_vectors: bool = True,
        flt: SearchFilter | None = None,
    ) -> Iterator[ScoredPoint]:
        """Every point (score 0), in batches; with_vectors also fills ``sparse``."""

    @abstractmethod
    def count(self, name: str, flt: SearchFilter | None = None) -> int: ...

    @abstractmethod
    def stats(self, name: str) -> CollectionStats: ...

    @abstractmethod
    def optimize(self, name: str) -> None:
        """Edge: build the HNSW index and payload indexes; server: nothing to do."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
