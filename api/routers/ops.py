"""Operations: /health (alive), /ready (bundle loaded, store reachable), /info, /metrics.

These stay open without an API key: load balancers and Prometheus probe them,
and they reveal nothing about the indexed documents.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from xsearch.api.deps import ApiState, StateDep
from xsearch.api.errors import responses

import xsearch
from xsearch.errors import NotReady, XSearchError

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str = "ok"


class Ready(BaseModel):
    status: str = "ready"
    bundle: str
    store: str = Field(..., description="edge (embedded) or server")
    collections: int


class Limits(BaseModel):
    max_query_chars: int
    max_k: int
    max_offset: int
    max_batch_docs: int
    max_body_bytes: int


class Info(BaseModel):
    version: str
    bundle: str
    dimension: int
    fingerprint: str
    variant: str
    provider: str = Field(..., description="onnxruntime execution provider")
    max_seq_length: int
    store: str
    write_key_required: bool
    read_key_required: bool
    microbatch_wait_ms: float
    microbatch_max: int
    limits: Limits


@router.get("/health", response_model=Health, summary="The process is alive")
async def health() -> Health:
    return Health()


def _probe(state: ApiState) -> Ready:
    engine = state.ready_engine()
    if state.batcher is None or not state.batcher.running:
        raise NotReady("the query encoder is not running", fix="check the server log")
    try:
        names = engine.store.list_collections()
    except XSearchError as err:
        raise NotReady(f"the store is not reachable: {err}", fix="check the store") from err
    except Exception as err:  # a server store may fail with transport errors
        raise NotReady(
            f"the store is not reachable ({type(err).__name__}: {err})",
            fix="check XSEARCH_QDRANT_URL and that the Qdrant server is up",
        ) from err
    return Ready(bundle=engine.encoder.name, store=engine.store.kind, collections=len(names))


@router.get(
    "/ready",
    response_model=Ready,
    responses=responses(503),
    summary="The model bundle is loaded and the store answers",
)
async def ready(state: StateDep) -> Ready:
    return await run_in_threadpool(_probe, state)


@router.get("/info", response_model=Info, responses=responses(503), summary="Bundle and limits")
async def info(state: StateDep) -> Info:
    engine = state.ready_engine()
    enc, s = engine.encoder, state.settings
    return Info(
        version=getattr(xsearch, "__version__", "0"),
        bundle=enc.name,
        dimension=enc.dimension,
        fingerprint=enc.fingerprint,
        variant=enc.variant,
        provider=enc.provider,
        max_seq_length=enc.max_seq_length,
        store=engine.store.kind,
        write_key_required=state.keys.enabled,
        read_key_required=state.keys.enabled and not s.public_search,
        microbatch_wait_ms=s.microbatch_wait_ms,
        microbatch_max=s.microbatch_max,
        limits=Limits(
            max_query_chars=s.max_query_chars, max_k=s.max_k, max_offset=s.max_offset,
            max_batch_docs=s.max_batch_docs, max_body_bytes=s.max_body_bytes,
        ),
    )


@router.get(
    "/metrics",
    # The page is text; errors (like everywhere) are JSON, so the default
    # response class stays JSON and only the 200 is declared as text.
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                     "description": "Prometheus text exposition format 0.0.4"}},
    summary="Prometheus metrics (text exposition format)",
)
async def metrics(state: StateDep) -> PlainTextResponse:
    return PlainTextResponse(
        state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )
