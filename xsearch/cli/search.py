"""``xsearch search``: query a collection, locally or through a running API (``--api``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast, get_args

import typer

from xsearch.cli.common import (
    ApiKeyOpt,
    ApiOpt,
    BundleOpt,
    CollectionOpt,
    JsonOpt,
    console,
    library,
    print_json,
)

if TYPE_CHECKING:
    from xsearch.schemas import SearchResponse


def register(app: typer.Typer) -> None:
    app.command("search")(search)


def search(
    query: str = typer.Argument(..., help="the query, in any language"),
    collection: str = CollectionOpt,
    k: int = typer.Option(10, "--k", "-k", help="hits (documents) to return"),
    offset: int = typer.Option(0, "--offset", help="hits to skip"),
    lang: list[str] = typer.Option([], "--lang", "-l", help="only these languages (repeat)"),
    exclude_lang: list[str] = typer.Option([], "--exclude-lang", help="never these languages"),
    min_score: float | None = typer.Option(None, "--min-score", help="drop hits below"),
    balance: str | None = typer.Option(
        None, "--balance", help="none | centered | interleave | fair (default: XSEARCH_BALANCE)"
    ),
    mode: str | None = typer.Option(
        None, "--mode", help="dense | hybrid (default: XSEARCH_SEARCH_MODE)"
    ),
    group: bool | None = typer.Option(
        None,
        "--group-translations/--no-group-translations",
        help="one hit per text with its other language versions (default: settings)",
    ),
    bundle: str | None = BundleOpt,
    api: str | None = ApiOpt,
    api_key: str | None = ApiKeyOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Search a collection in any language.

    Example: xsearch search "¿cuándo se fundó la universidad?" -c news -k 5 --lang de --lang ar
    """
    from xsearch.errors import InputError
    from xsearch.schemas import Balance, Mode

    # Checked here for a message that names the flag (the library says "balance").
    for flag, value, allowed in (("--balance", balance, Balance), ("--mode", mode, Mode)):
        if value is not None and value not in get_args(allowed):
            raise InputError(
                f"{flag} {value!r} is not known", fix=f"use one of {', '.join(get_args(allowed))}"
            )
    with library(api, api_key, bundle=bundle) as lib:
        resp = lib.search(
            query,
            collection=collection,
            k=k,
            offset=offset,
            langs=lang or None,
            exclude_langs=exclude_lang or None,
            min_score=min_score,
            balance=cast("Balance | None", balance),  # checked just above
            mode=cast("Mode | None", mode),
            group_translations=group,
        )
    if as_json:
        print_json(resp.model_dump())
        return
    print_hits(resp)


def print_hits(resp: SearchResponse) -> None:
    from rich.table import Table

    c = console()
    c.print(
        f"query language: [bold]{resp.query_lang}[/] ({resp.query_lang_confidence:.2f})  "
        f"encode {resp.timings.encode_ms:.1f} ms, search {resp.timings.search_ms:.1f} ms  "
        f"[dim](balance={resp.balance}, mode={resp.mode})[/]"
    )
    table = Table(show_lines=False)
    for col in ("#", "score", "lang", "document", "snippet"):
        table.add_column(col, overflow="fold")
    for i, h in enumerate(resp.hits, start=resp.offset + 1):
        mark = "↔ " if h.cross_language else ""
        title = f"{h.title} " if h.title else ""
        snippet = h.snippet.text if len(h.snippet.text) < 160 else h.snippet.text[:157] + "…"
        also = f"\n[dim]also in: {' '.join(a.lang for a in h.also_in)}[/]" if h.also_in else ""
        table.add_row(
            str(i), f"{h.score:.3f}", mark + h.lang, f"{title}[{h.doc_id}]", snippet + also
        )
    c.print(table)
    if not resp.hits:
        c.print("no hits")
