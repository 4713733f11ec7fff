"""JSONL: one JSON object per line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO

from xsearch.indexer.formats.fields import doc_id_of, field_map, to_document
from xsearch.indexer.inputs import (
    InputFile,
    Record,
    SourceOptions,
    decode_error,
    read_lines,
    too_big,
)
from xsearch.indexer.rejects import Reject

from xsearch.errors import InputError


def read(f: InputFile, stream: IO[bytes], options: SourceOptions) -> Iterator[Record]:
    renamed = field_map(options)
    for line in read_lines(stream, options.max_doc_bytes):
        if line.data is None:
            yield Record(
                f.display,
                line.number,
                reject=too_big(f.display, line, line.size, options.max_doc_bytes, at_least=False),
            )
            continue
        data = line.data
        if line.number == 1 and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]  # a UTF-8 byte-order mark, as some editors write
        if not data.strip():
            continue  # blank lines separate nothing and hold nothing
        try:
            text = data.decode(options.encoding)
        except UnicodeDecodeError as exc:
            yield Record(
                f.display, line.number, reject=decode_error(f.display, line.number, data, exc)
            )
            continue
        yield _parse(f.display, line.number, text, data, options, renamed)


def _parse(
    source: str,
    number: int,
    text: str,
    raw: bytes,
    options: SourceOptions,
    renamed: dict[str, str],
) -> Record:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        reason = f"invalid JSON: {exc.msg} (column {exc.colno})"
        return Record(source, number, reject=Reject(source, number, reason, raw=raw))
    try:
        doc = to_document(obj, options, renamed)
    except InputError as exc:
        reject = Reject(source, number, str(exc), raw=raw, doc_id=doc_id_of(obj, options))
        return Record(source, number, reject=reject)
    return Record(source, number, doc=doc)
