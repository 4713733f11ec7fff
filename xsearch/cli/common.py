"""Small helpers shared by the command modules (output, engine construction)."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from xsearch.settings import Settings, get_settings


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
