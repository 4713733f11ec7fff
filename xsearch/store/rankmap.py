"""Point id -> the payload keys ranking reads (doc_id, lang), kept in memory per collection.

Why: the search path ranks a pool of a few hundred candidates by document and
language. Reading those two payload keys out of Qdrant Edge is most of a pool
query's time (200 hits at 100k points: ~2.5 ms of ~4 ms; bench/search_cost.py),
while the graph search itself is ~1 ms. With this map the candidates are asked
for no payload at all and the two keys are looked up here.

Correctness rests on three rules (the embedded store is the only writer of its
shards: one process owns the store, see ``edge.py``):

- every write path of the store goes through ``put`` (before the shard write:
  a point the shard returns is never unknown here) and ``drop`` (after the
  shard delete); a write that fails invalidates the whole map;
- while the map is being filled from a scroll, what a write says wins over what
  the scroll read (``_touched``), so a concurrent write is never overwritten by
  an older value;
- a hit the map does not know (a race between a delete and a re-upsert of the
  same point in two threads) is looked up in the store and learnt (``missing``):
  the map can be behind, never wrong for a hit.

Memory: one int key (the UUID's 128 bits) per point and one shared tuple per
(doc_id, lang) pair: 250-300 bytes per point measured on the bench.scale
collections, where most points are their own (doc_id, lang) pair (less where
the passages of a document share a language); bench/search_cost.py reports it
(``memory_bytes``). About 0.3 GB per million points.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from xsearch.store.payload import DOC_ID, LANG

# The keys the map holds, in the order they are stored.
FIELDS: tuple[str, ...] = (DOC_ID, LANG)


def key(point_id: Any) -> int:
    """The map's key of a point id (a ``uuid.UUID`` from the binding, a UUID string we
    wrote, or an unsigned integer id)."""
    if isinstance(point_id, uuid.UUID):
        return point_id.int
    if isinstance(point_id, int):
        return point_id
    text = str(point_id)
    return int(text) if text.isdigit() else uuid.UUID(text).int


def serves(fields: Sequence[str] | None) -> bool:
    """Whether a payload selection can be answered from the map alone."""
    return fields is not None and len(fields) > 0 and set(fields) <= set(FIELDS)


class RankMap:
    """The ranking keys of every point of one collection (see the module doc)."""

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[Any, Any]] = {}
        # one tuple per distinct (doc_id, lang): the passages of a document share it
        self._shared: dict[tuple[Any, Any], tuple[Any, Any]] = {}
        self._lock = threading.Lock()
        self._touched: set[int] | None = set()  # None once filled: writes are then final
        self.ready = False

    def __len__(self) -> int:
        return len(self._by_id)

    def _entry(self, payload: dict[str, Any] | None) -> tuple[Any, Any]:
        pl = payload or {}
        # _MISSING keeps "key absent" apart from a stored null: the dict handed back
        # must be exactly what Qdrant returns for the selection
        value = (pl.get(DOC_ID, _MISSING), pl.get(LANG, _MISSING))
        return self._shared.setdefault(value, value)

    # --- writes (the store's write paths call these) -------------------------------
    def put(self, items: Iterable[tuple[Any, dict[str, Any] | None]]) -> None:
        """(id, payload) of points about to be written."""
        with self._lock:
            for pid, payload in items:
                k = key(pid)
                self._by_id[k] = self._entry(payload)
                if self._touched is not None:
                    self._touched.add(k)

    def drop(self, ids: Iterable[Any]) -> None:
        """Ids of points just deleted."""
        with self._lock:
            for pid in ids:
                k = key(pid)
                self._by_id.pop(k, None)
                if self._touched is not None:
                    self._touched.add(k)

    # --- filling from a scroll ------------------------------------------------------
    def fill(self, records: Iterable[Any]) -> None:
        """Scrolled records (``.id``, ``.payload`` with FIELDS); what a write already
        said about a point wins."""
        with self._lock:
            touched = self._touched or set()
            for r in records:
                k = key(r.id)
                if k not in touched:
                    self._by_id[k] = self._entry(r.payload)

    def finish(self) -> None:
        with self._lock:
            self._touched = None
            self.ready = True

    # --- reads ------------------------------------------------------------------------
    def payloads(
        self, records: Sequence[Any], fields: Sequence[str]
    ) -> tuple[list[dict[str, Any] | None], list[int], list[int]]:
        """Each record's payload restricted to ``fields`` (None where unknown), the
        positions of the unknown ones, and each record's key (kept by the caller:
        every read of the binding's ``id`` builds a new uuid.UUID)."""
        every = set(fields) >= set(FIELDS)
        out: list[dict[str, Any] | None] = []
        missing: list[int] = []
        keys: list[int] = []
        get = self._by_id.get  # dict reads are atomic under the GIL: no lock
        uuid_type = uuid.UUID
        for pos, r in enumerate(records):
            rid = r.id  # the binding's UUID: key() inlined, hundreds of hits per search
            k = rid.int if rid.__class__ is uuid_type else key(rid)
            keys.append(k)
            entry = get(k)
            if entry is None:
                out.append(None)
                missing.append(pos)
            elif every and entry[0] is not _MISSING and entry[1] is not _MISSING:
                out.append({DOC_ID: entry[0], LANG: entry[1]})  # the usual case, the fast way
            else:
                out.append(_as_dict(entry, fields))
        return out, missing, keys

    def get(self, point_id: Any) -> dict[str, Any] | None:
        """One point's keys (None: unknown)."""
        entry = self._by_id.get(key(point_id))
        return None if entry is None else _as_dict(entry, FIELDS)

    def snapshot(self) -> dict[int, dict[str, Any]]:
        """Every point's keys, by map key (for checks: a copy, O(points))."""
        with self._lock:
            return {k: _as_dict(e, FIELDS) for k, e in self._by_id.items()}

    def memory_bytes(self) -> int:
        """What the map holds, each object counted once (sys.getsizeof: the dicts, the
        int keys, the shared tuples and their strings)."""
        import sys

        with self._lock:
            size = sys.getsizeof(self._by_id) + sys.getsizeof(self._shared)
            size += sum(sys.getsizeof(k) for k in self._by_id)
            seen: set[int] = set()
            for entry in self._shared.values():
                size += sys.getsizeof(entry)
                for v in entry:
                    if id(v) not in seen and v is not _MISSING:
                        seen.add(id(v))
                        size += sys.getsizeof(v)
            return size

    def forget(self, point_id: Any) -> None:
        """Lose one point without a write (tests: the race ``payloads`` recovers from)."""
        with self._lock:
            self._by_id.pop(key(point_id), None)


def _as_dict(entry: tuple[Any, Any], fields: Sequence[str]) -> dict[str, Any]:
    return {f: v for f, v in zip(FIELDS, entry, strict=True) if f in fields and v is not _MISSING}


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()
