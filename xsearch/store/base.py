"""The store interface: what the rest of xsearch knows about Qdrant.

Two implementations sit behind it: ``EdgeStore`` (Qdrant Edge, embedded,
in-process) and ``ServerStore`` (qdrant-client against a server, or its
``:memory:`` mode in tests). Nothing outside ``xsearch.store`` imports either
of them directly; use :func:`xsearch.store.open_store`.

Vector names are fixed so every collection carries every ranking's vectors
without a migration: ``dense`` (raw passage vector), ``centered`` (vector
minus its language's centre, not re-normalised: scored by dot product, see
``xsearch/ranking/centering.py``) and the sparse ``lexical`` vector.
"""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from xsearch.errors import BundleMismatch, CollectionNotFound, InputError
from xsearch.store import rankmap
from xsearch.store.payload import STATE_FIELDS
from xsearch.store.records import (
    CENTERED,
    DENSE,
    DENSE_VECTORS,
    LEXICAL,
    LeanPoint,
    PointRecord,
    ScoredPoint,
    check_using,
    dense_list,
    doc_state_ids,
    in_order,
    scroll_pages,
    sparse_pair,
    state_from_payloads,
    to_lean,
    to_scored,
)
from xsearch.validation import is_collection_name

__all__ = [  # the point types live in records; importing them from here keeps working
    "CENTERED",
    "DENSE",
    "DENSE_VECTORS",
    "LEXICAL",
    "PointRecord",
    "ScoredPoint",
]

# Distances a collection may use (each backend maps them to its own enum).
DISTANCES = ("cosine", "dot", "euclid")
META_FORMAT = "xsearch-collection/1"


@dataclass
class CollectionSpec:
    name: str
    dimension: int
    fingerprint: str
    bundle: str  # bundle name, for messages
    distance: str = "cosine"


@dataclass
class SearchFilter:
    langs: list[str] | None = None
    exclude_langs: list[str] | None = None
    doc_ids: list[str] | None = None
    # equality on meta.<key>; a list value means "any of"
    metadata: dict[str, str | int | float | bool | list] = field(default_factory=dict)
    # meta.<key> ranges: (gte, lte), either side may be None
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class DenseQuery:
    """A checked nearest-neighbour query on one dense vector."""

    vector: list[float]
    using: str
    k: int
    offset: int
    flt: SearchFilter | None
    with_vectors: bool = False
    exact: bool = False
    score_threshold: float | None = None
    fields: tuple[str, ...] | None = None  # payload keys to return; None: the whole payload


@dataclass(frozen=True)
class SparseQuery:
    """A checked query on the sparse ``lexical`` vector."""

    indices: list[int]
    values: list[float]
    k: int
    flt: SearchFilter | None
    fields: tuple[str, ...] | None = None


@dataclass(frozen=True)
class HybridQuery:
    """Dense and sparse prefetches (``k`` = prefetch size each), fused by RRF."""

    dense: DenseQuery
    sparse: SparseQuery
    k: int
    offset: int
    flt: SearchFilter | None
    weights: list[float] | None
    rrf_k: int
    fields: tuple[str, ...] | None = None


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

    @classmethod
    def from_meta(
        cls,
        name: str,
        meta: dict,
        *,
        points: int,
        documents: int,
        languages: dict[str, int],
        disk_bytes: int | None,
        indexed: bool,
    ) -> CollectionStats:
        return cls(
            name=name,
            points=points,
            documents=documents,
            languages=languages,
            dimension=int(meta["dimension"]),
            fingerprint=meta["fingerprint"],
            bundle=meta.get("bundle", "?"),
            disk_bytes=disk_bytes,
            indexed=indexed,
            meta=meta,
        )


def new_meta(spec: CollectionSpec) -> dict[str, Any]:
    """The metadata a new collection starts with (both backends store this dict)."""
    check_distance(spec.distance)
    return {
        "format": META_FORMAT,
        "fingerprint": spec.fingerprint,
        "bundle": spec.bundle,
        "dimension": spec.dimension,
        "distance": spec.distance,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "lexical_modifier": "idf",
    }


def check_distance(distance: str) -> str:
    if distance not in DISTANCES:
        raise InputError(f"unknown distance {distance!r}", fix="use cosine, dot or euclid")
    return distance


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


def _points(records: Sequence[Any], lean: bool) -> list[ScoredPoint]:
    """The backend's hits as ScoredPoints (lean: a payload selection, no vectors)."""
    return to_lean(records) if lean else [to_scored(r, r.score) for r in records]


def _fields(fields: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if fields is None else tuple(str(f) for f in fields)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:32] or "new"


