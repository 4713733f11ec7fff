"""Input sources: files, folders and stdin turned into a stream of documents.

``read_sources(paths, options)`` yields :class:`Record` items — a document
with the place it came from, or a :class:`~xsearch.indexer.rejects.Reject`. Memory
stays constant whatever the input size: files are read line by line (one
document's worth at most), and the bytes of each line are decoded on their
own so one bad line is one reject, not a failed run.

Formats (by extension, ``.gz`` stripped first, or forced with ``--format``):
``jsonl`` (.jsonl .ndjson), ``csv``, ``tsv`` (.tsv .tab), ``txt`` (.txt .text)
and ``md`` (.md .markdown); ``-`` is JSONL on stdin. The shapes that the
format readers share with this module live in ``xsearch.indexer.inputs`` (so the
readers never import this module: sources -> formats -> inputs).
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from xsearch.indexer.formats import reader_for
from xsearch.indexer.inputs import FORMATS, Format, InputFile, Record, SourceOptions
from xsearch.indexer.rejects import Reject

from xsearch.errors import ConfigError, InputError

__all__ = ["FORMATS", "Format", "InputFile", "Record", "SourceOptions"]  # re-exported

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
STDIN = "-"


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


def read_sources(
    plan: InputPlan, options: SourceOptions, progress: ProgressBytes | None = None
) -> Iterator[tuple[InputFile, Record]]:
    """Every record of every input, file by file, in order."""
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
