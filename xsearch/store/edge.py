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

import contextlib
import json
import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from xsearch.errors import StoreError, StoreLocked
from xsearch.store import base, filters, rankmap
from xsearch.store.base import (
    CollectionStats,
    Store,
    check_compatible,
    check_distance,
    new_meta,
    not_found,
    validate_name,
)
from xsearch.store.payload import INTEGER_FIELDS, KEYWORD_FIELDS, LANG
from xsearch.store.records import (
    CENTERED,
    DENSE,
    DENSE_VECTORS,
    LEXICAL,
    PointRecord,
    point_vectors,
    scroll_records,
)

META_FILE = "collection.json"
# Beside the sidecar while this process holds newer statistics in memory (set_meta)
PENDING_FILE = "stats.pending"
SHARD_DIR = "shard"
# Payload fields that get filter-aware HNSW links: a language filter stays fast
# and accurate after optimize (doc_id and passage select a few points each).
_HNSW_FIELDS = frozenset({LANG})
# Up to this many points a collection's first search fills its ranking map itself
# (~0.4 s: 20,000 bench.scale points took 0.82 s, their payloads hold passage text);
# above, a background thread does (EdgeStore._rank_map).
RANK_MAP_SYNC_POINTS = 10_000

log = logging.getLogger(__name__)