# In metadata read from disk after the process that held newer metadata (the
# language statistics) in memory died before writing it: the statistics there may
# lag the points (recompute them). Never written into the metadata itself.
STATS_PENDING = "stats_pending"


def stats_pending(meta: dict) -> bool:
    """True when ``meta`` was read from a file whose writer died before saving it whole."""
    return bool(meta.get(STATS_PENDING))


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
    def set_meta(self, name: str, meta: dict, *, defer: bool = False) -> None:
        """Replace the collection metadata (keep fingerprint/bundle/dimension in it).

        ``defer``: a store owned by this process alone may keep the new metadata
        in memory (this process's readers see it at once) until ``flush_meta``,
        ``flush`` or ``close``; if the process dies meanwhile, the metadata read
        afterwards says ``STATS_PENDING`` (see ``stats_pending``), so that the
        statistics are recomputed. Stores shared between processes write every call.
        """

    def flush_meta(self, name: str | None = None) -> None:
        """Write metadata held back by ``set_meta(defer=True)`` (none: nothing to do)."""
        return None

    def ensure_compatible(self, name: str, fingerprint: str, bundle: str) -> None:
        """CollectionNotFound if absent, BundleMismatch naming both bundles if built by another."""
        check_compatible(name, self.get_meta(name), fingerprint, bundle)

    # --- points (checked and converted here, sent by the backend's hooks) --------
    upsert_chunk = 512  # points per backend call

    def upsert(self, name: str, points: Sequence[PointRecord], *, wait: bool = True) -> None:
        dim = int(self.get_meta(name)["dimension"])
        for start in range(0, len(points), self.upsert_chunk):
            self._upsert(name, points[start : start + self.upsert_chunk], dim, wait)

    @abstractmethod
    def delete_points(self, name: str, ids: Sequence[str]) -> None: ...

    def delete_documents(self, name: str, doc_ids: Sequence[str]) -> int:
        """Delete every passage of these documents; returns the number of points removed."""
        if not doc_ids:
            return 0
        return self._delete_matching(name, SearchFilter(doc_ids=[str(d) for d in doc_ids]))

    def document_state(self, name: str, doc_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        """doc_id -> (content_hash, n_passages) for the documents present (passage-0 lookup)."""
        if not doc_ids:
            return {}
        return state_from_payloads(self._payloads(name, doc_state_ids(doc_ids), STATE_FIELDS))

    def retrieve(
        self,
        name: str,
        ids: Sequence[str],
        *,
        with_vectors: bool = False,
        fields: Sequence[str] | None = None,
    ) -> list[ScoredPoint]:
        """Points by id, in the order of ``ids`` (absent ones left out); ``fields``: the
        payload keys to return (None: the whole payload)."""
        if not ids:
            return []
        sel = None if fields is None else list(fields)
        return in_order(ids, self._retrieve(name, [str(i) for i in ids], with_vectors, sel))

    def with_payloads(
        self, name: str, points: Sequence[ScoredPoint], fields: Sequence[str] | None = None
    ) -> list[ScoredPoint]:
        """``points`` (found with a few payload ``fields``) with their whole payloads (or
        the keys in ``fields``), each keeping its score. A point deleted since it was
        found is left out."""
        ids = [p.id for p in points]
        full = {p.id: p.payload for p in self.retrieve(name, ids, fields=fields)}
        return [
            ScoredPoint(p.id, p.score, full[p.id], p.vectors, p.sparse)
            for p in points
            if p.id in full
        ]

    # --- search ----------------------------------------------------------------
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
        fields: Sequence[str] | None = None,
    ) -> list[ScoredPoint]:
        """``fields``: the payload keys to return (None: all, ``()``: none; the search path ranks
        with two small keys and reads whole payloads, passage text included, only
        for the page's hits: see ``with_payloads``)."""
        check_using(using)
        want = _fields(fields)
        ask, rmap = self._ask(name, want, with_vectors)
        dq = DenseQuery(
            dense_list(vector), using, k, offset, flt, with_vectors, exact, score_threshold, ask
        )
        return self._answer(name, self._query(name, dq), want, rmap, not with_vectors)

    def query_lexical(
        self,
        name: str,
        sparse: tuple[list[int], list[float]],
        *,
        k: int = 10,
        flt: SearchFilter | None = None,
        fields: Sequence[str] | None = None,
    ) -> list[ScoredPoint]:
        """The sparse ``lexical`` ranking alone (BM25-style scores, IDF by Qdrant)."""
        want = _fields(fields)
        ask, rmap = self._ask(name, want)
        sq = SparseQuery(*sparse_pair(sparse), k=k, flt=flt, fields=ask)
        return self._answer(name, self._query_lexical(name, sq), want, rmap)

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
        fields: Sequence[str] | None = None,
    ) -> list[ScoredPoint]:
        """Prefetch dense and sparse candidates, fuse them by RRF inside Qdrant.

        ``weights`` = (dense, lexical) RRF weights (None: equal); ``rrf_k`` is the
        RRF constant, given explicitly so both backends rank identically.
        """
        check_using(using_dense)
        want = _fields(fields)
        ask, rmap = self._ask(name, want)
        hq = HybridQuery(
            dense=DenseQuery(dense_list(dense), using_dense, prefetch_k, 0, flt),
            sparse=SparseQuery(*sparse_pair(sparse), k=prefetch_k, flt=flt),
            k=k,
            offset=offset,
            flt=flt,
            weights=list(weights) if weights else None,
            rrf_k=rrf_k,
            fields=ask,
        )
        return self._answer(name, self._query_hybrid(name, hq), want, rmap)

    # --- the ranking map (see rankmap.py): payload keys answered from memory ----------
    def warm(self, name: str) -> None:
        """Build what this collection's first search would otherwise pay for (the
        embedded store's ranking map: ~1 s per 100k points; nothing on a server)."""
        self._rank_map(name)

    def _rank_map(self, name: str) -> rankmap.RankMap | None:
        """The collection's filled ranking map, or None: read the keys from payloads.

        None here: a server store can have other writers, whose writes a map in
        this process would not see."""
        return None

    def _ask(
        self, name: str, fields: tuple[str, ...] | None, with_vectors: bool = False
    ) -> tuple[tuple[str, ...] | None, rankmap.RankMap | None]:
        """The payload selection to send, and the map that answers ``fields`` instead."""
        if with_vectors or not rankmap.serves(fields):
            return fields, None
        rmap = self._rank_map(name)
        return ((), rmap) if rmap is not None else (fields, None)

    def _answer(
        self,
        name: str,
        records: Sequence[Any],
        fields: tuple[str, ...] | None,
        rmap: rankmap.RankMap | None,
        no_vectors: bool = True,
    ) -> list[ScoredPoint]:
        """The backend's hits as ScoredPoints, their payload keys from ``rmap`` if given."""
        if rmap is None or fields is None:
            return _points(records, fields is not None and no_vectors)
        payloads, missing, keys = rmap.payloads(records, fields)
        if missing:  # a race the map lost (see rankmap.py): ask the store, learn the answer
            found = {
                p.id: p.payload for p in self.retrieve(name, [str(records[i].id) for i in missing])
            }
            rmap.put((pid, pl) for pid, pl in found.items())
            for i in missing:
                pl = found.get(str(records[i].id)) or {}
                payloads[i] = {f: pl[f] for f in fields if f in pl}
        return [
            LeanPoint(r, float(r.score), pl or {}, k)
            for r, pl, k in zip(records, payloads, keys, strict=True)
        ]

    def scroll(
        self,
        name: str,
        *,
        batch: int = 512,
        with_vectors: bool = True,
        flt: SearchFilter | None = None,
    ) -> Iterator[ScoredPoint]:
        """Every point (score 0), in batches; with_vectors also fills ``sparse``."""
        return scroll_pages(lambda off: self._scroll_page(name, off, batch, with_vectors, flt))

    # --- what each backend sends (records: the binding's points, with .id/.payload/...) --
    @abstractmethod
    def _upsert(self, name: str, points: Sequence[PointRecord], dim: int, wait: bool) -> None: ...

    @abstractmethod
    def _delete_matching(self, name: str, flt: SearchFilter) -> int:
        """Delete the points ``flt`` selects; returns how many there were."""

    @abstractmethod
    def _payloads(self, name: str, ids: list[str], fields: list[str]) -> list[dict | None]: ...

    @abstractmethod
    def _retrieve(
        self, name: str, ids: list[str], with_vectors: bool, fields: list[str] | None = None
    ) -> Sequence[Any]: ...

    @abstractmethod
    def _query(self, name: str, q: DenseQuery) -> Sequence[Any]: ...

    @abstractmethod
    def _query_lexical(self, name: str, q: SparseQuery) -> Sequence[Any]: ...

    @abstractmethod
    def _query_hybrid(self, name: str, q: HybridQuery) -> Sequence[Any]: ...

    @abstractmethod
    def _scroll_page(
        self, name: str, offset: Any, batch: int, with_vectors: bool, flt: SearchFilter | None
    ) -> tuple[Sequence[Any], Any]:
        """One page of records and the offset of the next (None at the end)."""

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
