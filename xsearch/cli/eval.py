"""`xsearch eval`: measure cross-lingual retrieval quality on standard or your own data."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from xsearch.cli.common import BundleOpt, JsonOpt, console, print_json, settings

eval_app = typer.Typer(
    help="Evaluate retrieval quality: bitext (translation retrieval) and QA (question -> "
    "paragraph, cross-lingual matrix and mixed-language pool).",
    no_args_is_help=True,
)

VariantOpt = typer.Option(
    None, "--variant", help="model variant: fp32|int8|q4|fp16 (default: XSEARCH_VARIANT, auto)"
)
OutputOpt = typer.Option("--output", "-o", help="also write the JSON report to this file")


def _save(path: Path | None, data: dict) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar on stderr (stdout stays clean for --json); one bar per step.
    Without a terminal (logs, CI): plain lines instead."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    err = Console(stderr=True)
    if not err.is_terminal:
        yield _plain_progress()
        return
    tasks: dict[str, int] = {}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=False) as bar:

        def update(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        yield update


def _plain_progress(every_s: float = 15.0) -> Callable[[str, int, int], None]:
    """Progress for logs (no terminal): a line when a step starts, ends, or every 15 s."""
    last: dict[str, float] = {}

    def update(step: str, done: int, total: int) -> None:
        now = time.monotonic()
        if step not in last or done >= total or now - last[step] >= every_s:
            last[step] = now
            print(f"{step}: {done}/{total}", file=sys.stderr, flush=True)

    return update


def _load_encoder(bundle: str | None, variant: str | None):  # noqa: ANN202 - lazy import
    from xsearch.encoder import Encoder

    return Encoder.load(bundle, settings=settings(), variant=variant)


def _cached_encoder(bundle: str | None, variant: str | None, cache: bool):  # noqa: ANN202
    """The encoder behind a per-variant embedding cache under XSEARCH_HOME/cache/eval
    (the same paragraphs are indexed once per layout, and again on every re-run)."""
    from xsearch.evaluation.cache import CachedEncoder

    enc = _load_encoder(bundle, variant)
    path = CachedEncoder.path_for(settings().home / "cache" / "eval", enc) if cache else None
    return CachedEncoder(enc, path)


def _write(path: Path | None, data: dict) -> None:
    """A result file with its provenance header (command, commit, dirty, machine, load)."""
    from xsearch.provenance import write_result

    if path is not None:
        write_result(path, json.loads(json.dumps(data, ensure_ascii=False, default=str)))


LayoutOpt = typer.Option(
    "parallel",
    "--layout",
    help="corpus shape(s): parallel (every paragraph in every language) | disjoint (each "
    "paragraph in one language, round robin) | skewed (half the paragraphs in one dominant "
    "language, the rest shared by the others) | all | a comma-separated list",
)
CacheOpt = typer.Option(
    True, "--cache/--no-cache", help="reuse embeddings cached under XSEARCH_HOME/cache/eval"
)


@eval_app.command("bitext")
def bitext(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="folders of *.tsv, TSV files (sentence<TAB>translation), or pairs of "
            "line-aligned files (source then target)"
        ),
    ],
    bundle: str | None = BundleOpt,
    variant: str | None = VariantOpt,
    kind: str = typer.Option(
        "query", "--kind", help="prompt on both sides: query (MTEB protocol for e5) | passage"
    ),
    reference_model: str | None = typer.Option(
        None,
        "--reference-model",
        help="published model to compare with (from reference.json; "
        "default: the one named like the bundle)",
    ),
    as_json: bool = JsonOpt,
    output: Annotated[Path | None, OutputOpt] = None,
) -> None:
    """Bitext retrieval: accuracy@1 of finding each sentence's translation, both ways.

    Example: xsearch eval bitext ../shared/data/tatoeba --variant int8
    """
    from xsearch.errors import InputError
    from xsearch.evaluation import bitext as B
    from xsearch.evaluation.report import print_bitext

    if kind not in ("query", "passage"):
        raise InputError(f"--kind {kind!r} is not known", fix="use query or passage")
    sets = B.load_bitext(paths)
    encoder = _load_encoder(bundle, variant)
    ref_path = B.find_reference(paths)
    ref_model: str | None = None
    reference: dict[str, float] | None = None
    if ref_path is not None:
        ref_model = reference_model or B.match_reference_model(
            B.reference_models(ref_path), encoder.name
        )
        if ref_model:
            reference = B.read_reference(ref_path, ref_model)
    total = sum(len(s.src) + len(s.tgt) for s in sets)
    with _progress() as update:
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            update("encoding sentences", done, total)

        pairs = B.evaluate_bitext(
            sets,
            encoder,
            kind="query" if kind == "query" else "passage",
            reference=reference,
            progress=advance,
        )
    report = B.BitextReport(
        bundle=encoder.name,
        variant=encoder.variant,
        fingerprint=encoder.fingerprint,
        kind=kind,
        pairs=pairs,
        reference_model=ref_model,
        reference_source=str(ref_path) if ref_path else None,
    )
    if output is not None:
        B.write_report(output, report)
    if as_json:
        print_json(B.report_document(report))
    else:
        print_bitext(report, console())


@eval_app.command("qa")
def qa(
    path: Annotated[
        Path,
        typer.Argument(help="folder with parallel_paragraphs.jsonl and parallel_questions.jsonl"),
    ],
    bundle: str | None = BundleOpt,
    variant: str | None = VariantOpt,
    langs: str | None = typer.Option(
        None, "--langs", help="comma-separated languages (default: all every record has)"
    ),
    max_questions: int | None = typer.Option(
        None, "--max-questions", min=1, help="evaluate this many questions (evenly spread)"
    ),
    max_paragraphs: int | None = typer.Option(
        None, "--max-paragraphs", min=1, help="index this many paragraphs (and their questions)"
    ),
    ranking: str | None = typer.Option(
        None,
        "--settings",
        help="comma-separated ranking settings (default: all but the slow 'grouped'; "
        "see xsearch.evaluation.qa.SETTINGS)",
    ),
    matrix: str = typer.Option(
        "first",
        "--matrix",
        help="first: full X×Y matrix for the first setting, diagonal for "
        "the others | all: full matrix for every setting (slow) | diagonal | none | "
        "NAME,NAME: full matrix for these settings, diagonal for the others",
    ),
    depth: int = typer.Option(
        100, "--depth", min=10, help="hits per mixed-pool query (mAP@depth; deeper is slower)"
    ),
    workers: int = typer.Option(
        2, "--workers", min=1, help="search threads (the store works outside the GIL)"
    ),
    layout: str = LayoutOpt,
    dominant: str | None = typer.Option(
        None, "--dominant", help="the dominant language of --layout skewed (default: en)"
    ),
    cache: bool = CacheOpt,
    plot: Annotated[Path | None, typer.Option("--plot", help="write the heatmap PNG here")] = None,
    as_json: bool = JsonOpt,
    output: Annotated[Path | None, OutputOpt] = None,
) -> None:
    """Question -> paragraph retrieval across languages, through indexing and search.

    Example: xsearch eval qa ../shared/data/xquad --plot xquad.png --langs en,de,zh

    Every corpus shape: xsearch eval qa ../shared/data/xquad --layout all --matrix diagonal
    """
    from xsearch.errors import InputError
    from xsearch.evaluation import qa as Q
    from xsearch.evaluation.qa_data import load_qa
    from xsearch.evaluation.report import plot_layouts, plot_qa_matrix, print_qa, qa_to_dict

    names = [n.strip() for n in ranking.split(",") if n.strip()] if ranking else None
    for name in names or []:
        if name not in Q.SETTINGS_BY_NAME:
            raise InputError(
                f"unknown ranking setting {name!r}",
                fix=f"choose from {', '.join(Q.SETTINGS_BY_NAME)}",
            )
    layouts = list(Q.LAYOUTS) if layout == "all" else [x.strip() for x in layout.split(",")]
    bad = [x for x in layouts if x not in Q.LAYOUTS]
    if bad or not layouts:
        raise InputError(
            f"--layout {layout!r}: {bad[0] if bad else layout!r} is not a corpus shape",
            fix=f"use all or one or more of {', '.join(Q.LAYOUTS)}",
        )
    if matrix not in ("first", "all", "diagonal", "none"):
        unknown = [n for n in matrix.split(",") if n not in Q.SETTINGS_BY_NAME]
        if unknown:
            raise InputError(
                f"--matrix {matrix!r}: {unknown[0]!r} is neither first/all/diagonal nor a setting",
                fix=f"use first, all, diagonal or setting names ({', '.join(Q.SETTINGS_BY_NAME)})",
            )
    lang_list = [x.strip() for x in langs.split(",") if x.strip()] if langs else None
    data = load_qa(
        path, langs=lang_list, max_questions=max_questions, max_paragraphs=max_paragraphs
    )
    encoder = _cached_encoder(bundle, variant, cache)
    with _progress() as update:
        try:
            report = Q.evaluate_qa(
                data,
                encoder,
                settings(),
                setting_names=names,
                matrix=matrix,
                progress=update,
                workers=workers,
                depth=depth,
                layouts=layouts,
                dominant=dominant,
            )
        finally:
            encoder.save()
    _write(output, qa_to_dict(report))  # first: a plotting problem must not lose the run
    if plot is not None:
        n = len(report.langs)
        full = any(
            len(s.matrix) == n and all(len(row) == n for row in s.matrix.values())
            for s in report.settings
        )
        if full:
            plot_qa_matrix(report, plot)
        else:
            plot_layouts(report.settings, list(report.layouts), plot, report.variant)
    if as_json:
        print_json(qa_to_dict(report))
    else:
        print_qa(report, console())
        if plot is not None:
            console().print(f"heatmap written to {plot}")


@eval_app.command("pool")
def pool(
    paths: Annotated[
        list[Path],
        typer.Argument(help="folders of *.tsv or TSV files sharing one language (xxx-eng.tsv)"),
    ],
    bundle: str | None = BundleOpt,
    variant: str | None = VariantOpt,
    per_lang: int = typer.Option(
        50, "--per-lang", min=1, help="answers (and queries) taken from each file"
    ),
    distractors: int = typer.Option(
        1000, "--distractors", min=0, help="unrelated sentences in the shared language"
    ),
    ranking: str | None = typer.Option(
        None, "--settings", help="comma-separated ranking settings (default: all but 'grouped')"
    ),
    workers: int = typer.Option(2, "--workers", min=1, help="search threads"),
    cache: bool = CacheOpt,
    plot: Annotated[Path | None, typer.Option("--plot", help="write a bar chart PNG here")] = None,
    as_json: bool = JsonOpt,
    output: Annotated[Path | None, OutputOpt] = None,
) -> None:
    """The skewed pool: queries in the shared language (English for Tatoeba), their answers
    in the other languages, among unrelated sentences of the query's own language.

    Example: xsearch eval pool ../shared/data/tatoeba --variant int8 --json
    """
    from dataclasses import asdict

    from xsearch.errors import InputError
    from xsearch.evaluation import bitext as B
    from xsearch.evaluation import pool as P
    from xsearch.evaluation.qa import SETTINGS_BY_NAME
    from xsearch.evaluation.report import plot_layouts, print_layouts

    names = [n.strip() for n in ranking.split(",") if n.strip()] if ranking else None
    for name in names or []:
        if name not in SETTINGS_BY_NAME:
            raise InputError(
                f"unknown ranking setting {name!r}",
                fix=f"choose from {', '.join(SETTINGS_BY_NAME)}",
            )
    data = P.build_pool(B.load_bitext(paths), per_lang=per_lang, distractors=distractors)
    encoder = _cached_encoder(bundle, variant, cache)
    with _progress() as update:
        try:
            report = P.evaluate_pool(
                data, encoder, settings(), setting_names=names, progress=update, workers=workers
            )
        finally:
            encoder.save()
    out = asdict(report)
    out["metrics"] = {
        "layouts.pool": "mrr_10 (main), recall_1, recall_10, map (= MRR: one relevant); "
        "same_share = share of the top 10 in the queries' (and distractors') language"
    }
    _write(output, out)
    if plot is not None:
        plot_layouts(report.settings, ["pool"], plot, report.variant)
    if as_json:
        print_json(out)
    else:
        console().print(
            f"[bold]Skewed pool[/bold] — {report.bundle} ({report.variant}): {report.n_queries} "
            f"{report.pivot} queries, answers in {', '.join(report.langs)}, "
            f"{report.n_distractors} {report.pivot} distractors, {report.n_documents} documents"
        )
        print_layouts(report.settings, ["pool"], console())
