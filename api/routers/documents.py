"""POST /collections/{c}/documents, GET and DELETE /collections/{c}/documents/{id}."""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool
from xsearch.api.deps import (
    ApiState,
    CheckedBody,
    CollectionName,
    ReadAccess,
    StateDep,
    WriteAccess,
)
from xsearch.api.errors import responses
from xsearch.api.limits import check_batch
from xsearch.api.passage_batch import PassageBatcher

from xsearch.documents import Document
from xsearch.errors import DocumentNotFound, InputError, WriteDeadline
from xsearch.indexing import attach_vectors, passage_texts
from xsearch.schemas import (
    DeleteResponse,
    DocResult,
    IndexRequest,
    IndexResponse,
    StoredDocument,
)
from xsearch.text.chunk_pool import ChunkPool

router = APIRouter(prefix="/collections/{collection}/documents", tags=["documents"])

# Document ids may hold slashes (file paths relative to a folder): take the rest of the path.
DocId = Annotated[str, Path(description="document id", examples=["faq/reset-password.md"])]


def _to_documents(body: IndexRequest) -> tuple[list[Document], dict[int, DocResult]]:
    """Documents that pass validation, and a rejection for each one that does not."""
    docs: list[Document] = []
    rejected: dict[int, DocResult] = {}
    for i, d in enumerate(body.documents):
        try:
            docs.append(Document.from_dict(d.model_dump(exclude_none=True)))
        except InputError as err:
            raw_id = None if d.id is None else str(d.id)
            rejected[i] = DocResult(id=raw_id, status="rejected", reason=f"document {i}: {err}")
    return docs, rejected


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
    indexer = _indexer(state)
    # Document.from_dict checks every string (~35 ms for 5 MB): not on the event loop
    docs, rejected = await run_in_threadpool(_to_documents, body)
    # The deadline covers the whole write; the indexer checks it before writing,
    # so a late write stores nothing.
    deadline = time.monotonic() + state.settings.write_deadline_s
    indexed: list[DocResult] = []
    if docs:
        indexed = await _index(state, indexer, collection, docs, deadline)
    it = iter(indexed)
    results = [rejected[i] if i in rejected else next(it) for i in range(len(body.documents))]
    statuses = ("indexed", "unchanged", "rejected", "failed")
    counts = {s: sum(r.status == s for r in results) for s in statuses}
    for status, n in counts.items():
        if n:
            state.metrics.documents.inc(status, amount=n)
    return IndexResponse(collection=collection, results=results, **counts)


@router.get(
    "/{doc_id:path}",
    response_model=StoredDocument,
    dependencies=[ReadAccess],
    responses=responses(401, 404, 422, 503),
    summary="A stored document, rebuilt from its passages",
)
async def get_document(collection: CollectionName, doc_id: DocId, state: StateDep) -> Any:
    doc = await run_in_threadpool(_indexer(state).get_document, collection, doc_id)
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
    indexer = _indexer(state)
    async with state.write_lock(collection):
        removed = await run_in_threadpool(indexer.delete_documents, collection, [doc_id])
    if removed == 0:
        raise _missing(collection, doc_id)
    return DeleteResponse(collection=collection, id=doc_id, deleted_passages=removed)


async def _index(
    state: ApiState, indexer: Any, collection: str, docs: list[Document], deadline: float
) -> list[DocResult]:
    """Chunk, detect and encode beside other writers; lock the collection only to write.

    The pure work (plan against the stored state, passages, vectors) runs
    outside the collection's lock, and the passages go through the shared
    passage batcher, so concurrent writers fill encoder batches together; the
    lock covers only ``commit`` (plan again, write, statistics). Large documents
    are chunked in a worker process (the indexer's chunk pool) and encoded in
    slices (the batcher), so they hold neither this process's GIL nor the
    encoder for long at a time (issue 12).
    """
    batch = await run_in_threadpool(partial(indexer.prepare, collection, docs, deadline=deadline))
    if batch.ready:
        assert state.passages is not None
        # building the texts of thousands of passages is CPU work: not on the event loop
        texts = await run_in_threadpool(passage_texts, batch.ready)
        vectors = await state.passages.encode(texts, deadline=deadline)
        attach_vectors(batch.ready, vectors)
    lock = state.write_lock(collection)
    try:
        await asyncio.wait_for(lock.acquire(), timeout=max(deadline - time.monotonic(), 0.0))
    except TimeoutError:
        raise _late(collection) from None
    try:
        return await run_in_threadpool(
            partial(indexer.commit, collection, batch, deadline=deadline)
        )
    finally:
        lock.release()


def _indexer(state: ApiState) -> Any:
    engine = state.ready_engine()
    if state.indexer is None:
        indexer = engine.indexer
        settings = state.settings
        if settings.chunk_workers > 0 and indexer.chunk_pool is None:
            # the object only: its worker processes start with the first large document
            # (closed by the app's lifespan)
            enc = indexer.encoder
            indexer.chunk_pool = ChunkPool(
                enc.bundle_dir / "tokenizer.json",
                enc.prompts.get("passage", ""),
                enc.max_seq_length,
                workers=settings.chunk_workers,
                min_chars=settings.chunk_process_min_chars,
            )
        state.passages = PassageBatcher(
            partial(indexer.encoder.encode, kind="passage"),
            max_passages=512,
            slice_chars=settings.write_slice_chars,
            call_chars=settings.write_call_chars,
            on_call=partial(_count_call, state),
        )
        state.indexer = indexer
    return state.indexer


def _count_call(state: ApiState, passages: int) -> None:
    state.metrics.write_encode_calls.inc()
    state.metrics.write_encode_passages.inc(amount=passages)


def _late(collection: str) -> WriteDeadline:
    return WriteDeadline(
        f"other writes to collection {collection!r} held it past this write's deadline; "
        "nothing of it was stored",
        fix="retry later, send smaller batches, or raise XSEARCH_WRITE_DEADLINE_S",
    )


def _missing(collection: str, doc_id: str) -> DocumentNotFound:
    return DocumentNotFound(
        f"no document {doc_id!r} in collection {collection!r}",
        fix="check the id (GET /search shows the ids of hits)",
    )
