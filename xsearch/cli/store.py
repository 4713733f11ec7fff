"""Commands to look into the store: search, collections, optimize, export/import."""

from __future__ import annotations

from pathlib import Path

import typer

from xsearch.cli.common import BundleOpt, CollectionOpt, JsonOpt, console, print_json, settings


def register(app: typer.Typer) -> None:
    app.command("search")(search)
    app.command("collections")(collections)
    app.command("optimize")(optimize)
    app.command("recenter")(recenter)
    app.command("export-collection")(export_collection)
    app.command("import-collection")(import_collection)


def search(
    query: str = typer.Argument(..., help="the query, in any language"),
    collection: str = CollectionOpt,
    k: int = typer.Option(10, "--k", "-k", help="hits (documents) to return"),
    offset: int = typer.Option(0, "--offset", help="hits to skip"),
    lang: list[str] = typer.Option([], "--lang", "-l", help="only these languages (repeat)"),
    exclude_lang: list[str] = typer.Option([], "--exclude-lang", help="never these languages"),
    min_score: float | None = typer.Option(None, "--min-score", help="drop hits below"),
    balance: str | None = typer.Option(
        None, "--balance", help="none | centered | interleave (default: XSEARCH_BALANCE)"
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
    as_json: bool = JsonOpt,
) -> None:
    """Search a collection in any language.

    Example: xsearch search "¿cuándo se fundó la universidad?" -c news -k 5 --lang de --lang ar
    """
    from typing import get_args

    from xsearch.errors import InputError
    from xsearch.runtime import Engine
    from xsearch.schemas import Balance, Mode, SearchRequest

    for flag, value, allowed in (("--balance", balance, Balance), ("--mode", mode, Mode)):
        if value is not None and value not in get_args(allowed):
            raise InputError(
                f"{flag} {value!r} is not known", fix=f"use one of {', '.join(get_args(allowed))}"
            )
    req = SearchRequest(
        query=query,
        collection=collection,
        k=k,
        offset=offset,
        langs=lang or None,
        exclude_langs=exclude_lang or None,
        min_score=min_score,
        balance=balance,
        mode=mode,
        group_translations=group,
    )
    with Engine.open(settings(), bundle=bundle) as engine:
        resp = engine.searcher.search(req)
    if as_json:
        print_json(resp.model_dump())
        return
    _print_hits(resp)


def _print_hits(resp) -> None:  # noqa: ANN001
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


def collections(
    as_json: bool = JsonOpt,
    api: str | None = typer.Option(
        None, "--api", help="list through a running xsearch API", envvar="XSEARCH_API_URL"
    ),
    api_key: str | None = typer.Option(
        None, "--api-key", help="API key for --api", envvar="XSEARCH_API_KEY", show_default=False
    ),
) -> None:
    """List collections with their size, languages and bundle.

    While another process (`xsearch serve`) holds the embedded store, the names and
    bundles are still listed; sizes come through that process with --api URL.
    Example: xsearch collections --json
    """
    from rich.table import Table

    from xsearch.errors import StoreLocked
    from xsearch.runtime import Engine

    if api:
        stats = _collections_from_api(api, api_key)
        kind = "api"
    else:
        with Engine.open(settings()) as engine:
            kind = engine.store.kind
            try:
                stats = [engine.store.stats(name) for name in engine.store.list_collections()]
            except StoreLocked as err:  # issue 12: not an error, the server owns the store
                _names_only(engine.store, err, as_json=as_json)
                return
    if as_json:
        print_json([s.__dict__ | {"meta": None} for s in stats])
        return
    table = Table(title=f"collections ({kind if stats else 'store'})")
    for col in ("name", "documents", "passages", "languages", "bundle", "indexed"):
        table.add_column(col)
    for s in stats:
        langs = ", ".join(f"{k}:{v}" for k, v in sorted(s.languages.items(), key=lambda x: -x[1]))
        table.add_row(
            s.name,
            str(s.documents),
            str(s.points),
            langs[:60],
            s.bundle,
            "yes" if s.indexed else "no",
        )
    console().print(table)


def _collections_from_api(api: str, api_key: str | None) -> list:
    from types import SimpleNamespace

    from indexer.client import ApiClient

    with ApiClient(api, api_key=api_key) as client:
        return [
            SimpleNamespace(**client.collection_info(n), meta=None)
            for n in client.list_collections()
        ]


def _names_only(store, err: Exception, *, as_json: bool) -> None:  # noqa: ANN001
    """Names and bundles from the collections' metadata files (readable without the
    lock), and what to do for sizes."""
    rows = []
    for name in store.list_collections():
        try:
            rows.append({"name": name, "bundle": store.get_meta(name).get("bundle")})
        except Exception as exc:  # noqa: BLE001 - a damaged one is listed with its error
            rows.append({"name": name, "bundle": None, "error": str(exc)})
    note = (
        f"{err}. Names only; for sizes and languages ask that process: "
        "xsearch collections --api http://HOST:PORT"
    )
    if as_json:
        print_json({"collections": rows, "sizes": None, "note": note})
        return
    out = console()
    for row in rows:
        out.print(f"{row['name']}  ({row['bundle'] or row.get('error')})", highlight=False)
    typer.secho(note, err=True, fg=typer.colors.YELLOW)


def optimize(collection: str = CollectionOpt) -> None:
    """Build the HNSW index of a collection (fast approximate search).

    Example: xsearch optimize -c news
    """
    import time

    from xsearch.runtime import Engine

    t0 = time.perf_counter()
    with Engine.open(settings()) as engine:
        engine.store.optimize(collection)
        n = engine.store.count(collection)
    console().print(f"optimized {collection}: {n} passages in {time.perf_counter() - t0:.1f} s")


def recenter(collection: str = CollectionOpt) -> None:
    """Recompute the per-language means exactly and rewrite every centred vector.

    Means are kept up to date incrementally; several writers on one Qdrant
    server can race on them, and this puts them right (no re-encoding).

    Example: xsearch recenter -c news
    """
    import time

    from xsearch.ranking.maintain import RankingData
    from xsearch.runtime import Engine

    t0 = time.perf_counter()
    with Engine.open(settings()) as engine:
        # stored vectors only: no model needed, the collection knows its dimension
        dimension = int(engine.store.get_meta(collection)["dimension"])
        means = RankingData(engine.store, dimension).recompute(collection)
    langs = ", ".join(f"{lang} {s.n}" for lang, s in sorted(means.langs.items()))
    console().print(
        f"recentred {collection} in {time.perf_counter() - t0:.1f} s (passages per language: "
        f"{langs or 'none'})"
    )


def export_collection(
    collection: str = CollectionOpt,
    output: Path = typer.Option(..., "--output", "-o", help="file to write (.jsonl.gz)"),
) -> None:
    """Write a collection (vectors, payloads, metadata) to a file, without re-encoding.

    Example: xsearch export-collection -c news -o news.jsonl.gz
    """
    from xsearch.runtime import Engine
    from xsearch.store.transfer import export_collection as _export

    with Engine.open(settings()) as engine:
        n = _export(engine.store, collection, output)
    console().print(f"exported {n} points of {collection} to {output}")


def import_collection(
    path: Path = typer.Argument(..., help="file written by export-collection"),
    collection: str | None = typer.Option(None, "--collection", "-c", help="target name"),
) -> None:
    """Load an exported collection into the configured store (e.g. a Qdrant server).

    Example: XSEARCH_QDRANT_URL=http://localhost:6333 xsearch import-collection news.jsonl.gz
    """
    from xsearch.runtime import Engine
    from xsearch.store.transfer import import_collection as _import

    with Engine.open(settings()) as engine:
        n = _import(engine.store, path, name=collection)
    console().print(f"imported {n} points")
