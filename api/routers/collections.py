"""GET /collections and GET /collections/{c} (statistics)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from xsearch.api.deps import CollectionName, ReadAccess, StateDep
from xsearch.api.errors import responses

from xsearch.schemas import CollectionInfo, CollectionList

router = APIRouter(prefix="/collections", tags=["collections"], dependencies=[ReadAccess])


@router.get("", response_model=CollectionList, responses=responses(401, 503))
async def list_collections(state: StateDep) -> CollectionList:
    engine = state.ready_engine()
    return CollectionList(collections=await run_in_threadpool(engine.collections))


@router.get("/{collection}", response_model=CollectionInfo, responses=responses(401, 404, 422, 503))
async def collection_info(collection: CollectionName, state: StateDep) -> CollectionInfo:
    return await run_in_threadpool(state.ready_engine().stats, collection)
