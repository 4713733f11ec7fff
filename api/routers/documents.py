"""POST /collections/{c}/documents, GET and DELETE /collections/{c}/documents/{id}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool

from api.deps import CheckedBody, CollectionName, ReadAccess, StateDep, WriteAccess
from api.errors import responses
from api.limits import check_batch
from xsearch.errors import DocumentNotFound
from xsearch.schemas import (
    DeleteResponse,
    IndexRequest,
    IndexResponse,
    StoredDocument,
)

router = APIRouter(prefix="/collections/{collection}/documents", tags=["documents"])

# Document ids may hold slashes (file paths relative to a folder): take the rest of the path.
DocId = Annotated[str, Path(description="document id", examples=["faq/reset-password.md"])]


@router.post(
    "",
    response_model=IndexResponse,
    dependencies=[WriteAccess, CheckedBody],
    responses=responses(400, 401, 409, 413, 422, 503),
    summary="Index a batch of documents (creates the collection on first use)",
)
async def index_documents(
    collection: CollectionName, body: IndexRequest, state: StateDep
) -> IndexResponse:
    check_batch(len(body.documents), state.settings)
    engine = state.ready_engine()
    # Engine.add validates each document (a bad one is rejected in its place) and
    # indexes the rest; the asyncio lock keeps waiting writers off the thread pool.
    async with state.write_lock:
        resp = await run_in_threadpool(engine.add, body.documents, collection=collection)
    for status, n in (("indexed", resp.indexed), ("unchanged", resp.unchanged),
                      ("rejected", resp.rejected)):
        if n:
            state.metrics.documents.inc(status, amount=n)
    return resp


@router.get(
    "/{doc_id:path}",
    response_model=StoredDocument,
    dependencies=[ReadAccess],
    responses=responses(401, 404, 422, 503),
    summary="A stored document, rebuilt from its passages",
)
async def get_document(
    collection: CollectionName, doc_id: DocId, state: StateDep
) -> StoredDocument:
    doc = await run_in_threadpool(state.ready_engine().get, doc_id, collection=collection)
    if doc is None:
        raise _missing(collection, doc_id)
    return doc


@router.delete(
    "/{doc_id:path}",
    response_model=DeleteResponse,
    dependencies=[WriteAccess],
    responses=responses(401, 404, 422, 503),
    summary="Delete a document (every passage of it)",
)
async def delete_document(
    collection: CollectionName, doc_id: DocId, state: StateDep
) -> DeleteResponse:
    engine = state.ready_engine()
    async with state.write_lock:
        removed = await run_in_threadpool(engine.delete, doc_id, collection=collection)
    if removed == 0:
        raise _missing(collection, doc_id)
    return DeleteResponse(collection=collection, id=doc_id, deleted_passages=removed)


def _missing(collection: str, doc_id: str) -> DocumentNotFound:
    return DocumentNotFound(
        f"no document {doc_id!r} in collection {collection!r}",
        fix="check the id (GET /search shows the ids of hits)",
    )