class EdgeStore(Store):
    kind = "edge"
    upsert_chunk = 1024

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
        # collections whose metadata in memory is newer than their file (set_meta)
        self._meta_pending: set[str] = set()
        # per collection: point id -> (doc_id, lang), so that search candidates
        # need no payload (rankmap.py); kept in step by every write below
        self._maps: dict[str, rankmap.RankMap] = {}
        self._fills: dict[str, threading.Thread] = {}  # maps being filled in the background
        self._lock = threading.RLock()
        self._owner: _StoreLock | None = None

    # --- paths and opening ----------------------------------------------------
    def _dir(self, name: str) -> Path:
        return self.root / validate_name(name)

    def _config(self, dimension: int, distance: str) -> Any:
        import qdrant_edge as q

        dist = getattr(q.Distance, check_distance(distance).capitalize())  # Cosine, Dot, Euclid
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
    def create_collection(self, spec: base.CollectionSpec) -> None:
        d = self._dir(spec.name)
        with self._lock:
            self._own_store()  # before the sidecar: a second process must not write one
            if (d / META_FILE).exists():
                check_compatible(spec.name, self.get_meta(spec.name), spec.fingerprint, spec.bundle)
                self._shard(spec.name)
                return
            meta = new_meta(spec)  # validates the distance before anything is written
            d.mkdir(parents=True, exist_ok=True)
            _write_json(d / META_FILE, meta)
            self._shard(spec.name)

    def list_collections(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / META_FILE).is_file())

    def delete_collection(self, name: str) -> None:
        d = self._dir(name)
        self._stop_fill(name)
        with self._lock:
            self._shard(name)  # take the lock first: never delete another process's shard
            self._shards.pop(name).close()
            self._meta.pop(name, None)
            self._meta_pending.discard(name)
            self._maps.pop(name, None)
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
            if (path.parent / PENDING_FILE).exists():  # its last writer died holding them
                meta[base.STATS_PENDING] = True
            if name in self._shards:  # only the owner may trust its cache
                self._meta[name] = meta
            return dict(meta)

    def set_meta(self, name: str, meta: dict, *, defer: bool = False) -> None:
        """Write the sidecar now, or (``defer``) keep it in memory until ``flush_meta``
        (``flush``, ``close``; the API server flushes every XSEARCH_STATS_SAVE_S).

        The sidecar holds the language statistics, hundreds of floats per language,
        and an API write of 10 documents changed them on every commit: a JSON dump
        + fsync under the collection's lock, ~6% of the server's CPU with 20
        writers. The first deferred change creates the empty file ``PENDING_FILE``
        beside it (removed by the flush, after the sidecar is written): a process
        killed before the flush leaves it, and ``get_meta`` then says
        ``STATS_PENDING``: the statistics may lag the points and are recomputed
        (``RankingData.means``; ``xsearch check`` reports it meanwhile).
        """
        with self._lock:
            self._shard(name)
            meta = {k: v for k, v in meta.items() if k != base.STATS_PENDING}
            self._meta[name] = dict(meta)
            if not defer:
                self._write_meta(name)
            elif name not in self._meta_pending:
                _touch(self._dir(name) / PENDING_FILE)
                self._meta_pending.add(name)

    def _write_meta(self, name: str) -> None:
        """The sidecar from memory, then the pending mark gone (a crash in between
        leaves the mark: a needless recompute, never stale statistics)."""
        d = self._dir(name)
        _write_json(d / META_FILE, self._meta[name])
        self._meta_pending.discard(name)
        (d / PENDING_FILE).unlink(missing_ok=True)

    def flush_meta(self, name: str | None = None) -> None:
        """Write the metadata held in memory (of every collection by default) now."""
        with self._lock:
            for coll in [name] if name is not None else sorted(self._meta_pending):
                if coll in self._meta_pending and coll in self._meta:
                    self._write_meta(coll)

    # --- points -------------------------------------------------------------------
    def _upsert(self, name: str, points: Sequence[PointRecord], dim: int, wait: bool) -> None:
        import qdrant_edge as q

        batch = [
            q.Point(str(p.id), point_vectors(p, dim, q.SparseVector), p.payload) for p in points
        ]
        shard = self._shard(name)
        rmap = self._maps.get(name)
        # the map learns a point before the shard holds it: a hit is never unknown
        with self._map_kept(name):
            if rmap is not None:
                rmap.put((p.id, p.payload) for p in points)
            # wait is moot here: an Edge update is applied (and in the WAL) when it returns.
            shard.update(q.UpdateOperation.upsert_points(batch))

    def delete_points(self, name: str, ids: Sequence[str]) -> None:
        import qdrant_edge as q

        if ids:
            shard = self._shard(name)
            with self._map_kept(name):
                shard.update(q.UpdateOperation.delete_points([str(i) for i in ids]))
                if (rmap := self._maps.get(name)) is not None:
                    rmap.drop(ids)

    def _delete_matching(self, name: str, flt: base.SearchFilter) -> int:
        import qdrant_edge as q

        f = filters.to_edge(flt)
        shard = self._shard(name)
        with self._lock, self._map_kept(name):  # count and delete as one step for this process
            if (rmap := self._maps.get(name)) is None:
                n = shard.count(q.CountRequest(exact=True, filter=f))
            else:  # the map must forget them: their ids, not only how many
                ids = [r.id for r in _scroll_all(shard, f, with_payload=False)]
                n = len(ids)
            shard.update(q.UpdateOperation.delete_points_by_filter(f))
            if rmap is not None:
                rmap.drop(ids)
        return n

    @contextlib.contextmanager
    def _map_kept(self, name: str) -> Iterator[None]:
        """A write that fails half-way leaves the map unsure: drop it (rebuilt on use)."""
        try:
            yield
        except BaseException:
            self._maps.pop(name, None)
            raise

    def warm(self, name: str) -> None:
        """Fill the collection's map now (the server, at start), waiting for a
        background fill that is under way."""
        self._rank_map(name, wait=True)

    def _rank_map(self, name: str, wait: bool = False) -> rankmap.RankMap | None:
        """The collection's map once filled, else None (read payloads instead).

        The first use fills it from a scroll: at once, in this call, for a
        collection of up to RANK_MAP_SYNC_POINTS points; on a background thread
        for a larger one (12 s at 300k points on a busy 2-core machine:
        bench/results/search_cost.json), while searches read payloads: a one-shot
        ``xsearch search`` on a large collection answers without waiting seconds
        for a map it uses once.
        One fill per collection: a search that comes meanwhile reads payloads."""
        rmap = self._maps.get(name)
        if rmap is not None:
            if not rmap.ready and wait and (fill := self._fills.get(name)) is not None:
                fill.join()
                return self._rank_map(name)
            return rmap if rmap.ready else None
        shard = self._shard(name)
        with self._lock:
            if name in self._maps or name in self._fills:
                return None  # being filled (or a dropped fill still stopping)
            # registered before the scroll: writes meanwhile update it (and win)
            rmap = self._maps[name] = rankmap.RankMap()
            if not wait and int(shard.info().points_count) > RANK_MAP_SYNC_POINTS:
                fill = threading.Thread(
                    target=self._fill, args=(name, shard, rmap, True),
                    name=f"xsearch-rank-map-{name}", daemon=True,
                )  # fmt: skip
                self._fills[name] = fill
                fill.start()
                return None
        self._fill(name, shard, rmap, False)
        return rmap if self._maps.get(name) is rmap else None

    def _fill(self, name: str, shard: Any, rmap: rankmap.RankMap, background: bool) -> None:
        """Scroll the collection's ranking keys into ``rmap``, page by page (writers
        wait for one page at most), until done or until the map is dropped (a failed
        write, the collection deleted, the store closed: ``_stop_fill``)."""
        import qdrant_edge as q

        page = _scroll_page_fn(shard, None, q.PayloadSelector.Include(list(rankmap.FIELDS)))
        offset = None
        try:
            # checked before each page: once dropped, the shard is not touched again
            while self._maps.get(name) is rmap:
                records, offset = page(offset)
                rmap.fill(records)
                if offset is None or not records:
                    rmap.finish()
                    return
        except BaseException as err:
            with self._lock:
                if self._maps.get(name) is rmap:
                    del self._maps[name]
            if not background:
                raise
            # searches go on reading payloads; the next first use tries again
            log.warning("collection %r: ranking map not filled (%s)", name, err)
        finally:
            if background:
                with self._lock:
                    if self._fills.get(name) is threading.current_thread():
                        del self._fills[name]

    def _stop_fill(self, name: str) -> None:
        """Stop a background fill of ``name`` and wait for it (before its shard closes)."""
        with self._lock:
            fill = self._fills.get(name)
            if fill is not None and self._maps.get(name) is not None:
                del self._maps[name]  # the fill sees it at its next page and stops
        if fill is not None:
            fill.join()

    def _payloads(self, name: str, ids: list[str], fields: list[str]) -> list[dict | None]:
        import qdrant_edge as q

        selector = q.PayloadSelector.Include(fields)
        recs = self._shard(name).retrieve(ids, with_payload=selector, with_vector=False)
        return [r.payload for r in recs]

    def _retrieve(
        self, name: str, ids: list[str], with_vectors: bool, fields: list[str] | None = None
    ) -> Sequence[Any]:
        payload = True if fields is None else _payload(tuple(fields))
        return self._shard(name).retrieve(ids, with_payload=payload, with_vector=with_vectors)

    # --- search ---------------------------------------------------------------------
    def _params(self, exact: bool = False) -> Any:
        import qdrant_edge as q

        return q.SearchParams(hnsw_ef=self.hnsw_ef, exact=exact)

    def _query(self, name: str, dq: base.DenseQuery) -> Sequence[Any]:
        import qdrant_edge as q

        req = q.QueryRequest(
            limit=dq.k,
            offset=dq.offset or None,
            query=q.Query.Nearest(dq.vector, using=dq.using),
            filter=filters.to_edge(dq.flt),
            with_payload=_payload(dq.fields),
            with_vector=dq.with_vectors,
            score_threshold=dq.score_threshold,
            params=self._params(dq.exact),
        )
        return self._shard(name).query(req)

    def _query_lexical(self, name: str, sq: base.SparseQuery) -> Sequence[Any]:
        import qdrant_edge as q

        req = q.QueryRequest(
            limit=sq.k,
            query=_sparse_nearest(sq),
            filter=filters.to_edge(sq.flt),
            with_payload=_payload(sq.fields),
        )
        return self._shard(name).query(req)

    def _query_hybrid(self, name: str, hq: base.HybridQuery) -> Sequence[Any]:
        import qdrant_edge as q

        f = filters.to_edge(hq.flt)
        dense, sparse = hq.dense, hq.sparse
        pre = [
            q.Prefetch(
                limit=dense.k,
                query=q.Query.Nearest(dense.vector, using=dense.using),
                filter=f,
                params=self._params(),
            ),
            q.Prefetch(limit=sparse.k, query=_sparse_nearest(sparse), filter=f),
        ]
        req = q.QueryRequest(
            limit=hq.k,
            offset=hq.offset or None,
            query=q.Fusion.Rrf(k=hq.rrf_k, weights=hq.weights),
            prefetches=pre,
            filter=f,
            with_payload=_payload(hq.fields),
        )
        return self._shard(name).query(req)

    def _scroll_page(
        self, name: str, offset: Any, batch: int, with_vectors: bool, flt: base.SearchFilter | None
    ) -> tuple[Sequence[Any], Any]:
        import qdrant_edge as q

        req = q.ScrollRequest(
            offset=offset,
            limit=batch,
            filter=filters.to_edge(flt),
            with_payload=True,
            with_vector=with_vectors,
        )
        return self._shard(name).scroll(req)

    def count(self, name: str, flt: base.SearchFilter | None = None) -> int:
        import qdrant_edge as q

        return self._shard(name).count(q.CountRequest(exact=True, filter=filters.to_edge(flt)))

    def stats(self, name: str) -> CollectionStats:
        import qdrant_edge as q

        shard = self._shard(name)
        meta = self.get_meta(name)
        info = shard.info()
        has = {n: _count_with_vector(shard, n) for n in (*DENSE_VECTORS, LEXICAL)}
        facet = shard.facet(q.FacetRequest(LANG, limit=100_000, exact=True))
        docs = shard.count(
            q.CountRequest(exact=True, filter=filters.to_edge(None, filters.passage_zero()))
        )
        points = shard.count(q.CountRequest(exact=True))
        return CollectionStats.from_meta(
            name,
            meta,
            points=points,
            documents=docs,
            languages={str(h.value): int(h.count) for h in facet.hits},
            disk_bytes=_disk_bytes(self._dir(name)),
            # indexed_vectors_count counts every named vector, sparse ones included
            # (always indexed). HNSW is built per segment above the indexing
            # threshold; small collections stay on (fast) full scan: not indexed.
            indexed=has[DENSE] > 0
            and info.indexed_vectors_count - has[LEXICAL] >= has[DENSE] + has[CENTERED],
        )

    def optimize(self, name: str) -> None:
        shard = self._shard(name)
        _create_indexes(shard)
        shard.optimize()
        # The replaced segments stay on disk until the next flush: drop them now.
        shard.flush()

    def flush(self, name: str) -> None:
        self._shard(name).flush()
        self.flush_meta(name)

    def close(self) -> None:
        for name in list(self._fills):
            self._stop_fill(name)
        with self._lock:
            self.flush_meta()  # the statistics held in memory, before the lock goes
            for shard in self._shards.values():
                shard.close()
            self._shards.clear()
            self._meta.clear()
            self._maps.clear()
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
    """The payload indexes of ``payload.KEYWORD_FIELDS`` and ``INTEGER_FIELDS`` (idempotent).

    Only ``lang`` takes part in HNSW building (extra filter-aware links per
    language, so a language filter stays fast and accurate after optimize).
    doc_id and passage values select a handful of points each, where Qdrant
    reads the payload index directly; extra graphs for them would only slow
    the build down.
    """
    import qdrant_edge as q

    have = set(shard.info().payload_schema)
    wanted = {f: q.KeywordIndexParams(enable_hnsw=f in _HNSW_FIELDS) for f in KEYWORD_FIELDS}
    wanted |= {
        f: q.IntegerIndexParams(lookup=True, range=True, enable_hnsw=f in _HNSW_FIELDS)
        for f in INTEGER_FIELDS
    }
    for field_name, params in wanted.items():
        if field_name not in have:
            shard.update(q.UpdateOperation.create_field_index(field_name, params))


