"""The FastAPI application: ``create_app(settings=None, engine=None)``.

The model bundle and the store are opened once, in the lifespan (the embedded
store is single-process: while the server runs it owns the store, and
``xsearch index --api URL`` is how to index meanwhile). Configuration errors
(a missing keys file, private search without keys) fail at ``create_app``,
before the server binds its port.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from xsearch.api.cors import JsonCORSMiddleware
from xsearch.api.deps import ApiState
from xsearch.api.errors import install_error_handlers, responses
from xsearch.api.limits import BodySizeLimitMiddleware
from xsearch.api.metrics import Metrics, MetricsMiddleware
from xsearch.api.microbatch import MicroBatcher
from xsearch.api.routers import collections, documents, encode, ops, search
from xsearch.api.security import KeyRing

import xsearch
from xsearch.errors import XSearchError
from xsearch.runtime import Engine
from xsearch.settings import Settings, get_settings

log = logging.getLogger("xsearch.api")
STATIC_DIR = Path(__file__).parent / "static"

DESCRIPTION = """Cross-lingual semantic search: a query in one language finds documents
in every other. Every error answers `{"error": code, "detail": message}`.
Write endpoints need an API key (`X-API-Key` or `Authorization: Bearer`) when the
server has keys; search needs one only when `XSEARCH_PUBLIC_SEARCH=false`."""


def open_engine(engine: Engine) -> None:
    """Load the encoder and open the store now, not on the first request."""
    from xsearch.text import warm_up

    encoder = engine.encoder
    engine.store.list_collections()
    encoder.encode(["warm-up"], kind="query")  # first onnxruntime run allocates buffers
    # both detectors: the short-text model (queries) and langdetect's profiles
    # (passages written through the API), so neither is paid on a request
    warm_up()
    engine.searcher.warm_up()  # the hybrid stop words, read from the bundle's tokenizer
    repair_pending_stats(engine)


def repair_pending_stats(engine: Engine) -> None:
    """Recompute the language statistics a killed server left pending (its last
    statistics were held in memory: see XSEARCH_STATS_SAVE_S), before the first
    search reads them."""
    from xsearch.ranking.maintain import RankingData
    from xsearch.store.base import stats_pending

    store = engine.store
    if store.kind != "edge":  # only the embedded store defers them
        return
    for name in store.list_collections():
        try:
            meta = store.get_meta(name)
            if stats_pending(meta):
                RankingData(store, int(meta["dimension"])).means(name)
        except XSearchError as err:  # a damaged collection: its requests say so (503)
            log.warning("collection %r: %s", name, err)


async def _flush_stats(engine: Engine, every_s: float) -> None:
    """Write the statistics held in memory every ``every_s`` seconds (until cancelled)."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await run_in_threadpool(engine.store.flush_meta)
        except Exception as err:  # a full disk: keep serving, try again next time
            log.warning("saving the language statistics failed (%s); retrying", err)


def _lifespan(
    state: ApiState, given: Engine | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = given or Engine.open(state.settings)
        batcher: MicroBatcher | None = None
        flusher: asyncio.Task[None] | None = None
        try:
            await run_in_threadpool(open_engine, engine)
            searcher = engine.searcher
            metrics = state.metrics

            def on_batch(size: int, seconds: float) -> None:
                metrics.encode_batch.observe(size)
                metrics.encode_seconds.observe(seconds)

            batcher = MicroBatcher(
                searcher.encode_queries,
                max_wait_ms=state.settings.microbatch_wait_ms,
                max_batch=state.settings.microbatch_max,
                on_batch=on_batch,
                cache_size=state.settings.query_cache_size,
            )
            await batcher.start()
            if state.settings.stats_save_s > 0:
                flusher = asyncio.create_task(
                    _flush_stats(engine, state.settings.stats_save_s), name="xsearch-stats-save"
                )
            state.write_locks = {}  # locks are bound to this server's event loop: fresh ones
            state.engine, state.searcher, state.batcher = engine, searcher, batcher
            _log_start(state)
            yield
        finally:
            indexer, pool = state.indexer, None
            if indexer is not None:
                pool, indexer.chunk_pool = indexer.chunk_pool, None
            state.engine = state.searcher = state.batcher = state.indexer = None
            if pool is not None:  # its worker processes, if any started
                await run_in_threadpool(pool.close)
            if batcher is not None:
                await batcher.stop()
            if flusher is not None:
                flusher.cancel()
            if given is None:  # a caller's engine is the caller's to close (and flush)
                await run_in_threadpool(engine.close)
            else:  # the statistics held in memory, now: the caller may read the files
                await run_in_threadpool(engine.store.flush_meta)

    return lifespan


def _log_start(state: ApiState) -> None:
    assert state.engine is not None
    enc, s = state.engine.encoder, state.settings
    log.info(
        "xsearch API ready: bundle %s (%s, %s), store %s, API keys: %d, public search: %s",
        enc.name, enc.variant, enc.provider, state.engine.store.kind, len(state.keys),
        s.public_search,
    )


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or (engine.settings if engine is not None else get_settings())
    state = ApiState(settings=settings, keys=KeyRing.from_settings(settings), metrics=Metrics())
    app = FastAPI(
        title="xsearch",
        version=xsearch.__version__,
        description=DESCRIPTION,
        lifespan=_lifespan(state, engine),
    )
    app.state.xsearch = state
    install_error_handlers(app)
    for module in (search, documents, collections, encode, ops):
        # Any route may fail unexpectedly: 500 is documented (same body) everywhere.
        app.include_router(module.router, responses=responses(500))
    _add_page(app)
    # Added inner to outer: the body limit sits closest to the app, metrics
    # outermost so that refused requests (413, CORS) are counted too.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:  # off unless configured
        app.add_middleware(
            JsonCORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Content-Type", "Authorization", "X-API-Key"],
        )
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)
    return app


def _add_page(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")
