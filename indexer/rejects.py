"""Rejected input: where it was, why, and the raw bytes, so nothing is lost.

Every record that cannot become a document (a malformed JSON line, a missing
text field, a CSV row with the wrong column count, undecodable bytes, a
document over the size limit) is a :class:`Reject`. The run goes on; the
rejects go to a JSONL file that can be fixed and fed back with the same
command. ``--strict`` turns the first reject into :class:`StrictStop`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from xsearch.errors import InputError

# The raw line kept in the rejects file: enough to see and fix the problem,
# bounded so a rejected 3 GB line does not make a 3 GB rejects file.
RAW_KEEP_BYTES = 4096


@dataclass(slots=True)
class Reject:
    source: str  # file name as given on the command line ("-" for stdin)
    line: int | None  # 1-based line number (the first line of a CSV record); None: whole file
    reason: str
    raw: bytes | None = None  # the raw record (will be cut to RAW_KEEP_BYTES)
    raw_size: int | None = None  # full size of the raw record in bytes, when known
    doc_id: str | None = None

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line is not None else self.source

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": self.source,
            "line": self.line,
            "reason": self.reason,
            "doc_id": self.doc_id,
        }
        if self.raw is not None:
            size = self.raw_size if self.raw_size is not None else len(self.raw)
            # backslashreplace keeps undecodable bytes visible as \xNN instead of losing them.
            out["raw"] = self.raw[:RAW_KEEP_BYTES].decode("utf-8", errors="backslashreplace")
            out["raw_bytes"] = size
            out["raw_truncated"] = size > RAW_KEEP_BYTES
        return out


class StrictStop(InputError):
    """The first reject of a ``--strict`` run."""

    code = "strict_reject"
    exit_code = 2

    def __init__(self, reject: Reject) -> None:
        self.reject = reject
        super().__init__(
            f"{reject.where}: {reject.reason}",
            fix="fix the input, or run without --strict to write bad records to the "
            "rejects file and go on",
        )


class RejectSink:
    """Thread-safe JSONL writer of rejects; the file is created on the first reject.

    Creating it lazily means a clean run leaves no empty rejects file behind.
    """

    def __init__(self, path: Path | None, *, strict: bool = False, keep: int = 5) -> None:
        self.path = path
        self.strict = strict
        self.count = 0
        self.first: list[Reject] = []  # the first few, for the summary
        self._keep = keep
        self._fh: IO[str] | None = None
        self._lock = threading.Lock()

    def add(self, reject: Reject) -> None:
        with self._lock:
            self.count += 1
            if len(self.first) < self._keep:
                self.first.append(reject)
            if self.path is not None:
                if self._fh is None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    # A rejected id may hold a lone surrogate (that is why it was
                    # rejected): written as its \uXXXX escape, which JSON reads back.
                    self._fh = self.path.open("w", encoding="utf-8", errors="backslashreplace")
                self._fh.write(json.dumps(reject.to_json(), ensure_ascii=False) + "\n")
                # Flushed per record: a killed run must still show what it rejected.
                self._fh.flush()
        if self.strict:
            raise StrictStop(reject)

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None

    def __enter__(self) -> RejectSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
