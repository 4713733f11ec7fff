"""``xsearch index``, ``xsearch add``, ``xsearch delete``, ``xsearch check``: writing documents.

Exit codes of ``index`` and ``add``: 0 all good; 1 the run finished with
rejects (listed in the rejects file); 2 ``--strict`` stopped at the first
reject (or a usage/config error); 130 interrupted (re-run the same command to
resume: what was written is skipped as unchanged).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from xsearch.cli.common import (
    ApiKeyOpt,
    ApiOpt,
    BundleOpt,
    CollectionOpt,
    JsonOpt,
    library,
    print_json,
    settings,
)

if TYPE_CHECKING:
    from rich.console import Console
    from xsearch.indexer.progress import RunStats
    from xsearch.indexer.rejects import Reject, RejectSink

VariantOpt = typer.Option(None, "--variant", help="model variant: auto|fp32|int8|fp16")


def register(app: typer.Typer) -> None:
    app.command("index")(index)
    app.command("add")(add)
    app.command("delete")(delete)
    app.command("check")(check)


def index(
    paths: Annotated[list[str], typer.Argument(help="files, folders, or - for JSONL on stdin")],
    collection: str = CollectionOpt,
    fmt: str | None = typer.Option(
        None, "--format", help="jsonl|csv|tsv|txt|md (default: by extension)"
    ),
    glob: str | None = typer.Option(
        None, "--glob", help="files to take inside folders, e.g. '*.md' (default: known formats)"
    ),
    id_field: str = typer.Option("id", "--id-field", help="field/column of the document id"),
    text_field: str = typer.Option("text", "--text-field", help="field/column of the text"),
    title_field: str = typer.Option("title", "--title-field", help="field/column of the title"),
    lang_field: str = typer.Option("lang", "--lang-field", help="field/column of the language"),
    url_field: str = typer.Option("url", "--url-field", help="field/column of the URL"),
    encoding: str = typer.Option("utf-8", "--encoding", help="text encoding of the input files"),
    max_doc_bytes: int = typer.Option(
        50 * 1024 * 1024, "--max-doc-bytes", help="larger documents are rejected"
    ),
    rejects: Annotated[
        Path | None,
        typer.Option(
            "--rejects",
            help="JSONL file for rejected records (default: ./xsearch-rejects-<collection>.jsonl)",
        ),
    ] = None,
    strict: bool = typer.Option(False, "--strict", help="stop at the first reject (exit 2)"),
    shard: str | None = typer.Option(
        None, "--shard", help="I/N: only documents whose id hashes to shard I of N"
    ),
    api: str | None = ApiOpt,
    api_key: str | None = ApiKeyOpt,
    bundle: str | None = BundleOpt,
    variant: str | None = VariantOpt,
    optimize: bool = typer.Option(
        True, "--optimize/--no-optimize", help="build the search index after a large load"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress output"),
    progress_every: float = typer.Option(
        10.0, "--progress-every", help="seconds between progress lines when not on a terminal"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
) -> None:
    """Index files, folders or stdin into a collection (streaming, resumable).

    Example: xsearch index corpus/ dump.jsonl.gz -c news --rejects bad.jsonl --shard 0/4
    """
    from xsearch.indexer.pipeline import PipelineConfig
    from xsearch.indexer.progress import make_reporter
    from xsearch.indexer.rejects import RejectSink
    from xsearch.indexer.shard import Shard
    from xsearch.indexer.sources import SourceOptions, plan_inputs

    options = SourceOptions(
        format=_format(fmt),
        glob=glob,
        id_field=id_field,
        text_field=text_field,
        title_field=title_field,
        lang_field=lang_field,
        url_field=url_field,
        encoding=encoding,
        max_doc_bytes=max_doc_bytes,
    )
    inputs = plan_inputs(paths, options)
    config = PipelineConfig(collection, shard=Shard.parse(shard) if shard else None)
    err = _stderr()
    reporter = make_reporter(err, quiet=quiet, interval=progress_every)
    # One default file per collection and shard: parallel shards must not overwrite each other's.
    part = f"-shard{config.shard.index}of{config.shard.count}" if config.shard else ""
    default = Path(f"xsearch-rejects-{collection}{part}.jsonl")
    sink = RejectSink(rejects or default, strict=strict)
    stop = threading.Event()
    with sink, _graceful_sigint(stop, err):
        if api:
            stats = _run_remote(api, api_key, inputs, options, config, sink, reporter, stop)
        else:
            stats = _run_local(
                bundle, variant, inputs, options, config, sink, reporter, stop, optimize
            )
    _finish(stats, sink, err, as_json=as_json, quiet=quiet)


def _run_local(
    bundle: str | None,
    variant: str | None,
    inputs: Any,
    options: Any,
    config: Any,
    sink: RejectSink,
    reporter: Any,
    stop: threading.Event,
    optimize: bool,
) -> RunStats:
    from xsearch.indexer.pipeline import Pipeline, maybe_optimize

    from xsearch.runtime import Engine

    with Engine.open(settings(), bundle=bundle, variant=variant) as engine:
        service = engine.indexer
        pipeline = Pipeline(service, inputs, options, config, sink, reporter, stop)
        stats = pipeline.run()
        if optimize:
            maybe_optimize(
                service,
                config.collection,
                stats,
                announce=lambda: _note(reporter, "building the search index (HNSW)..."),
            )
    return stats


def _note(reporter: Any, text: str) -> None:
    from xsearch.indexer.progress import QuietReporter

    if not isinstance(reporter, QuietReporter):
        _stderr().print(text, highlight=False)


def _run_remote(
    api: str,
    api_key: str | None,
    inputs: Any,
    options: Any,
    config: Any,
    sink: RejectSink,
    reporter: Any,
    stop: threading.Event,
) -> RunStats:
    from xsearch.indexer.remote import RemotePipeline

    s = settings()
    with library(api, api_key) as client:
        pipeline = RemotePipeline(
            client,
            inputs,
            options,
            config,
            sink,
            reporter,
            stop,
            batch_docs=s.max_batch_docs,
            batch_bytes=int(s.max_body_bytes * 0.8),
        )
        return pipeline.run()


def _finish(stats: RunStats, sink: RejectSink, err: Console, *, as_json: bool, quiet: bool) -> None:
    from rich.console import Console
    from xsearch.indexer.progress import summary_table

    if as_json:
        out = stats.to_json()
        out["rejects_file"] = str(sink.path) if sink.count else None
        print_json(out)
    elif not quiet:
        Console().print(summary_table(stats))
    if sink.count:
        err.print(
            f"[yellow]{sink.count:,} record(s) rejected[/], first: "
            f"{sink.first[0].where}: {sink.first[0].reason}\n"
            f"all of them, with line numbers and the raw input, are in {sink.path}",
            highlight=False,
            soft_wrap=True,
        )
    if stats.interrupted:
        err.print(
            "[yellow]interrupted[/]: the documents in flight were written. Re-run the same "
            "command to resume; documents already written are skipped as unchanged.",
            highlight=False,
            soft_wrap=True,
        )
        _exit(130)
    if sink.count:
        _exit(1)


class _graceful_sigint:  # noqa: N801 - used as a context manager, reads like a function
    """First Ctrl-C: stop reading and finish what is in flight; second: abort now."""

    def __init__(self, stop: threading.Event, console: Console) -> None:
        self.stop = stop
        self.console = console
        self.previous: Any = None

    def _handler(self, signum: int, frame: object) -> None:
        if self.stop.is_set():
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        self.stop.set()
        # os.write, not print: a signal handler may run while this thread is inside a
        # buffered write, and re-entering the buffer would raise.
        message = "\nstopping: writing the documents in flight (Ctrl-C again: abort now)\n"
        os.write(sys.stderr.fileno(), message.encode())

    def __enter__(self) -> _graceful_sigint:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def add(
    files: Annotated[list[str], typer.Argument(help="JSONL files (or - for stdin)")],
    collection: str = CollectionOpt,
    api: str | None = ApiOpt,
    api_key: str | None = ApiKeyOpt,
    bundle: str | None = BundleOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Index a few documents from JSONL and show what happened to each.

    For large corpora use `xsearch index` (streaming, progress, resume).
    Example: xsearch add -c news docs.jsonl
    """
    from xsearch.indexer.sources import SourceOptions, plan_inputs, read_sources

    from xsearch.errors import InputError

    options = SourceOptions(format="jsonl")
    docs, rejects = [], []
    for _f, rec in read_sources(plan_inputs(files, options), options):
        if rec.doc is not None:
            docs.append(rec.doc)
        elif rec.reject is not None:
            rejects.append(rec.reject)
    if not docs and not rejects:
        raise InputError("no documents in the input", fix="give a JSONL file, one per line")
    results = _add_docs(collection, docs, api, api_key, bundle) if docs else []
    rows = [r.model_dump() for r in results] + [_reject_row(r) for r in rejects]
    if as_json:
        print_json(rows)
    else:
        _print_results(rows)
    if any(r["status"] == "rejected" for r in rows):
        _exit(1)