def _scroll_all(shard: Any, flt: Any, with_payload: Any) -> Iterator[Any]:
    """Every record ``flt`` selects (no vectors), page by page."""
    return scroll_records(_scroll_page_fn(shard, flt, with_payload))


def _scroll_page_fn(shard: Any, flt: Any, with_payload: Any) -> Any:
    import qdrant_edge as q

    return lambda offset: shard.scroll(
        q.ScrollRequest(
            offset=offset, limit=4096, filter=flt, with_payload=with_payload, with_vector=False
        )
    )


def _count_with_vector(shard: Any, vector: str) -> int:
    import qdrant_edge as q

    flt = q.Filter(must=[q.HasVectorCondition(vector)])
    return int(shard.count(q.CountRequest(exact=True, filter=flt)))


def _payload(fields: tuple[str, ...] | None) -> Any:
    """What to return of each hit's payload: all of it, only ``fields``, none (``()``)."""
    import qdrant_edge as q

    if fields is None:
        return True
    return q.PayloadSelector.Include(list(fields)) if fields else False


def _sparse_nearest(sq: base.SparseQuery) -> Any:
    import qdrant_edge as q

    return q.Query.Nearest(q.SparseVector(sq.indices, sq.values), using=LEXICAL)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        # dumps, not dump: json.dump encodes in pure Python (the C encoder is used
        # only one-shot), and this file holds the language means (hundreds of
        # floats per language), written after every API write
        fh.write(json.dumps(data, ensure_ascii=False))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _touch(path: Path) -> None:
    """Create ``path`` (empty) and make it durable before the writes it announces."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _disk_bytes(path: Path) -> int:
    # Allocated blocks, not st_size: Qdrant preallocates sparse 32 MiB files.
    return sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file())
