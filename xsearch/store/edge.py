"""Embedded store: Qdrant Edge (qdrant-edge-py 0.9.0), Qdrant's engine in-process.

Layout under ``root`` (``settings.store_dir``), one directory per collection::

    <root>/<collection>/collection.json   metadata sidecar (fingerprint, bundle, ...)
    <root>/<collection>/shard/            the EdgeShard (segments + WAL)

The sidecar is written first (atomically, tmp + rename) and the shard second:
a collection whose creation was cut short has a sidecar and no shard, and the
shard is then created on first use; nothing is ever deleted to "repair".

One process owns the whole store: before it opens any shard it takes a flock
on ``<root>/store.lock`` and writes its pid and command line into that file;
a second process gets :class:`StoreLocked` naming that pid and command (before
issue 12 only each shard's WAL was locked, so a second process could write to
every collection the server had not opened yet). Listing collection names and
reading a sidecar need no lock. Only the owner writes the sidecar, so the
sidecar cannot be raced either.

Sparse ``lexical`` vector: configured with Qdrant's IDF modifier. The indexing
layer stores the document side of BM25 (term-frequency saturation with length
normalisation) and the query side carries plain term weights; Qdrant
multiplies by an IDF computed over the live collection at query time, so IDF
never goes stale as documents are added or removed.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from xsearch.errors import InputError, StoreError, StoreLocked
from xsearch.store import filters
from xsearch.store.base import (
    CENTERED,
    DENSE,
    DENSE_VECTORS,
    LEXICAL,
    CollectionSpec,
    CollectionStats,
    PointRecord,
    ScoredPoint,
    SearchFilter,
    Store,
    check_compatible,
    not_found,
    validate_name,
)
from xsearch.store.records import (
    check_using,
    dense_list,
    doc_state_ids,
    sparse_pair,
    state_from_payloads,
    to_scored,
)

META_FILE = "collection.json"
SHARD_DIR = "shard"
_UPSERT_CHUNK = 1024
_DISTANCES = {"cosine": "Cosine", "dot": "Dot", "euclid": "Euclid"}


class EdgeStore(Store):
    kind = "edge"

    def __init__(
        self,
        root: Path,
        *,
        hnsw_m: int = 16,
        hnsw_ef_construct: int = 100,
        hnsw_ef: int | None = 128,
        max_search_threads: int | None = None,
        indexing_threshold_kb: int | None = None,
    ) -> None:
        self.root = Path(root)
        self.hnsw_m = hnsw_m
        self.hnsw_ef_construct = hnsw_ef_construct
        self.hnsw_ef = hnsw_ef
        self.max_search_threads = max_search_threads
        # Segments smaller than this (Qdrant's default: 10 MB of vectors, about
        # 6.5k 384-d vectors) stay on full scan, which is as fast there.
        self.indexing_threshold_kb = indexing_threshold_kb
        self._shards: dict[str, Any] = {}
        self._meta: dict[str, dict] = {}
        self._lock = threading.RLock()
        self._owner: _StoreLock | None = None

    # --- paths and opening ----------------------------------------------------
    def _dir(self, name: str) -> Path:
        return self.root / validate_name(name)

    def _config(self, dimension: int, distance: str) -> Any:
        import qdrant_edge as q

        if distance not in _DISTANCES:
            raise InputError(f"unknown distance {distance!r}", fix="use cosine, dot or euclid")
        dist = getattr(q.Distance, _DISTANCES[distance])
        return q.EdgeConfig(
            # `centered` holds p - c_lang un-normalised and is scored by dot product:
            # q.(p - c) keeps the in-language order of cosine (see ranking/centering.py).
            vectors={
                DENSE: q.EdgeVectorParams(size=dimension, distance=dist),
                CENTERED: q.EdgeVectorParams(size=dimension, distance=q.Distance.Dot),
            },
            sparse_vectors={LEXICAL: q.EdgeSparseVectorParams(modifier=q.Modifier.Idf)},
            hnsw_config=q.HnswIndexConfig(
                m=self.hnsw_m, ef_construct=self.hnsw_ef_construct, full_scan_threshold=10_000
            ),
            max_search_threads=self.max_search_threads,
            optimizers=q.EdgeOptimizersConfig(indexing_threshold=self.indexing_threshold_kb),
        )

    def _shard(self, name: str) -> Any:
        """The open shard of a collection (opened once, kept for the store's lifetime)."""
        with self._lock:
            shard = self._shards.get(name)
            if shard is not None:
                return shard
            self._own_store()
            meta = self.get_meta(name)
            path = self._dir(name) / SHARD_DIR
            shard = self._load_or_create(path, meta)
            self._shards[name] = shard
            self._meta[name] = meta
            return shard

    def _own_store(self) -> None:
        """Take the store lock for this process (once per EdgeStore; see the module doc)."""
        if self._owner is None:
            self._owner = _StoreLock.take(self.root)

    def _load_or_create(self, path: Path, meta: dict) -> Any:
        import qdrant_edge as q

        try:
            if (path / "edge_config.json").exists():
                return q.EdgeShard.load(str(path))
            shard = q.EdgeShard.create(str(path), self._config(meta["dimension"], meta["distance"]))
        except Exception as err:  # the bindings raise a bare Exception
            if "WouldBlock" in str(err) or "lock" in str(err).lower():
                # the store lock is ours, so the shard's holder ignored it (an older xsearch)
                raise StoreLocked(
                    f"the embedded store shard at {path} is locked by another process "
                    "that does not hold the store lock",
                    fix=_LOCKED_FIX,
                ) from err
            raise StoreError(
                f"cannot open the embedded store at {path}: {err}",
                fix="check the disk and permissions; if the shard is damaged, restore it from "
                "an export (`xsearch import-collection`) or re-index",
            ) from err
        _create_indexes(shard)
        return shard

    # --- collections ------------------------------------------------------------
    def create_collection(self, spec: CollectionSpec) -> None:
        d = self._dir(spec.name)
        with self._lock:
            self._own_store()  # before the sidecar: a second process must not write one
            if (d / META_FILE).exists():
                check_compatible(spec.name, self.get_meta(spec.name), spec.fingerprint, spec.bundle)
                self._shard(spec.name)
                return
            self._config(spec.dimension, spec.distance)  # validates the distance early
            meta = {
                "format": "xsearch-collection/1",
                "fingerprint": spec.fingerprint,
                "bundle": spec.bundle,
                "dimension": spec.dimension,
                "distance": spec.distance,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "lexical_modifier": "idf",
            }
            d.mkdir(parents=True, exist_ok=True)
            _write_json(d / META_FILE, meta)
            self._shard(spec.name)

    def list_collections(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / META_FILE).is_file())

    def delete_collection(self, name: str) -> None:
        d = self._dir(name)
        with self._lock:
            self._shard(name)  # take the lock first: never delete another process's shard
            self._shards.pop(name).close()
            self._meta.pop(name, None)
            (d / META_FILE).unlink()
            shutil.rmtree(d)

    def ensure_compatible(self, name: str, fingerprint: str, bundle: str) -> None:
        with self._lock:  # no copy of the metadata: this runs on every query
            meta = self._meta.get(name)
        check_compatible(
            name, meta if meta is not None else self.get_meta(name), fingerprint, bundle
        )

    def get_meta(self, name: str) -> dict:
        """A shallow copy: change it through set_meta, never in place."""
        with self._lock:
            if name in self._meta:
                return dict(self._meta[name])
            path = self._dir(name) / META_FILE
            if not path.is_file():
                raise not_found(name)
            meta = _read_meta(path)
            if name in self._shards:  # only the owner may trust its cache
                self._meta[name] = meta
            return dict(meta)

    def set_meta(self, name: str, meta: dict) -> None:
        with self._lock:
            self._shard(name)
            _write_json(self._dir(name) / META_FILE, meta)
            self._meta[name] = dict(meta)

    # --- points -------------------------------------------------------------------
    def upsert(self, name: str, points: Sequence[PointRecord], *, wait: bool = True) -> None:
        import qdrant_edge as q

        shard = self._shard(name)
        dim = int(self.get_meta(name)["dimension"])
        for start in range(0, len(points), _UPSERT_CHUNK):
            batch = [_edge_point(p, dim) for p in points[start : start + _UPSERT_CHUNK]]
            shard.update(q.UpdateOperation.upsert_points(batch))
        # wait is moot here: an Edge update is applied (and in the WAL) when it returns.

    def delete_points(self, name: str, ids: Sequence[str]) -> None:
        import qdrant_edge as q

        if ids:
            self._shard(name).update(q.UpdateOperation.delete_points([str(i) for i in ids]))

    def delete_documents(self, name: str, doc_ids: Sequence[str]) -> int:
        import qdrant_edge as q

        if not doc_ids:
            return 0
        flt = filters.to_edge(SearchFilter(doc_ids=list(doc_ids)))
        shard = self._shard(name)
        with self._lock:  # count and delete as one step for this process
            n = shard.count(q.CountRequest(exact=True, filter=flt))
            shard.update(q.UpdateOperation.delete_points_by_filter(flt))
        return n

    def document_state(self, name: str, doc_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        import qdrant_edge as q

        if not doc_ids:
            return {}
        recs = self._shard(name).retrieve(
            doc_state_ids(doc_ids),
            with_payload=q.PayloadSelector.Include(["doc_id", "content_hash", "n_passages"]),
            with_vector=False,
        )
        return state_from_payloads(r.payload for r in recs)

    def retrieve(
        self, name: str, ids: Sequence[str], *, with_vectors: bool = False
    ) -> list[ScoredPoint]:
        if not ids:
            return []
        recs = self._shard(name).retrieve(
            [str(i) for i in ids], with_payload=True, with_vector=with_vectors
        )
        by_id = {str(r.id): to_scored(r, 0.0) for r in recs}
        return [by_id[str(i)] for i in ids if str(i) in by_id]

    # --- search ---------------------------------------------------------------------
    def _params(self, exact: bool = False) -> Any:
        import qdrant_edge as q

        return q.SearchParams(hnsw_ef=self.hnsw_ef, exact=exact)

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
    ) -> list[ScoredPoint]:
        import qdrant_edge as q

        check_using(using)
        req = q.QueryRequest(
            limit=k,
            offset=offset or None,
            query=q.Query.Nearest(dense_list(vector), using=using),
            filter=filters.to_edge(flt),
            with_payload=True,
            with_vector=with_vectors,
            score_threshold=score_threshold,
            params=self._params(exact),
        )
        return [to_scored(r, r.score) for r in self._shard(name).query(req)]

    def query_lexical(
        self,
        name: str,
        sparse: tuple[list[int], list[float]],
        *,
        k: int = 10,
        flt: SearchFilter | None = None,
    ) -> list[ScoredPoint]:
        import qdrant_edge as q

        req = q.QueryRequest(
            limit=k,
            query=q.Query.Nearest(q.SparseVector(*sparse_pair(sparse)), using=LEXICAL),
            filter=filters.to_edge(flt),
            with_payload=True,
        )
        return [to_scored(r, r.score) for r in self._shard(name).query(req)]

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
        import qdrant_edge as q

        check_using(using_dense)
        f = filters.to_edge(flt)
        pre = [
            q.Prefetch(
                limit=prefetch_k,
                query=q.Query.Nearest(dense_list(dense), using=using_dense),
                filter=f,
                params=self._params(),
            ),
            q.Prefetch(
                limit=prefetch_k,
                query=q.Query.Nearest(q.SparseVector(*sparse_pair(sparse)), using=LEXICAL),
                filter=f,
            ),
        ]
        req = q.QueryRequest(
            limit=k,
            offset=offset or None,
            query=q.Fusion.Rrf(k=rrf_k, weights=list(weights) if weights else None),
            prefetches=pre,
            filter=f,
            with_payload=True,
        )
        return [to_scored(r, r.score) for r in self._shard(name).query(req)]

    def scroll(
        self,
        name: str,
        *,
        batch: int = 512,
        with_vectors: bool = True,
        flt: SearchFilter | None = None,
    ) -> Iterator[ScoredPoint]:
        import qdrant_edge as q

        shard = self._shard(name)
        f = filters.to_edge(flt)
        offset = None
        while True:
            recs, offset = shard.scroll(
                q.ScrollRequest(
                    offset=offset,
                    limit=batch,
                    filter=f,
                    with_payload=True,
                    with_vector=with_vectors,
                )
            )
            for r in recs:
                yield to_scored(r, 0.0)
            if offset is None or not recs:
                return

    def count(self, name: str, flt: SearchFilter | None = None) -> int:
        import qdrant_edge as q

        return self._shard(name).count(q.CountRequest(exact=True, filter=filters.to_edge(flt)))

    def stats(self, name: str) -> CollectionStats:
        import qdrant_edge as q

        shard = self._shard(name)
        meta = self.get_meta(name)
        info = shard.info()
        has = {n: _count_with_vector(shard, n) for n in (*DENSE_VECTORS, LEXICAL)}
        facet = shard.facet(q.FacetRequest("lang", limit=100_000, exact=True))
        docs = shard.count(
            q.CountRequest(exact=True, filter=filters.to_edge(None, filters.passage_zero()))
        )
        points = shard.count(q.CountRequest(exact=True))
        return CollectionStats(
            name=name,
            points=points,
            documents=docs,
            languages={str(h.value): int(h.count) for h in facet.hits},
            dimension=int(meta["dimension"]),
            fingerprint=meta["fingerprint"],
            bundle=meta.get("bundle", "?"),
            disk_bytes=_disk_bytes(self._dir(name)),
            # indexed_vectors_count counts every named vector, sparse ones included
            # (always indexed). HNSW is built per segment above the indexing
            # threshold; small collections stay on (fast) full scan: not indexed.
            indexed=has[DENSE] > 0
            and info.indexed_vectors_count - has[LEXICAL] >= has[DENSE] + has[CENTERED],
            meta=meta,
        )

    def optimize(self, name: str) -> None:
        shard = self._shard(name)
        _create_indexes(shard)
        shard.optimize()
        # The replaced segments stay on disk until the next flush: drop them now.
        shard.flush()

    def flush(self, name: str) -> None:
        self._shard(name).flush()

    def close(self) -> None:
        with self._lock:
            for shard in self._shards.values():
                shard.close()
            self._shards.clear()
            self._meta.clear()
            if self._owner is not None:
                self._owner.release()
                self._owner = None


