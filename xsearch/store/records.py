"""Points and what both backends share to convert them (vectors, ids, document
state, paging). No backend and no Store here: ``base.Store`` builds on this."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from xsearch.documents import point_id
from xsearch.errors import InputError
from xsearch.store.payload import CONTENT_HASH, DOC_ID, N_PASSAGES
from xsearch.store.rankmap import key

DENSE = "dense"
CENTERED = "centered"
LEXICAL = "lexical"
DENSE_VECTORS = (DENSE, CENTERED)


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


class LeanPoint(ScoredPoint):
    """A query hit that carries a few payload keys and no vectors (the search path's
    candidates). Its id is read from the binding's record on first use only: the
    binding builds a ``uuid.UUID`` per hit and formatting it is the dearest part
    of converting a hit, while ranking reads only scores and payload keys; only
    the page's hits need their ids."""

    def __init__(
        self, record: Any, score: float, payload: dict[str, Any], int_key: int | None = None
    ) -> None:
        self._record = record
        self._id: str | None = None
        # point_key's: given when the ranking map already computed it (each read of
        # the binding's ``id`` builds a new uuid.UUID), else computed on first use
        self._key = int_key
        self.score = score
        self.payload = payload
        self.vectors = None
        self.sparse = None

    @property  # type: ignore[override]
    def id(self) -> str:
        if self._id is None:
            self._id = str(self._record.id)
        return self._id


def point_key(p: ScoredPoint) -> int:
    """The id of a hit as an integer (the UUID's 128 bits), the same for one point
    across queries and paths; a LeanPoint computes it once, without formatting the
    binding's UUID as text (the dearest part of reading a hit)."""
    if type(p) is LeanPoint:
        if p._key is None:
            p._key = key(p._record.id)
        return p._key
    return key(p.id)


def to_lean(records: Iterable[Any]) -> list[ScoredPoint]:
    """Query hits fetched with a payload selection and without vectors."""
    return [LeanPoint(r, float(r.score), r.payload or {}) for r in records]


def dense_list(vector: np.ndarray | Sequence[float], dim: int | None = None) -> list[float]:
    """A 1-d float vector as a plain list (what both bindings take), size-checked."""
    arr = np.asarray(vector, dtype=np.float32)
    if arr.ndim != 1 or (dim is not None and arr.shape[0] != dim):
        raise InputError(
            f"vector of shape {arr.shape} does not fit a collection of dimension {dim}",
            fix="encode with the bundle the collection was built with",
        )
    if not np.isfinite(arr).all():
        raise InputError("vector contains NaN or infinity", fix="check the encoder output")
    return arr.tolist()


def sparse_pair(sparse: tuple[Sequence[int], Sequence[float]]) -> tuple[list[int], list[float]]:
    """Checked (indices, values): same length, unique non-negative indices, finite values."""
    try:
        idx = [int(i) for i in sparse[0]]
        val = [float(v) for v in sparse[1]]
    except (TypeError, ValueError, IndexError) as err:
        raise InputError(
            f"a sparse vector must be (indices, values), got {sparse!r:.80}",
            fix="pass two lists: integer term ids and their weights",
        ) from err
    if len(idx) != len(val) or len(set(idx)) != len(idx) or any(i < 0 for i in idx):
        raise InputError(
            "sparse vector has unequal lengths, repeated or negative indices",
            fix="merge repeated term ids (sum their weights) before storing or querying",
        )
    if not all(np.isfinite(val)):
        raise InputError("sparse vector contains NaN or infinity", fix="check the term weights")
    return idx, val


def from_native_vectors(
    vector: Any,
) -> tuple[dict[str, np.ndarray] | None, dict[str, tuple[list[int], list[float]]] | None]:
    """Split a backend's named-vector dict into dense arrays and sparse (indices, values)."""
    if not vector:
        return None, None
    if not isinstance(vector, dict):  # an unnamed vector: not something we create
        return {"": np.asarray(vector, dtype=np.float32)}, None
    dense: dict[str, np.ndarray] = {}
    sparse: dict[str, tuple[list[int], list[float]]] = {}
    for name, v in vector.items():
        if hasattr(v, "indices"):
            sparse[name] = (list(v.indices), [float(x) for x in v.values])
        else:
            dense[name] = np.asarray(v, dtype=np.float32)
    return dense, sparse


def doc_state_ids(doc_ids: Sequence[str]) -> list[str]:
    """Point ids of the first passage of each document (holds hash and passage count)."""
    return [point_id(str(d), 0) for d in doc_ids]


def state_from_payloads(payloads: Iterable[dict | None]) -> dict[str, tuple[str, int]]:
    out: dict[str, tuple[str, int]] = {}
    for p in payloads:
        if p and DOC_ID in p:
            out[str(p[DOC_ID])] = (str(p.get(CONTENT_HASH, "")), int(p.get(N_PASSAGES, 0)))
    return out


def check_using(using: str) -> None:
    if using not in DENSE_VECTORS:
        raise InputError(
            f"unknown dense vector {using!r}", fix=f"use one of {', '.join(DENSE_VECTORS)}"
        )


def to_scored(r: Any, score: float) -> ScoredPoint:
    """A backend record or scored point (either binding) as our ScoredPoint."""
    dense, sparse = from_native_vectors(r.vector)
    return ScoredPoint(
        id=str(r.id),
        score=float(score),
        payload=dict(r.payload or {}),
        vectors=dense,
        sparse=sparse,
    )


def point_vectors(p: PointRecord, dim: int, sparse_vector: Callable[..., Any]) -> dict[str, Any]:
    """A point's named vectors as a backend takes them: checked dense lists, and
    ``sparse_vector(indices=, values=)`` (the backend's class) for the sparse one."""
    vec: dict[str, Any] = {}
    for vname, v in p.vectors.items():
        check_using(vname)
        vec[vname] = dense_list(v, dim)
    for sname, pair in p.sparse.items():
        if sname != LEXICAL:
            raise InputError(f"unknown sparse vector {sname!r}", fix=f"use {LEXICAL!r}")
        idx, val = sparse_pair(pair)
        vec[sname] = sparse_vector(indices=idx, values=val)
    return vec


def in_order(ids: Sequence[str], records: Iterable[Any]) -> list[ScoredPoint]:
    """Retrieved records in the order of ``ids`` (absent ids left out)."""
    by_id = {str(r.id): to_scored(r, 0.0) for r in records}
    return [by_id[str(i)] for i in ids if str(i) in by_id]


def scroll_records(page: Callable[[Any], tuple[Sequence[Any], Any]]) -> Iterator[Any]:
    """Every record, as the binding returns it, page by page: ``page(offset)``
    answers (records, next offset)."""
    offset = None
    while True:
        recs, offset = page(offset)
        yield from recs
        if offset is None or not recs:
            return


def scroll_pages(page: Callable[[Any], tuple[Sequence[Any], Any]]) -> Iterator[ScoredPoint]:
    """Every point (score 0), page by page (see ``scroll_records``)."""
    return (to_scored(r, 0.0) for r in scroll_records(page))
