"""POST /encode: the server's encoder, for clients that want vectors (``xsearch.Client.encode``)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import ReadAccess, StateDep
from api.errors import responses
from api.limits import check_batch
from xsearch.schemas import EncodeRequest, EncodeResponse

router = APIRouter(tags=["encode"], dependencies=[ReadAccess])


@router.post(
    "/encode",
    response_model=EncodeResponse,
    responses=responses(400, 401, 413, 422, 503),
    summary="Encode texts with the server's model bundle (unit vectors)",
)
async def encode(body: EncodeRequest, state: StateDep) -> EncodeResponse:
    check_batch(len(body.texts), state.settings)
    encoder = state.ready_engine().encoder
    vectors = await run_in_threadpool(encoder.encode, body.texts, body.kind)
    return EncodeResponse(
        bundle=encoder.name, dimension=encoder.dimension, kind=body.kind, vectors=vectors.tolist()
    )