# --- the store lock ------------------------------------------------------------------
LOCK_FILE = "store.lock"
_LOCKED_FIX = (
    "send documents and queries to that process with --api URL (for example "
    "`xsearch index --api http://127.0.0.1:8000 ...`), or stop it first, or use a Qdrant "
    "server (XSEARCH_QDRANT_URL) that many processes can share"
)


class _StoreLock:
    """An exclusive flock on ``<root>/store.lock``, shared by the EdgeStores of one process.

    flock belongs to an open file, so two EdgeStores of one process on the same
    root would lock each other out: they share one lock, counted. The file
    holds the holder's pid and command line, for the message another process
    gets; it is never deleted (deleting a lock file races with its next taker).
    """

    _held: dict[Path, _StoreLock] = {}
    _guard = threading.Lock()

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd
        self.users = 1

    @classmethod
    def take(cls, root: Path) -> _StoreLock:
        import fcntl

        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        path = (root / LOCK_FILE).resolve()
        with cls._guard:
            held = cls._held.get(path)
            if held is not None:
                held.users += 1
                return held
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                os.close(fd)
                raise StoreLocked(
                    f"the embedded store at {root} is in use by {holder}",
                    fix=_LOCKED_FIX,
                ) from None
            except OSError as err:
                os.close(fd)
                raise StoreError(
                    f"cannot lock the embedded store at {root}: {err}",
                    fix="check the permissions of the folder (XSEARCH_HOME)",
                ) from err
            info = {"pid": os.getpid(), "argv": sys.argv, "since": time.time()}
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode("utf-8", "replace"), 0)
            lock = cls._held[path] = cls(path, fd)
            return lock

    def release(self) -> None:
        import fcntl

        with self._guard:
            self.users -= 1
            if self.users > 0:
                return
            self._held.pop(self.path, None)
            try:
                os.ftruncate(self.fd, 0)  # no stale pid for the next reader
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            finally:
                os.close(self.fd)


