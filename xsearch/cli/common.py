"""Small helpers shared by the command modules (output, engine construction)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from xsearch.settings import Settings, get_settings

if TYPE_CHECKING:
    from xsearch.library import SearchEngine


def settings() -> Settings:
    return get_settings()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def console():  # noqa: ANN201 - rich is imported lazily
    from rich.console import Console

    return Console()


def fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


CollectionOpt = typer.Option(
    ..., "--collection", "-c", help="collection name", envvar="XSEARCH_COLLECTION"
)
BundleOpt = typer.Option(
    None, "--bundle", "-b", help="model bundle (default: XSEARCH_DEFAULT_BUNDLE)"
)
JsonOpt = typer.Option(False, "--json", help="machine-readable JSON output")
ApiOpt = typer.Option(
    None,
    "--api",
    help="talk to a running xsearch API (it owns the store) instead of opening the store",
    envvar="XSEARCH_API_URL",
)
ApiKeyOpt = typer.Option(
    None, "--api-key", help="API key for --api", envvar="XSEARCH_API_KEY", show_default=False
)


@contextmanager
def library(
    api: str | None,
    api_key: str | None = None,
    *,
    bundle: str | None = None,
    variant: str | None = None,
) -> Iterator[SearchEngine]:
    """``xsearch.Client`` on ``--api URL``, else an ``xsearch.Engine`` on the local store.

    Commands call the one library surface, so each behaves the same either way.
    """
    from xsearch.errors import AuthError

    if not api:
        from xsearch.runtime import Engine

        with Engine.open(settings(), bundle=bundle, variant=variant) as engine:
            yield engine
        return
    from xsearch.client import Client

    # Patient retries: a server that is (re)starting answers 503 for a few seconds.
    with Client(api, api_key=api_key, retries=5, backoff=1.0) as client:
        try:
            yield client
        except AuthError as err:
            raise AuthError(
                f"the xsearch API refused the request ({err.message})",
                fix="pass a valid key with --api-key (or XSEARCH_API_KEY)",
            ) from None
