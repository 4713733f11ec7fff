"""One reader per input format: ``reader(file, stream, options) -> Iterator[Record]``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO

from xsearch.indexer.inputs import Format, InputFile, Record, SourceOptions

Reader = Callable[[InputFile, IO[bytes], SourceOptions], Iterator[Record]]


def reader_for(fmt: Format) -> Reader:
    from xsearch.indexer.formats import delimited, jsonl, text

    readers: dict[str, Reader] = {
        "jsonl": jsonl.read,
        "csv": delimited.read_csv,
        "tsv": delimited.read_tsv,
        "txt": text.read,
        "md": text.read,
    }
    return readers[fmt]
