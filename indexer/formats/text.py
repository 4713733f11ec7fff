"""Plain text and Markdown: one document per file.

The id is the path relative to the folder given on the command line (``.gz``
left out, so compressing a corpus keeps its ids), with ``/`` separators on
every OS. A Markdown file whose first non-blank line is a ``# heading`` gets
that heading as its title; the text is kept whole (offsets stay exact).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO

from xsearch.indexer.inputs import InputFile, Record, SourceOptions, too_big
from xsearch.indexer.rejects import Reject

from xsearch.documents import Document
from xsearch.errors import InputError


def doc_id_for(f: InputFile) -> str:
    assert f.path is not None
    rel = f.path.relative_to(f.base) if f.base is not None else Path(f.path.name)
    ident = rel.as_posix()
    return ident[:-3] if ident.lower().endswith(".gz") else ident


def read(f: InputFile, stream: IO[bytes], options: SourceOptions) -> Iterator[Record]:
    src, limit = f.display, options.max_doc_bytes
    data = stream.read(limit + 1)
    if len(data) > limit:
        size = len(data) + _drain(stream)
        reject = too_big(src, None, size, limit, at_least=False)
        reject.raw = data[:4096]
        yield Record(src, None, reject=reject)
        return
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    doc_id = doc_id_for(f)
    try:
        text = data.decode(options.encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        reason = (
            f"undecodable bytes for encoding {options.encoding} at byte {exc.start} "
            "(if the file is not UTF-8, give its encoding with --encoding)"
        )
        yield Record(src, line, reject=Reject(src, line, reason, data, doc_id=doc_id))
        return
    title = _markdown_title(text) if f.format == "md" else None
    try:
        doc = Document.from_dict({"id": doc_id, "text": text, "title": title})
    except InputError as exc:
        yield Record(src, None, reject=Reject(src, None, str(exc), data, doc_id=doc_id))
        return
    yield Record(src, 1, doc=doc)


def _drain(stream: IO[bytes]) -> int:
    size = 0
    while chunk := stream.read(1 << 20):
        size += len(chunk)
    return size


def _markdown_title(text: str) -> str | None:
    for line in text.splitlines():
        if not line.strip():
            continue
        stripped = line.strip()
        if stripped.startswith("# "):
            return stripped[2:].strip().rstrip("#").strip() or None
        return None
    return None
