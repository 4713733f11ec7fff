"""GET /collections and GET /collections/{c} (statistics)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import ApiState, CollectionName, ReadAccess, StateDep
from api.errors import responses
from xsearch.errors import XSearchError
from xsearch.schemas import CollectionInfo, CollectionList, CollectionSummary

router = APIRouter(prefix="/collections", tags=["collections"], dependencies=[ReadAccess])


def _summaries(state: ApiState) -> list[CollectionSummary]:
    engine = state.ready_engine()
    store, fingerprint = engine.store, engine.encoder.fingerprint
    out = []
    for name in store.list_collections():
        try:
            meta = store.get_meta(name)
        except XSearchError:  # deleted between the listing and this read
            continue
        out.append(CollectionSummary(
            name=name, bundle=meta.get("bundle"), compatible=meta.get("fingerprint") == fingerprint
        ))
    return out


@router.get("", response_model=CollectionList, responses=responses(401, 503))
async def list_collections(state: StateDep) -> CollectionList:
    return CollectionList(collections=await run_in_threadpool(_summaries, state))


def _info(state: ApiState, name: str) -> CollectionInfo:
    engine = state.ready_engine()
    s = engine.store.stats(name)
    # s.meta is left out on purpose: it may hold large per-language vectors.
    return CollectionInfo(
        name=s.name, points=s.points, documents=s.documents, languages=s.languages,
        dimension=s.dimension, fingerprint=s.fingerprint, bundle=s.bundle,
        disk_bytes=s.disk_bytes, indexed=s.indexed,
        compatible=s.fingerprint == engine.encoder.fingerprint,
    )


@router.get("/{collection}", response_model=CollectionInfo, responses=responses(401, 404, 422, 503))
async def collection_info(collection: CollectionName, state: StateDep) -> CollectionInfo:
    return await run_in_threadpool(_info, state, collection)