def _add_docs(
    collection: str, docs: list[Any], api: str | None, api_key: str | None, bundle: str | None
) -> list[Any]:
    with library(api, api_key, bundle=bundle) as lib:
        return lib.add(docs, collection=collection).results


def _reject_row(reject: Reject) -> dict[str, Any]:
    return {
        "id": reject.doc_id,
        "status": "rejected",
        "passages": 0,
        "reason": f"{reject.where}: {reject.reason}",
        "lang": None,
    }


def _print_results(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for col in ("id", "status", "passages", "lang", "reason"):
        table.add_column(col, overflow="fold")
    for r in rows:
        colour = {"indexed": "green", "unchanged": "dim", "rejected": "red"}[r["status"]]
        table.add_row(
            str(r["id"]),
            f"[{colour}]{r['status']}[/]",
            str(r["passages"]),
            r["lang"] or "",
            r["reason"] or "",
        )
    Console().print(table)


def delete(
    ids: Annotated[list[str] | None, typer.Argument(help="document ids")] = None,
    collection: str = CollectionOpt,
    ids_from: Annotated[
        Path | None,
        typer.Option("--ids-from", help="file with one document id per line (- for stdin)"),
    ] = None,
    api: str | None = ApiOpt,
    api_key: str | None = ApiKeyOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Delete documents (every passage of each) by id.

    Example: xsearch delete -c news --ids-from gone.txt
    """
    from xsearch.errors import InputError

    wanted = list(ids or []) + (_read_ids(ids_from) if ids_from is not None else [])
    if not wanted:
        raise InputError("no document ids given", fix="name ids, or use --ids-from FILE")
    wanted = list(dict.fromkeys(wanted))  # each once, in order
    with library(api, api_key) as lib:
        removed = lib.delete(wanted, collection=collection)
    result = {"collection": collection, "documents": len(wanted), "deleted_passages": removed}
    if as_json:
        print_json(result)
    else:
        _stderr().print(
            f"deleted {removed:,} passage(s) of {len(wanted):,} document id(s) from {collection}",
            highlight=False,
        )


def check(
    collection: str = CollectionOpt,
    repair: bool = typer.Option(
        False,
        "--repair",
        help="delete documents that are not whole (re-index them) and recompute the "
        "language statistics",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Check that documents, points and language statistics agree (exit 1 on findings).

    Lists orphan passages (no passage 0), documents with missing, extra or
    mixed-version passages, and languages whose statistics disagree with the points.
    Example: xsearch check -c news
    """
    from xsearch.consistency import check_collection, repair_collection
    from xsearch.store import open_store

    with open_store(settings()) as store:
        meta = store.get_meta(collection)  # CollectionNotFound, with its fix
        before = check_collection(store, collection)
        after = repair_collection(store, collection, int(meta["dimension"])) if repair else None
    report = after or before
    if as_json:
        out = report.to_json()
        if after is not None:
            out["repaired"] = before.to_json()
        print_json(out)
    else:
        err = _stderr()
        if after is not None and not before.ok:
            err.print(
                f"repaired: deleted {len(before.bad_documents()):,} document(s) that were not "
                f"whole ({', '.join(before.bad_documents()[:10])}); re-index them",
                highlight=False,
                soft_wrap=True,
            )
        err.print(
            f"{collection}: {report.points:,} points, {report.documents:,} documents, "
            f"languages {report.languages}",
            highlight=False,
            soft_wrap=True,
        )
        for f in report.findings:
            ids = f" ({', '.join(f.doc_ids[:10])}{', ...' if len(f.doc_ids) > 10 else ''})"
            err.print(f"[red]{f.kind}[/]: {f.detail}{ids if f.doc_ids else ''}",
                      highlight=False, soft_wrap=True)
        if report.ok:
            err.print("[green]consistent[/]", highlight=False)
        else:
            err.print(f"fix: xsearch check -c {collection} --repair", highlight=False)
    if not report.ok:
        _exit(1)


def _read_ids(path: Path) -> list[str]:
    from xsearch.errors import InputError

    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read ids from {path}: {exc}", fix="one id per line, UTF-8"
        ) from exc
    return [line.strip() for line in text.splitlines() if line.strip()]


def _format(fmt: str | None) -> Any:
    from xsearch.indexer.sources import FORMATS

    from xsearch.errors import ConfigError

    if fmt is None:
        return None
    if fmt not in FORMATS:
        raise ConfigError(f"unknown --format {fmt!r}", fix=f"use one of {', '.join(FORMATS)}")
    return fmt


def _exit(code: int) -> None:
    # SystemExit, not typer.Exit: the entry point runs click with
    # standalone_mode=False, where an Exit's code is returned, not used.
    raise SystemExit(code)


def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True)