def _holder(fd: int) -> str:
    """'process 123 (`xsearch serve --port 8000`)', from the lock file's contents."""
    try:
        info = json.loads(os.pread(fd, 65536, 0).decode("utf-8", "replace"))
        argv = [os.path.basename(str(info["argv"][0]))] + [str(a) for a in info["argv"][1:]]
        if argv[0].startswith("python") and argv[1:3] == ["-m", "xsearch.cli.main"]:
            argv = ["xsearch", *argv[3:]]
        return f"process {int(info['pid'])} (`{' '.join(argv)[:200]}`)"
    except (ValueError, KeyError, TypeError, IndexError):
        return "another process (it has not written its pid yet)"


# --- helpers ----------------------------------------------------------------------
def _read_meta(path: Path) -> dict:
    """The sidecar, or a StoreError naming the file and the fix when it is damaged."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:  # JSONDecodeError is a ValueError
        raise StoreError(
            f"the collection metadata file {path} is damaged ({err})",
            fix="restore it from a backup or an export (`xsearch import-collection`); "
            "or delete the collection's folder and re-index",
        ) from None
    except OSError as err:
        raise StoreError(
            f"cannot read the collection metadata file {path}: {err}",
            fix="check the disk and permissions",
        ) from err
    if not isinstance(meta, dict) or "dimension" not in meta or "fingerprint" not in meta:
        raise StoreError(
            f"the collection metadata file {path} is damaged (not an xsearch collection "
            "record: no dimension or fingerprint)",
            fix="restore it from a backup or an export (`xsearch import-collection`); "
            "or delete the collection's folder and re-index",
        )
    return meta


def _create_indexes(shard: Any) -> None:
    """Keyword indexes on doc_id and lang, an integer index on passage (idempotent).

    Only ``lang`` takes part in HNSW building (extra filter-aware links per
    language, so a language filter stays fast and accurate after optimize).
    doc_id and passage values select a handful of points each, where Qdrant
    reads the payload index directly; extra graphs for them would only slow
    the build down.
    """
    import qdrant_edge as q

    have = set(shard.info().payload_schema)
    wanted = {
        "lang": q.KeywordIndexParams(enable_hnsw=True),
        "doc_id": q.KeywordIndexParams(enable_hnsw=False),
        "passage": q.IntegerIndexParams(lookup=True, range=True, enable_hnsw=False),
    }
    for field_name, params in wanted.items():
        if field_name not in have:
            shard.update(q.UpdateOperation.create_field_index(field_name, params))


def _count_with_vector(shard: Any, vector: str) -> int:
    import qdrant_edge as q

    flt = q.Filter(must=[q.HasVectorCondition(vector)])
    return int(shard.count(q.CountRequest(exact=True, filter=flt)))


def _edge_point(p: PointRecord, dim: int) -> Any:
    import qdrant_edge as q

    vec: dict[str, Any] = {}
    for vname, v in p.vectors.items():
        check_using(vname)
        vec[vname] = dense_list(v, dim)
    for sname, pair in p.sparse.items():
        if sname != LEXICAL:
            raise InputError(f"unknown sparse vector {sname!r}", fix=f"use {LEXICAL!r}")
        idx, val = sparse_pair(pair)
        vec[sname] = q.SparseVector(indices=idx, values=val)
    return q.Point(str(p.id), vec, p.payload)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _disk_bytes(path: Path) -> int:
    # Allocated blocks, not st_size: Qdrant preallocates sparse 32 MiB files.
    return sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file())
