"""POST /encode: the server's encoder, for clients that want vectors (``xsearch.Client.encode``)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from xsearch.api.deps import ReadAccess, StateDep
from xsearch.api.errors import responses

from xsearch.errors import LimitExceeded
from xsearch.schemas import EncodeRequest, EncodeResponse

router = APIRouter(tags=["encode"], dependencies=[ReadAccess])


@router.post(
    "/encode",
    response_model=EncodeResponse,
    responses=responses(400, 401, 413, 422, 503),
    summary="Encode texts with the server's model bundle (unit vectors)",
)
async def encode(body: EncodeRequest, state: StateDep) -> EncodeResponse:
    limit = state.settings.max_batch_docs
    if len(body.texts) > limit:
        raise LimitExceeded(
            f"the request holds {len(body.texts)} texts, the limit is {limit}",
            fix="send fewer at a time (or raise XSEARCH_MAX_BATCH_DOCS on the server)",
        )
    encoder = state.ready_engine().encoder
    vectors = await run_in_threadpool(encoder.encode, body.texts, body.kind)
    return EncodeResponse(
        bundle=encoder.name, dimension=encoder.dimension, kind=body.kind, vectors=vectors.tolist()
    )
