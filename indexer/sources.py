"""Input sources: files, folders and stdin turned into a stream of documents.

``read_sources(paths, options)`` yields :class:`Record` items — a document
with the place it came from, or a :class:`~indexer.rejects.Reject`. Memory
stays constant whatever the input size: files are read line by line (one
document's worth at most), and the bytes of each line are decoded on their
own so one bad line is one reject, not a failed run.

Formats (by extension, ``.gz`` stripped first, or forced with ``--format``):
``jsonl`` (.jsonl .ndjson), ``csv``, ``tsv`` (.tsv .tab), ``txt`` (.txt .text)
and ``md`` (.md .markdown); ``-`` is JSONL on stdin.
"""

from __future__ import annotations

import codecs
import gzip
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

from indexer.rejects import Reject
from xsearch.documents import Document
from xsearch.errors import ConfigError, InputError

Format = Literal["jsonl", "csv", "tsv", "txt", "md"]
FORMATS: tuple[str, ...] = ("jsonl", "csv", "tsv", "txt", "md")
_EXTENSIONS: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
}
DEFAULT_MAX_DOC_BYTES = 50 * 1024 * 1024
STDIN = "-"


@dataclass(slots=True)
class SourceOptions:
    format: Format | None = None  # None: by extension
    glob: str | None = None  # pattern for files inside folders (rglob); None: known extensions
    id_field: str = "id"
    text_field: str = "text"
    title_field: str = "title"
    lang_field: str = "lang"
    url_field: str = "url"
    encoding: str = "utf-8"
    max_doc_bytes: int = DEFAULT_MAX_DOC_BYTES

    def __post_init__(self) -> None:
        try:
            info = codecs.lookup(self.encoding)
        except LookupError:
            raise ConfigError(
                f"unknown encoding {self.encoding!r}", fix="use a Python codec name, e.g. latin-1"
            ) from None
        # Lines are split on b"\n" before decoding: only encodings where a newline is
        # the single byte 0x0A (utf-8, latin-1, cp1252, ...) can be read that way.
        if "\n".encode(info.name) != b"\n":
            raise ConfigError(
                f"encoding {self.encoding!r} cannot be read line by line",
                fix="convert the file to UTF-8 first (iconv -f ENC -t UTF-8)",
            )
        self.encoding = info.name
        if self.max_doc_bytes < 1:
            raise ConfigError("--max-doc-bytes must be positive", fix="e.g. 52428800 (50 MB)")


@dataclass(slots=True)
class InputFile:
    path: Path | None  # None = stdin
    display: str  # as shown in messages and the rejects file
    format: Format
    base: Path | None = None  # folder the file was found in (ids of txt/md are relative to it)
    size: int = 0  # bytes on disk (compressed size for .gz); 0 when unknown

    @property
    def gzipped(self) -> bool:
        return self.path is not None and self.path.suffix.lower() == ".gz"


@dataclass(slots=True)
class Record:
    """One item read from a source: a document or a reject, with its place."""

    source: str
    line: int | None
    doc: Document | None = None
    reject: Reject | None = None


@dataclass(slots=True)
class InputPlan:
    files: list[InputFile]
    skipped: list[Path] = field(default_factory=list)  # folder files of unknown format

    @property
    def total_bytes(self) -> int | None:
        """Bytes on disk of all inputs; None when stdin is one of them (no ETA)."""
        if any(f.path is None for f in self.files):
            return None
        return sum(f.size for f in self.files)


def detect_format(path: Path) -> Format | None:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return _EXTENSIONS.get(Path(name).suffix)


def plan_inputs(paths: Sequence[str], options: SourceOptions) -> InputPlan:
    """Expand the command-line paths into the list of files to read, in a stable order."""
    if not paths:
        raise InputError("no input given", fix="name files or folders, or - for JSONL on stdin")
    plan = InputPlan(files=[])
    for raw in paths:
        if raw == STDIN:
            if options.format not in (None, "jsonl"):
                raise ConfigError("stdin is read as JSONL", fix="drop --format for -")
            plan.files.append(InputFile(None, STDIN, "jsonl"))
            continue
        path = Path(raw)
        if path.is_dir():
            _plan_folder(path, options, plan)
        elif path.is_file():
            fmt = options.format or detect_format(path)
            if fmt is None:
                raise InputError(
                    f"cannot tell the format of {raw} from its extension",
                    fix=f"use --format ({'|'.join(FORMATS)})",
                )
            plan.files.append(InputFile(path, raw, fmt, path.parent, path.stat().st_size))
        else:
            raise InputError(f"no such file or folder: {raw}", fix="check the path")
    return plan


