"""Checks on values that come from outside (API bodies, input files), run before any work.

Python's ``json`` hands over things no later stage can handle: lone UTF-16
surrogates (``"\\ud800"`` is valid JSON escape syntax but not Unicode text, so
the tokenizer and every ``.encode("utf-8")`` raise), ``NaN``/``Infinity`` and
integers of any size (Qdrant stores payload integers as 64-bit and silently
turned larger ones into floats). Each check raises :class:`InputError` naming
the field and the fix, so the API answers 422 and the CLI indexer records a
reject with its file and line, instead of a crash or a 500 halfway through.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from xsearch.errors import InputError

# The one collection-name pattern. The API declares it as-is (pydantic's Rust
# engine reads "$" as end of text); Python code must use ``re.fullmatch`` with
# it, because Python's "$" also matches before a trailing newline ("news\n").
COLLECTION_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_COLLECTION_NAME_RE = re.compile(COLLECTION_NAME_PATTERN)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_ID_CHARS = 1024
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
ID_FIX = (
    f"use ids of 1-{MAX_ID_CHARS} printable characters (letters, digits, '-', '_', '.', '/' ...)"
)


def is_collection_name(name: object) -> bool:
    return isinstance(name, str) and _COLLECTION_NAME_RE.fullmatch(name) is not None


def text_problem(value: str) -> str | None:
    """Why ``value`` is not sendable UTF-8 text, or None when it is."""
    m = _SURROGATE_RE.search(value)
    if m is None:
        return None
    return (
        f"holds a lone UTF-16 surrogate (\\u{ord(m.group()):04x}) at character {m.start()}, "
        "which is not Unicode text"
    )


def check_text(value: str, where: str) -> str:
    problem = text_problem(value)
    if problem:
        raise InputError(
            f"{where} {problem}",
            fix="send valid UTF-8 (a \\ud83d-style escape must be followed by its low half)",
        )
    return value


def check_number(value: int | float, where: str) -> int | float:
    """Booleans pass (they are their own JSON type); ints must fit 64 bits; floats be finite."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise InputError(
            f"{where} is an integer beyond 64 bits ({len(str(abs(value)))} digits)",
            fix=f"send an integer between {INT64_MIN} and {INT64_MAX}, or the value as a string",
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"{where} must be a finite number, got {value}", fix="send a number")
    return value


def id_problem(doc_id: str) -> str | None:
    """Why ``doc_id`` cannot be a document id, or None when it can.

    An id must be reachable as ``GET /collections/c/documents/{id}``: no control
    characters or line breaks (a path cannot carry them), no '.'/'..' path
    segments (clients and proxies remove them from URLs), a bounded length.
    """
    if not doc_id:
        return "is empty"
    if len(doc_id) > MAX_ID_CHARS:
        return f"has {len(doc_id)} characters, the limit is {MAX_ID_CHARS}"
    problem = text_problem(doc_id)
    if problem:
        return problem
    for i, ch in enumerate(doc_id):
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            return f"holds the control character {ch!r} at character {i}"
    if any(part in (".", "..") for part in doc_id.split("/")):
        return "has a '.' or '..' path segment, which URLs cannot address"
    return None


def check_id(doc_id: str, where: str = "field 'id'") -> str:
    problem = id_problem(doc_id)
    if problem:
        raise InputError(f"{where} {problem}", fix=ID_FIX)
    return doc_id


def check_json(value: Any, where: str = "body") -> None:
    """Walk a parsed JSON value whole; raise on the first string, number or key that no
    later stage can take, naming its path (``body.documents.3.metadata.year``).

    Iterative, so a deeply nested body cannot exhaust the interpreter's stack.
    """
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            check_text(item, path)
        elif isinstance(item, (int, float)):
            check_number(item, path)
        elif isinstance(item, dict):
            for key, sub in item.items():
                key_path = f"{path}.{key}" if isinstance(key, str) else path
                if isinstance(key, str) and text_problem(key):
                    check_text(key, f"a key in {path}")
                stack.append((sub, key_path))
        elif isinstance(item, list):
            stack.extend((sub, f"{path}.{i}") for i, sub in enumerate(item))
