"""Commands to look into the store: collections, stats, optimize, recenter, export/import."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from xsearch.cli.common import (
    ApiKeyOpt,
    ApiOpt,
    CollectionOpt,
    JsonOpt,
    console,
    library,
    print_json,
    settings,
)

if TYPE_CHECKING:
    from xsearch.schemas import CollectionInfo


def register(app: typer.Typer) -> None:
    app.command("collections")(collections)
    app.command("stats")(stats)
    app.command("optimize")(optimize)
    app.command("recenter")(recenter)
    app.command("export-collection")(export_collection)
    app.command("import-collection")(import_collection)


def collections(
    as_json: bool = JsonOpt,
    api: str | None = ApiOpt,
    api_key: str | None = ApiKeyOpt,
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

    with library(api, api_key) as lib:
        return [
            SimpleNamespace(**lib.stats(c.name).model_dump(), meta=None)
            for c in lib.collections()
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


def stats(
    collection: str = CollectionOpt,
    api: str | None = ApiOpt,
    api_key: str | None = ApiKeyOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Documents, passages, languages, bundle and disk size of a collection.

    Example: xsearch stats -c news --json
    """
    with library(api, api_key) as lib:
        info = lib.stats(collection)
    if as_json:
        print_json(info.model_dump())
        return
    _print_stats(info)


def _print_stats(info: CollectionInfo) -> None:
    from rich.table import Table

    table = Table(title=f"collection {info.name}", show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("value")
    langs = sorted(info.languages.items(), key=lambda kv: (-kv[1], kv[0]))
    disk = info.disk_bytes
    rows = [
        ("documents", f"{info.documents:,}"),
        ("passages", f"{info.points:,}"),
        ("languages (passages)", ", ".join(f"{k} {v:,}" for k, v in langs) or "-"),
        ("bundle", f"{info.bundle} ({info.fingerprint[:12]})"),
        ("dimension", str(info.dimension)),
        ("disk size", _size(disk) if disk is not None else "n/a (server)"),
        ("search index (HNSW)", "built" if info.indexed else "not built (exact search)"),
    ]
    for what, value in rows:
        table.add_row(what, value)
    console().print(table)


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{n} B"


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