def _plan_folder(folder: Path, options: SourceOptions, plan: InputPlan) -> None:
    pattern = options.glob or "*"
    # Sorted so that a re-run reads in the same order (resume, reproducible ids).
    for path in sorted(p for p in folder.rglob(pattern) if p.is_file()):
        fmt = options.format or detect_format(path)
        if fmt is None:
            plan.skipped.append(path)  # listed in the summary, never silently
            continue
        plan.files.append(InputFile(path, str(path), fmt, folder, path.stat().st_size))


class CountingReader:
    """Counts the bytes read from the file on disk (before gunzip) for progress/ETA."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.count += len(data)
        return data

    def readline(self, n: int = -1) -> bytes:
        data = self.raw.readline(n)
        self.count += len(data)
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.raw.close()


@dataclass(slots=True)
class OpenFile:
    stream: IO[bytes]  # decompressed bytes
    counter: CountingReader

    def close(self) -> None:
        self.stream.close()
        self.counter.close()  # GzipFile.close() leaves the file object it was given open


def open_bytes(f: InputFile) -> OpenFile:
    """Open an input as a binary stream of decompressed bytes, counting raw bytes read."""
    raw: IO[bytes] = sys.stdin.buffer if f.path is None else f.path.open("rb")
    counter = CountingReader(raw)
    if f.gzipped:
        stream: IO[bytes] = gzip.GzipFile(fileobj=counter, mode="rb")  # type: ignore[arg-type]
    else:
        stream = counter  # type: ignore[assignment]
    return OpenFile(stream, counter)


@dataclass(slots=True)
class Line:
    number: int  # 1-based
    data: bytes | None  # None: longer than the limit (skipped, not kept in memory)
    size: int  # full size in bytes (without the newline)
    head: bytes = b""  # first bytes, kept for the rejects file when data is None


def read_lines(stream: IO[bytes], limit: int) -> Iterator[Line]:
    """Yield the lines of a binary stream; a line above ``limit`` bytes is not held in memory.

    ``readline(limit + 1)`` bounds each read, so a 3 GB line costs one chunk of
    memory at a time while it is skipped to its end.
    """
    number = 0
    while True:
        chunk = stream.readline(limit + 1)
        if not chunk:
            return
        number += 1
        if len(chunk) <= limit or chunk.endswith(b"\n"):
            yield Line(number, chunk.rstrip(b"\r\n"), len(chunk.rstrip(b"\r\n")))
            continue
        size, head = len(chunk), chunk[:4096]
        while True:  # skip the rest of the over-long line
            rest = stream.readline(1 << 20)
            size += len(rest.rstrip(b"\r\n"))
            if not rest or rest.endswith(b"\n"):
                break
        yield Line(number, None, size, head)


def too_big(source: str, line: Line | None, size: int, limit: int, *, at_least: bool) -> Reject:
    more = "more than " if at_least else ""
    return Reject(
        source,
        line.number if line else None,
        f"document is {more}{size} bytes, above the limit of {limit} bytes "
        "(raise it with --max-doc-bytes)",
        raw=line.head if line else None,
        raw_size=size,
    )


def decode_error(source: str, number: int | None, raw: bytes, exc: UnicodeDecodeError) -> Reject:
    return Reject(
        source,
        number,
        f"undecodable bytes for encoding {exc.encoding} at byte {exc.start} "
        "(if the file is not UTF-8, give its encoding with --encoding)",
        raw=raw,
    )


def read_sources(
    plan: InputPlan, options: SourceOptions, progress: ProgressBytes | None = None
) -> Iterator[tuple[InputFile, Record]]:
    """Every record of every input, file by file, in order."""
    # Imported here: the format readers import this module for the helpers above.
    from indexer.formats import reader_for

    for f in plan.files:
        opened = open_bytes(f)
        if progress is not None:
            progress.current = opened.counter
        try:
            for record in reader_for(f.format)(f, opened.stream, options):
                yield f, record
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            # A truncated .gz or a read error ends this file, not the run.
            yield f, Record(f.display, None, reject=Reject(f.display, None, f"read error: {exc}"))
        finally:
            if progress is not None:
                progress.done += opened.counter.count
                progress.current = None
            if f.path is not None:
                opened.close()


class ProgressBytes:
    """Bytes read so far over all files (raw, on disk), read by the progress display."""

    def __init__(self) -> None:
        self.done = 0  # bytes of finished files
        self.current: CountingReader | None = None

    @property
    def value(self) -> int:
        cur = self.current
        return self.done + (cur.count if cur is not None else 0)
