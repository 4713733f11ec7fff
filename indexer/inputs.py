"""What the source planner and the format readers share: options, input files,
records, and reading bounded lines (the readers import only this module)."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from xsearch.indexer.rejects import Reject

from xsearch.documents import Document
from xsearch.errors import ConfigError

Format = Literal["jsonl", "csv", "tsv", "txt", "md"]
FORMATS: tuple[str, ...] = ("jsonl", "csv", "tsv", "txt", "md")
DEFAULT_MAX_DOC_BYTES = 50 * 1024 * 1024

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
