"""CSV and TSV: a header row, then one document per row.

``--id-field``/``--text-field``/``--title-field``/``--lang-field`` pick the
columns; every other column goes to the metadata (as strings: no guessing of
types; empty cells are left out). A row whose column count differs from the
header's is rejected with its line number.

CSV follows RFC 4180 (quoted fields may hold commas and newlines). TSV is read
as the IANA text/tab-separated-values format: no quoting, so a field may
start with a quote character (common in sentence corpora).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import IO

from xsearch.indexer.formats.fields import field_map, to_document
from xsearch.indexer.inputs import InputFile, Line, Record, SourceOptions, read_lines, too_big
from xsearch.indexer.rejects import Reject

from xsearch.errors import InputError

# surrogateescape maps undecodable bytes to U+DC80..U+DCFF
_BAD = re.compile("[\udc80-\udcff]")
_STANDARD = frozenset({"id", "text", "title", "lang", "url"})


def read_csv(f: InputFile, stream: IO[bytes], options: SourceOptions) -> Iterator[Record]:
    yield from _read(f, stream, options, delimiter=",", quoting=csv.QUOTE_MINIMAL)


def read_tsv(f: InputFile, stream: IO[bytes], options: SourceOptions) -> Iterator[Record]:
    yield from _read(f, stream, options, delimiter="\t", quoting=csv.QUOTE_NONE)


class _Lines:
    """Feeds decoded lines to csv.reader and keeps the raw bytes of the current record.

    Bytes are decoded with surrogateescape so that csv.reader sees every line;
    a row that contains an undecodable byte is then rejected on its own.
    A line over the size limit is replaced by an empty line (it is never held
    in memory) and reported through ``oversized``.
    """

    def __init__(self, stream: IO[bytes], options: SourceOptions) -> None:
        self._lines = read_lines(stream, options.max_doc_bytes)
        self._encoding = options.encoding
        self.raw: list[bytes] = []
        self.raw_size = 0
        self.oversized: list[Line] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        if line.data is None:
            self.oversized.append(line)
            return "\n"
        data = line.data
        if line.number == 1 and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        if self.raw_size < 4096:
            self.raw.append(data)
        self.raw_size += len(data) + 1
        return data.decode(self._encoding, errors="surrogateescape") + "\n"

    def take_raw(self) -> tuple[bytes, int]:
        raw, size = b"\n".join(self.raw), self.raw_size
        self.raw, self.raw_size = [], 0
        return raw, max(size - 1, 0)


def _read(
    f: InputFile, stream: IO[bytes], options: SourceOptions, *, delimiter: str, quoting: int
) -> Iterator[Record]:
    # csv's default field limit is 128 KiB; documents may be as large as the doc limit.
    csv.field_size_limit(max(options.max_doc_bytes, csv.field_size_limit()))
    lines = _Lines(stream, options)
    reader = csv.reader(lines, delimiter=delimiter, quoting=quoting, strict=False)
    src = f.display
    try:
        header = next(reader)
    except StopIteration:
        return  # an empty file holds no documents
    lines.take_raw()
    problem = _header_problem(header, options)
    if problem:
        yield Record(src, 1, reject=Reject(src, 1, problem))
        return
    renamed = field_map(options)
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raw, size = lines.take_raw()
            yield Record(src, start, reject=Reject(src, start, f"bad CSV: {exc}", raw, size))
            start = reader.line_num + 1
            continue
        raw, size = lines.take_raw()
        yield from _oversized(src, lines, options)
        if row:  # an empty line (or a skipped over-long one) is no row
            yield _row_record(src, start, row, header, raw, size, options, renamed)
        start = reader.line_num + 1


def _oversized(src: str, lines: _Lines, options: SourceOptions) -> Iterator[Record]:
    for line in lines.oversized:
        reject = too_big(src, line, line.size, options.max_doc_bytes, at_least=False)
        yield Record(src, line.number, reject=reject)
    lines.oversized.clear()


def _header_problem(header: list[str], options: SourceOptions) -> str | None:
    if any(_BAD.search(name) for name in header):
        return (
            f"undecodable bytes for encoding {options.encoding} in the header row "
            "(if the file is not UTF-8, give its encoding with --encoding)"
        )
    if options.text_field not in header:
        return (
            f"no column {options.text_field!r} in the header ({', '.join(header)}): "
            "choose the text column with --text-field"
        )
    if len(set(header)) != len(header):
        return f"duplicate column names in the header ({', '.join(header)}): rename them"
    return None


def _row_record(
    src: str,
    start: int,
    row: list[str],
    header: list[str],
    raw: bytes,
    size: int,
    options: SourceOptions,
    renamed: dict[str, str],
) -> Record:
    if len(row) != len(header):
        reason = f"row has {len(row)} fields, the header has {len(header)}"
        return Record(src, start, reject=Reject(src, start, reason, raw, size))
    if any(_BAD.search(value) for value in row):
        reason = (
            f"undecodable bytes for encoding {options.encoding} "
            "(if the file is not UTF-8, give its encoding with --encoding)"
        )
        return Record(src, start, reject=Reject(src, start, reason, raw, size))
    # Columns that become document fields; a column named like a renamed field
    # (e.g. "text" when --text-field body) is plain metadata.
    named = set(renamed.values()) | (_STANDARD - set(renamed))
    obj: dict[str, object] = {}
    meta: dict[str, object] = {}
    for name, value in zip(header, row, strict=True):
        if value == "":
            continue  # an empty cell is an absent value
        (obj if name in named else meta)[name] = value
    obj["metadata"] = meta
    try:
        doc = to_document(obj, options, renamed)
    except InputError as exc:
        doc_id = obj.get(options.id_field)
        reject = Reject(src, start, str(exc), raw, size, doc_id=str(doc_id) if doc_id else None)
        return Record(src, start, reject=reject)
    return Record(src, start, doc=doc)
