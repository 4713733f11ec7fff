"""`xsearch encode`: texts in (lines or JSONL), vectors out (.npy or JSONL).

People use it to feed other tools; we use it to measure the encoder from outside.
Heavy imports (numpy, onnxruntime, rich) happen inside the command.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer

from xsearch.cli.common import BundleOpt, settings
from xsearch.errors import InputError

JSONL_FIX = 'each line must be one JSON object with a string "text" field, e.g. {"text": "Hallo"}'
CHUNK = 8192  # texts encoded and written per step: bounds memory on huge inputs


def register(app: typer.Typer) -> None:
    app.command("encode")(encode)


def encode(
    source: str = typer.Argument("-", help="input file, or - for stdin", metavar="[FILE|-]"),
    output: str = typer.Option(
        ..., "--output", "-o", help="where to write the vectors (.npy, .jsonl; - = stdout jsonl)"
    ),
    bundle: str | None = BundleOpt,
    kind: str = typer.Option(
        "passage", "--kind", "-k", help="query or passage (selects the model's prompt)"
    ),
    variant: str | None = typer.Option(
        None, "--variant", help="auto|fp32|int8|q4|fp16 (default: XSEARCH_VARIANT, auto)"
    ),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="npy|jsonl (default: from the output's extension, else npy)"
    ),
    input_format: str | None = typer.Option(
        None,
        "--input-format",
        help="lines|jsonl (default: jsonl for *.jsonl files, else one text per line)",
    ),
    threads: int | None = typer.Option(
        None, "--threads", help="onnxruntime threads (default: XSEARCH_THREADS, 0 = all cores)"
    ),
) -> None:
    """Encode texts into vectors, written in input order.

    One text per input line (an empty line is an empty text), or JSONL with a
    "text" field. The model's prompt for --kind is added. Texts longer than the
    model's window are truncated and counted in the summary.

    Example: xsearch encode sentences.txt -o vectors.npy --kind query
    Example: cat docs.jsonl | xsearch encode - --input-format jsonl -o - --format jsonl
    """
    from xsearch.encoder import KINDS, Encoder

    if kind not in KINDS:
        raise InputError(f"unknown --kind {kind!r}", fix="use --kind query or --kind passage")
    out_format = _output_format(fmt, output)
    records = _read_input(source, _input_format(input_format, source))
    cfg = settings()
    if threads is not None:
        cfg = cfg.model_copy(update={"threads": threads})
    encoder = Encoder.load(bundle, settings=cfg, variant=variant)
    texts = [r["text"] for r in records]
    started = time.perf_counter()
    with _progress(len(texts)) as advance:
        truncated = _write(encoder, records, texts, kind, output, out_format, advance)
    seconds = time.perf_counter() - started
    rate = len(texts) / seconds if seconds > 0 else 0.0
    typer.echo(
        f"encoded {len(texts)} texts ({truncated} truncated to {encoder.max_seq_length} tokens) "
        f"in {seconds:.2f}s, {rate:.1f} texts/s; {encoder.name} {encoder.variant} on "
        f"{encoder.provider}, {encoder.dimension}-d -> {output}",
        err=True,
    )


# --- input -------------------------------------------------------------------------
def _input_format(given: str | None, source: str) -> str:
    if given is None:
        return "jsonl" if source.endswith(".jsonl") else "lines"
    if given not in ("lines", "jsonl"):
        raise InputError(f"unknown --input-format {given!r}", fix="use lines or jsonl")
    return given


def _output_format(given: str | None, output: str) -> str:
    if given is None:
        return "jsonl" if output == "-" or output.endswith(".jsonl") else "npy"
    if given not in ("npy", "jsonl"):
        raise InputError(f"unknown --format {given!r}", fix="use npy or jsonl")
    if given == "npy" and output == "-":
        raise InputError("cannot write .npy to stdout", fix="use --format jsonl or a file name")
    return given


def _lines(source: str) -> Iterator[str]:
    if source == "-":
        yield from sys.stdin
        return
    path = Path(source)
    if not path.is_file():
        raise InputError(f"input file {source} does not exist", fix="check the path, or use -")
    with path.open(encoding="utf-8") as fh:
        yield from fh


def _read_input(source: str, input_format: str) -> list[dict[str, Any]]:
    """Records with a "text" field, in input order. A bad line stops everything
    with its file:line, rather than shifting every later vector by one."""
    name = "<stdin>" if source == "-" else source
    records: list[dict[str, Any]] = []
    try:
        for number, line in enumerate(_lines(source), start=1):
            line = line.rstrip("\r\n")
            if input_format == "lines":
                records.append({"text": line})
            else:
                records.append(_parse_jsonl(line, f"{name}:{number}"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is not UTF-8 text ({exc})", fix="convert it to UTF-8") from exc
    return records


def _parse_jsonl(line: str, where: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc.msg})", fix=JSONL_FIX) from exc
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise InputError(f'{where}: no string "text" field', fix=JSONL_FIX)
    return record


# --- output ------------------------------------------------------------------------
def _write(
    encoder: Any,
    records: list[dict[str, Any]],
    texts: list[str],
    kind: str,
    output: str,
    out_format: str,
    advance: Callable[[int], None],
) -> int:
    """Encode in chunks and write as we go; a partial file never stays behind."""
    import numpy as np

    target = Path(output)
    tmp = target.with_name(target.name + ".partial") if output != "-" else None
    truncated = 0
    try:
        if out_format == "npy":
            assert tmp is not None
            matrix = np.lib.format.open_memmap(
                tmp, mode="w+", dtype=np.float32, shape=(len(texts), encoder.dimension)
            )
            for lo in range(0, len(texts), CHUNK):
                chunk = texts[lo : lo + CHUNK]
                matrix[lo : lo + len(chunk)] = encoder.encode(chunk, kind, progress=advance)
                truncated += encoder.last_truncated
            matrix.flush()
            del matrix
        else:
            fh = sys.stdout if tmp is None else tmp.open("w", encoding="utf-8")
            try:
                for lo in range(0, len(texts), CHUNK):
                    vectors = encoder.encode(texts[lo : lo + CHUNK], kind, progress=advance)
                    truncated += encoder.last_truncated
                    for i, vector in enumerate(vectors, start=lo):
                        fh.write(_jsonl_row(i, records[i], vector) + "\n")
            finally:
                if fh is not sys.stdout:
                    fh.close()
        if tmp is not None:
            tmp.replace(target)
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()
    return truncated


def _jsonl_row(index: int, record: dict[str, Any], vector: Any) -> str:
    row: dict[str, Any] = {"index": index}
    if "id" in record:
        row["id"] = record["id"]
    # float32 -> Python float is exact, so reading the JSON back as float32
    # gives the very same vector as the .npy output.
    row["vector"] = vector.tolist()
    return json.dumps(row, ensure_ascii=False)


class _progress:
    """A rich progress bar on a terminal (stderr); nothing when piped."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._bar: Any = None

    def __enter__(self) -> Callable[[int], None]:
        if not sys.stderr.isatty() or self.total == 0:
            return lambda n: None
        from rich.console import Console
        from rich.progress import Progress

        self._bar = Progress(transient=True, console=Console(stderr=True))
        self._bar.start()
        task = self._bar.add_task("encoding", total=self.total)
        return lambda n: self._bar.update(task, advance=n)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
