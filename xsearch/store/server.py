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
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from xsearch.errors import InputError, StoreError, XSearchError
from xsearch.store import filters
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

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

    from xsearch.settings import Settings

T = TypeVar("T")
_UPSERT_CHUNK = 512
_META_TTL_S = 5.0  # other processes may change metadata; re-read it at most this stale
_DISTANCES = {"cosine": "COSINE", "dot": "DOT", "euclid": "EUCLID"}


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
    def create_collection(self, spec: CollectionSpec) -> None:
        from qdrant_client import models as m

        validate_name(spec.name)
        if self._call(None, lambda: self.client.collection_exists(spec.name)):
            check_compatible(spec.name, self.get_meta(spec.name), spec.fingerprint, spec.bundle)
            return
        if spec.distance not in _DISTANCES:
            raise InputError(f"unknown distance {spec.distance!r}", fix="use cosine, dot or euclid")
        dist = getattr(m.Distance, _DISTANCES[spec.distance])
        meta = {
            "format": "xsearch-collection/1",
            "fingerprint": spec.fingerprint,
            "bundle": spec.bundle,
            "dimension": spec.dimension,
            "distance": spec.distance,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "lexical_modifier": "idf",
        }
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
        for field_name, schema in (
            ("doc_id", m.PayloadSchemaType.KEYWORD),
            ("lang", m.PayloadSchemaType.KEYWORD),
            ("passage", m.PayloadSchemaType.INTEGER),
        ):
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

    def set_meta(self, name: str, meta: dict) -> None:
        old = self.get_meta(name)
        update = {**{k: None for k in old if k not in meta}, **meta}
        self._call(name, lambda: self.client.update_collection(name, metadata=update))
        self._meta[name] = (time.monotonic(), dict(meta))

    # --- points ----------------------------------------------------------------------
    def upsert(self, name: str, points: Sequence[PointRecord], *, wait: bool = True) -> None:
        dim = int(self.get_meta(name)["dimension"])
        for start in range(0, len(points), _UPSERT_CHUNK):
            batch = [_server_point(p, dim) for p in points[start : start + _UPSERT_CHUNK]]
            self._call(name, lambda b=batch: self.client.upsert(name, points=b, wait=wait))

    def delete_points(self, name: str, ids: Sequence[str]) -> None:
        from qdrant_client import models as m

        if ids:
            sel = m.PointIdsList(points=[str(i) for i in ids])
            self._call(name, lambda: self.client.delete(name, points_selector=sel, wait=True))

    def delete_documents(self, name: str, doc_ids: Sequence[str]) -> int:
        from qdrant_client import models as m

        if not doc_ids:
            return 0
        f = filters.to_server(SearchFilter(doc_ids=list(doc_ids)))
        n = self.count(name, SearchFilter(doc_ids=list(doc_ids)))
        sel = m.FilterSelector(filter=f)
        self._call(name, lambda: self.client.delete(name, points_selector=sel, wait=True))
        return n

    def document_state(self, name: str, doc_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        if not doc_ids:
            return {}
        recs = self._call(
            name,
            lambda: self.client.retrieve(
                name,
                ids=doc_state_ids(doc_ids),
                with_payload=["doc_id", "content_hash", "n_passages"],
                with_vectors=False,
            ),
        )
        return state_from_payloads(r.payload for r in recs)

    def retrieve(
        self, name: str, ids: Sequence[str], *, with_vectors: bool = False
    ) -> list[ScoredPoint]:
        if not ids:
            return []
        recs = self._call(
            name,
            lambda: self.client.retrieve(
                name, ids=[str(i) for i in ids], with_payload=True, with_vectors=with_vectors
            ),
        )
        by_id = {str(r.id): to_scored(r, 0.0) for r in recs}
        return [by_id[str(i)] for i in ids if str(i) in by_id]

    # --- search ----------------------------------------------------------------------
    def _params(self, exact: bool = False) -> Any:
        from qdrant_client import models as m

        quant = m.QuantizationSearchParams(rescore=True) if self.quantization else None
        return m.SearchParams(hnsw_ef=self.hnsw_ef, exact=exact, quantization=quant)

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
        check_using(using)
        vec = dense_list(vector)
        res = self._call(
            name,
            lambda: self.client.query_points(
                name,
                query=vec,
                using=using,
                query_filter=filters.to_server(flt),
                search_params=self._params(exact),
                limit=k,
                offset=offset or None,
                with_payload=True,
                with_vectors=with_vectors,
                score_threshold=score_threshold,
            ),
        )
        return [to_scored(p, p.score) for p in res.points]

    def query_lexical(
        self,
        name: str,
        sparse: tuple[list[int], list[float]],
        *,
        k: int = 10,
        flt: SearchFilter | None = None,
    ) -> list[ScoredPoint]:
        from qdrant_client import models as m

        idx, val = sparse_pair(sparse)
        res = self._call(
            name,
            lambda: self.client.query_points(
                name,
                query=m.SparseVector(indices=idx, values=val),
                using=LEXICAL,
                query_filter=filters.to_server(flt),
                limit=k,
                with_payload=True,
            ),
        )
        return [to_scored(p, p.score) for p in res.points]

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
        from qdrant_client import models as m

        check_using(using_dense)
        f = filters.to_server(flt)
        idx, val = sparse_pair(sparse)
        sv = m.SparseVector(indices=idx, values=val)
        pre = [
            m.Prefetch(
                query=dense_list(dense),
                using=using_dense,
                limit=prefetch_k,
                filter=f,
                params=self._params(),
            ),
            m.Prefetch(query=sv, using=LEXICAL, limit=prefetch_k, filter=f),
        ]
        fusion = m.RrfQuery(rrf=m.Rrf(k=rrf_k, weights=list(weights) if weights else None))
        res = self._call(
            name,
            lambda: self.client.query_points(
                name,
                prefetch=pre,
                query=fusion,
                query_filter=f,
                limit=k,
                offset=offset or None,
                with_payload=True,
            ),
        )
        return [to_scored(p, p.score) for p in res.points]

    def scroll(
        self,
        name: str,
        *,
        batch: int = 512,
        with_vectors: bool = True,
        flt: SearchFilter | None = None,
    ) -> Iterator[ScoredPoint]:
        f = filters.to_server(flt)
        offset = None
        while True:
            recs, offset = self._call(
                name,
                lambda o=offset: self.client.scroll(
                    name,
                    scroll_filter=f,
                    limit=batch,
                    offset=o,
                    with_payload=True,
                    with_vectors=with_vectors,
                ),
            )
            for r in recs:
                yield to_scored(r, 0.0)
            if offset is None or not recs:
                return

    def count(self, name: str, flt: SearchFilter | None = None) -> int:
        return self._count(name, filters.to_server(flt))

    def _count(self, name: str, f: Any) -> int:
        res = self._call(name, lambda: self.client.count(name, count_filter=f, exact=True))
        return int(res.count)

    def stats(self, name: str) -> CollectionStats:
        meta = self.get_meta(name)
        info = self._call(name, lambda: self.client.get_collection(name))
        facet = self._call(
            name, lambda: self.client.facet(name, key="lang", limit=100_000, exact=True)
        )
        points = self._count(name, None)
        indexed = int(info.indexed_vectors_count or 0)
        return CollectionStats(
            name=name,
            points=points,
            documents=self._count(name, filters.to_server(None, filters.passage_zero())),
            languages={str(h.value): int(h.count) for h in facet.hits},
            dimension=int(meta["dimension"]),
            fingerprint=meta["fingerprint"],
            bundle=meta.get("bundle", "?"),
            disk_bytes=None,  # not exposed per collection by the server API
            indexed=points > 0 and indexed >= points,
            meta=meta,
        )

    def optimize(self, name: str) -> None:
        # The server indexes in the background by itself; nothing to trigger.
        self.get_meta(name)

    def close(self) -> None:
        self.client.close()


def _server_point(p: PointRecord, dim: int) -> Any:
    from qdrant_client import models as m

    vec: dict[str, Any] = {}
    for vname, v in p.vectors.items():
        check_using(vname)
        vec[vname] = dense_list(v, dim)
    for sname, pair in p.sparse.items():
        if sname != LEXICAL:
            raise InputError(f"unknown sparse vector {sname!r}", fix=f"use {LEXICAL!r}")
        idx, val = sparse_pair(pair)
        vec[sname] = m.SparseVector(indices=idx, values=val)
    return m.PointStruct(id=str(p.id), vector=vec, payload=p.payload)
