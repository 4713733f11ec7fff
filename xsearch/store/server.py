"""Server store: qdrant-client against a Qdrant server or cluster.

Tests use ``QdrantClient(":memory:")`` (the same client API) in place of a server.

Collection metadata (fingerprint, bundle, ...) lives in the collection's own
``metadata`` field (Qdrant >= 1.16; qdrant-client 1.20 reads and writes it,
and its local mode keeps it too). No sidecar collection is needed, and the
metadata is deleted together with the collection. A server that drops the
field (too old) is detected at creation and refused with an upgrade hint.
Qdrant *merges* metadata updates, so ``set_meta`` sends removed keys as null
and ``get_meta`` drops null values.

Sparse ``lexical`` uses the IDF modifier (see ``edge.py`` for why).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from xsearch.errors import StoreError, XSearchError
from xsearch.store import base, filters
from xsearch.store.base import (
    CollectionStats,
    Store,
    check_compatible,
    new_meta,
    not_found,
    validate_name,
)
from xsearch.store.payload import INTEGER_FIELDS, KEYWORD_FIELDS, LANG
from xsearch.store.records import CENTERED, DENSE, LEXICAL, PointRecord, point_vectors

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

    from xsearch.settings import Settings

T = TypeVar("T")
_META_TTL_S = 5.0  # other processes may change metadata; re-read it at most this stale


class ServerStore(Store):
    kind = "server"

    def __init__(
        self,
        client: QdrantClient,
        *,
        quantization: bool = False,
        shard_number: int = 1,
        replication_factor: int = 1,
        hnsw_ef: int | None = 128,
        where: str = "the Qdrant server",
    ) -> None:
        self.client = client
        self.quantization = quantization
        self.shard_number = shard_number
        self.replication_factor = replication_factor
        self.hnsw_ef = hnsw_ef
        self.where = where
        self._meta: dict[str, tuple[float, dict]] = {}
        # qdrant-client's in-process mode (tests, demos) warns on every call that
        # payload indexes and search params have no effect there: expected, muted.
        self._local = type(getattr(client, "_client", None)).__name__ == "QdrantLocal"

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerStore:
        from qdrant_client import QdrantClient

        key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        url = settings.qdrant_url or ""
        if url == ":memory:":  # handy for demos and tests: the client's in-process mode
            client = QdrantClient(location=":memory:")
        else:
            client = QdrantClient(url=url, api_key=key, timeout=30)
        return cls(
            client,
            quantization=settings.quantization,
            shard_number=settings.shard_number,
            replication_factor=settings.replication_factor,
            hnsw_ef=settings.hnsw_ef,
            where=f"the Qdrant server at {url}",
        )

    # --- error handling ---------------------------------------------------------
    def _call(self, name: str | None, fn: Callable[[], T]) -> T:
        """Run a client call; turn its errors into ours (not found, unreachable)."""
        try:
            if not self._local:
                return fn()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return fn()
        except XSearchError:
            raise
        except Exception as err:
            if name is not None and not self._exists_quiet(name):
                raise not_found(name) from err
            raise StoreError(
                f"a request to {self.where} failed: {type(err).__name__}: {err}",
                fix="check that the server is running and reachable (XSEARCH_QDRANT_URL, "
                "XSEARCH_QDRANT_API_KEY) and that its version is 1.16 or newer",
            ) from err

    def _exists_quiet(self, name: str) -> bool:
        try:
            return bool(self.client.collection_exists(name))
        except Exception:
            return True  # unreachable: report the original error, not "not found"

    # --- collections ----------------------------------------------------------------
    def create_collection(self, spec: base.CollectionSpec) -> None:
        from qdrant_client import models as m

        validate_name(spec.name)
        if self._call(None, lambda: self.client.collection_exists(spec.name)):
            check_compatible(spec.name, self.get_meta(spec.name), spec.fingerprint, spec.bundle)
            return
        meta = new_meta(spec)  # validates the distance before anything is created
        dist = getattr(m.Distance, spec.distance.upper())  # COSINE, DOT, EUCLID
        quant = None
        if self.quantization:
            # int8 vectors in RAM for the search, originals kept for rescoring.
            quant = m.ScalarQuantization(
                scalar=m.ScalarQuantizationConfig(type=m.ScalarType.INT8, always_ram=True)
            )
        self._call(
            None,
            lambda: self.client.create_collection(
                spec.name,
                # `centered`: p - c_lang un-normalised, dot product (ranking/centering.py)
                vectors_config={
                    DENSE: m.VectorParams(size=spec.dimension, distance=dist),
                    CENTERED: m.VectorParams(size=spec.dimension, distance=m.Distance.DOT),
                },
                sparse_vectors_config={LEXICAL: m.SparseVectorParams(modifier=m.Modifier.IDF)},
                shard_number=self.shard_number,
                replication_factor=self.replication_factor,
                quantization_config=quant,
                metadata=meta,
            ),
        )
        indexes = [(f, m.PayloadSchemaType.KEYWORD) for f in KEYWORD_FIELDS]
        indexes += [(f, m.PayloadSchemaType.INTEGER) for f in INTEGER_FIELDS]
        for field_name, schema in indexes:
            self._call(
                spec.name,
                lambda f=field_name, s=schema: self.client.create_payload_index(
                    spec.name, field_name=f, field_schema=s
                ),
            )
        self._meta.pop(spec.name, None)
        if self.get_meta(spec.name).get("fingerprint") != spec.fingerprint:
            raise StoreError(
                f"{self.where} did not keep the collection metadata of {spec.name!r}",
                fix="upgrade the Qdrant server to 1.16 or newer (collection metadata support)",
            )

    def list_collections(self) -> list[str]:
        cols = self._call(None, lambda: self.client.get_collections().collections)
        # A shared server may hold other applications' collections: list only ours.
        return sorted(c.name for c in cols if self._is_ours(c.name))

    def _is_ours(self, name: str) -> bool:
        try:
            return "fingerprint" in self.get_meta(name)
        except XSearchError:
            return False

    def delete_collection(self, name: str) -> None:
        self.get_meta(name)  # CollectionNotFound when absent
        self._call(name, lambda: self.client.delete_collection(name))
        self._meta.pop(name, None)

    def ensure_compatible(self, name: str, fingerprint: str, bundle: str) -> None:
        cached = self._meta.get(name)  # no copy: this runs on every query
        if cached and time.monotonic() - cached[0] < _META_TTL_S:
            check_compatible(name, cached[1], fingerprint, bundle)
        else:
            check_compatible(name, self.get_meta(name), fingerprint, bundle)

    def get_meta(self, name: str) -> dict:
        """A shallow copy: change it through set_meta, never in place."""
        cached = self._meta.get(name)
        if cached and time.monotonic() - cached[0] < _META_TTL_S:
            return dict(cached[1])
        if not self._call(None, lambda: self.client.collection_exists(name)):
            raise not_found(name)
        info = self._call(name, lambda: self.client.get_collection(name))
        meta = {k: v for k, v in (info.config.metadata or {}).items() if v is not None}
        self._meta[name] = (time.monotonic(), meta)
        return dict(meta)

    def set_meta(self, name: str, meta: dict, *, defer: bool = False) -> None:
        # defer is ignored: other processes may write this collection, so every
        # change goes to the server at once
        old = self.get_meta(name)
        update = {**{k: None for k in old if k not in meta}, **meta}
        self._call(name, lambda: self.client.update_collection(name, metadata=update))
        self._meta[name] = (time.monotonic(), dict(meta))

    # --- points ----------------------------------------------------------------------
    def _upsert(self, name: str, points: Sequence[PointRecord], dim: int, wait: bool) -> None:
        from qdrant_client import models as m

        batch = [
            m.PointStruct(id=str(p.id), vector=point_vectors(p, dim, m.SparseVector),
                          payload=p.payload)
            for p in points
        ]
        self._call(name, lambda: self.client.upsert(name, points=batch, wait=wait))

    def delete_points(self, name: str, ids: Sequence[str]) -> None:
        from qdrant_client import models as m

        if ids:
            sel = m.PointIdsList(points=[str(i) for i in ids])
            self._call(name, lambda: self.client.delete(name, points_selector=sel, wait=True))

    def _delete_matching(self, name: str, flt: base.SearchFilter) -> int:
        from qdrant_client import models as m

        n = self.count(name, flt)
        sel = m.FilterSelector(filter=filters.to_server(flt))
        self._call(name, lambda: self.client.delete(name, points_selector=sel, wait=True))
        return n

    def _payloads(self, name: str, ids: list[str], fields: list[str]) -> list[dict | None]:
        recs = self._call(
            name, lambda: self.client.retrieve(name, ids=ids, with_payload=fields)
        )
        return [r.payload for r in recs]

    def _retrieve(
        self, name: str, ids: list[str], with_vectors: bool, fields: list[str] | None = None
    ) -> Sequence[Any]:
        payload: bool | list[str] = True if fields is None else fields
        return self._call(
            name,
            lambda: self.client.retrieve(
                name, ids=ids, with_payload=payload, with_vectors=with_vectors
            ),
        )

    # --- search ----------------------------------------------------------------------
    def _params(self, exact: bool = False) -> Any:
        from qdrant_client import models as m

        quant = m.QuantizationSearchParams(rescore=True) if self.quantization else None
        return m.SearchParams(hnsw_ef=self.hnsw_ef, exact=exact, quantization=quant)

    def _query(self, name: str, dq: base.DenseQuery) -> Sequence[Any]:
        res = self._call(
            name,
            lambda: self.client.query_points(
                name,
                query=dq.vector,
                using=dq.using,
                query_filter=filters.to_server(dq.flt),
                search_params=self._params(dq.exact),
                limit=dq.k,
                offset=dq.offset or None,
                with_payload=_payload(dq.fields),
                with_vectors=dq.with_vectors,
                score_threshold=dq.score_threshold,
            ),
        )
        return res.points

    def _query_lexical(self, name: str, sq: base.SparseQuery) -> Sequence[Any]:
        res = self._call(
            name,
            lambda: self.client.query_points(
                name,
                query=_sparse(sq),
                using=LEXICAL,
                query_filter=filters.to_server(sq.flt),
                limit=sq.k,
                with_payload=_payload(sq.fields),
            ),
        )
        return res.points

    def _query_hybrid(self, name: str, hq: base.HybridQuery) -> Sequence[Any]:
        from qdrant_client import models as m

        f = filters.to_server(hq.flt)
        dense, sparse = hq.dense, hq.sparse
        pre = [
            m.Prefetch(
                query=dense.vector, using=dense.using, limit=dense.k, filter=f,
                params=self._params(),
            ),
            m.Prefetch(query=_sparse(sparse), using=LEXICAL, limit=sparse.k, filter=f),
        ]
        fusion = m.RrfQuery(rrf=m.Rrf(k=hq.rrf_k, weights=hq.weights))
        res = self._call(
            name,
            lambda: self.client.query_points(
                name,
                prefetch=pre,
                query=fusion,
                query_filter=f,
                limit=hq.k,
                offset=hq.offset or None,
                with_payload=_payload(hq.fields),
            ),
        )
        return res.points

    def _scroll_page(
        self, name: str, offset: Any, batch: int, with_vectors: bool, flt: base.SearchFilter | None
    ) -> tuple[Sequence[Any], Any]:
        return self._call(
            name,
            lambda: self.client.scroll(
                name,
                scroll_filter=filters.to_server(flt),
                limit=batch,
                offset=offset,
                with_payload=True,
                with_vectors=with_vectors,
            ),
        )

    def count(self, name: str, flt: base.SearchFilter | None = None) -> int:
        return self._count(name, filters.to_server(flt))

    def _count(self, name: str, f: Any) -> int:
        res = self._call(name, lambda: self.client.count(name, count_filter=f, exact=True))
        return int(res.count)

    def stats(self, name: str) -> CollectionStats:
        meta = self.get_meta(name)
        info = self._call(name, lambda: self.client.get_collection(name))
        facet = self._call(
            name, lambda: self.client.facet(name, key=LANG, limit=100_000, exact=True)
        )
        points = self._count(name, None)
        indexed = int(info.indexed_vectors_count or 0)
        return CollectionStats.from_meta(
            name,
            meta,
            points=points,
            documents=self._count(name, filters.to_server(None, filters.passage_zero())),
            languages={str(h.value): int(h.count) for h in facet.hits},
            disk_bytes=None,  # not exposed per collection by the server API
            indexed=points > 0 and indexed >= points,
        )

    def optimize(self, name: str) -> None:
        # The server indexes in the background by itself; nothing to trigger.
        self.get_meta(name)

    def close(self) -> None:
        self.client.close()


def _sparse(sq: base.SparseQuery) -> Any:
    from qdrant_client import models as m

    return m.SparseVector(indices=sq.indices, values=sq.values)


def _payload(fields: tuple[str, ...] | None) -> bool | list[str]:
    """What to return of each hit's payload: all of it, only ``fields``, none (``()``)."""
    if fields is None:
        return True
    return list(fields) if fields else False
