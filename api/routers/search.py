"""GET /search and POST /search.

The query is validated first (so a bad request costs no encoding), encoded by
the micro-batcher together with other concurrent queries, and searched in a
worker thread (the store call blocks).
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from xsearch.api.deps import ApiState, CheckedBody, ReadAccess, StateDep
from xsearch.api.errors import responses
from xsearch.api.limits import check_search

from xsearch.errors import InputError, NotReady
from xsearch.schemas import Balance, Mode, SearchRequest, SearchResponse, Timings
from xsearch.validation import INT64_MAX, is_collection_name

router = APIRouter(tags=["search"], dependencies=[ReadAccess])

_GET_ERRORS = responses(401, 404, 409, 422, 503)
_POST_ERRORS = responses(400, 401, 404, 409, 413, 422, 503)


async def run_search(state: ApiState, req: SearchRequest) -> SearchResponse:
    t0 = time.perf_counter()
    query = check_search(req, state.settings)
    if not is_collection_name(req.collection):  # refused before it is queued for encoding
        raise InputError(
            f"invalid collection name {req.collection!r}",
            fix="use 1-64 letters, digits, '-' or '_' (for example 'news-2024')",
        )
    state.ready_engine()
    if state.batcher is None or state.searcher is None:
        raise NotReady("the query encoder is not running", fix="retry in a few seconds")
    req = req.model_copy(update={"query": query})
    # The language is detected in a worker thread while the query waits for its
    # micro-batch and is encoded: the two overlap instead of adding up.
    guess, encoded = await asyncio.gather(
        run_in_threadpool(state.searcher.detect, req), state.batcher.encode(query)
    )
    if encoded.batch_size == 0:  # a repeated query: its kept vector, no encoding
        state.metrics.query_cache_hits.inc()
    resp = await run_in_threadpool(state.searcher.search, req, vector=encoded.vector, guess=guess)
    state.metrics.search_seconds.observe(resp.timings.search_ms / 1000)
    # The searcher only saw a ready vector: report the encoding as this request
    # lived it (waiting for its micro-batch + the batch's encoder call).
    resp.timings = Timings(
        encode_ms=round(encoded.queued_ms + encoded.encode_ms, 3),
        search_ms=resp.timings.search_ms,
        total_ms=round((time.perf_counter() - t0) * 1000, 3),
    )
    return resp


@router.get(
    "/search",
    response_model=SearchResponse,
    responses=_GET_ERRORS,
    summary="Search a collection (query parameters)",
)
async def search_get(
    state: StateDep,
    q: Annotated[str, Query(description="the query, in any language", examples=["chat noir"])],
    collection: Annotated[str, Query(description="collection to search")],
    k: Annotated[
        int, Query(ge=1, le=INT64_MAX, description="hits per page (limit: XSEARCH_MAX_K)")
    ] = 10,
    offset: Annotated[
        int, Query(ge=0, le=INT64_MAX, description="hits to skip (limit: XSEARCH_MAX_OFFSET)")
    ] = 0,
    lang: Annotated[list[str] | None, Query(description="only these languages (repeat)")] = None,
    exclude_lang: Annotated[list[str] | None, Query(description="never these languages")] = None,
    min_score: Annotated[float | None, Query(allow_inf_nan=False)] = None,
    query_lang: Annotated[str | None, Query(description="language of the query, if known")] = None,
    balance: Balance | None = None,
    mode: Mode | None = None,
    group_translations: bool | None = None,
) -> SearchResponse:
    try:
        req = SearchRequest(
            query=q,
            collection=collection,
            k=k,
            offset=offset,
            langs=lang or None,
            exclude_langs=exclude_lang or None,
            min_score=min_score,
            query_lang=query_lang,
            balance=balance,
            mode=mode,
            group_translations=group_translations,
        )
    except ValidationError as err:  # a value the query string allowed but the model does not
        raise RequestValidationError(
            [{**e, "loc": ("query", *e["loc"])} for e in err.errors(include_url=False)]
        ) from err
    return await run_search(state, req)



@router.post(
    "/search",
    response_model=SearchResponse,
    responses=_POST_ERRORS,
    summary="Search a collection (JSON body, with metadata filters)",
    dependencies=[CheckedBody],
)
async def search_post(state: StateDep, req: SearchRequest) -> SearchResponse:
    return await run_search(state, req)
