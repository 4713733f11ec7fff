"""``xsearch serve``: run the API with uvicorn."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: str | None = typer.Option(
        None, "--host", help="address to bind (default: XSEARCH_HOST, 127.0.0.1)"
    ),
    port: int | None = typer.Option(None, "--port", help="port (default: XSEARCH_PORT, 8000)"),
    workers: int = typer.Option(
        1, "--workers", min=1, help="worker processes; >1 only with a Qdrant server"
    ),
    bundle: str | None = typer.Option(
        None, "--bundle", "-b", help="model bundle (default: XSEARCH_DEFAULT_BUNDLE)"
    ),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level"),
) -> None:
    """Serve the search API and the search page.

    Example: xsearch serve --host 0.0.0.0 --port 8000   (then open http://localhost:8000/)
    """
    import logging

    import uvicorn
    from xsearch.api.app import create_app, open_engine

    from xsearch.errors import ConfigError
    from xsearch.runtime import Engine
    from xsearch.settings import get_settings

    settings = get_settings()
    updates = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    settings = settings.model_copy(update=updates)
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s: %(name)s: %(message)s")
    if workers > 1:
        # Each worker opens the store: only a Qdrant server can be shared.
        if not settings.qdrant_url:
            raise ConfigError(
                "--workers > 1 needs a Qdrant server: the embedded store belongs to one process",
                fix="set XSEARCH_QDRANT_URL, or run one worker (micro-batching uses the cores)",
            )
        if bundle:
            raise ConfigError(
                "--bundle cannot be combined with --workers > 1",
                fix="set XSEARCH_DEFAULT_BUNDLE instead",
            )
        uvicorn.run(
            "xsearch.api.app:create_app", factory=True, host=settings.host, port=settings.port,
            workers=workers, log_level=log_level,
        )
        return
    engine = Engine.open(settings, bundle=bundle)
    try:
        app = create_app(settings, engine)  # configuration errors surface here, as one line
        open_engine(engine)  # so does a missing bundle or a locked store, before binding
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=log_level)
    finally:
        engine.close()
