"""Our SearchFilter -> each backend's filter object.

A filter is first reduced to a small neutral form (``Cond`` lists for ``must``
and ``must_not``), then translated; both backends therefore get the same
logic and only the object constructors differ.

Semantics (the same on both backends):
- ``langs``: passage language is any of these; ``exclude_langs``: none of these.
- ``doc_ids``: passage belongs to any of these documents.
- ``metadata``: ``meta.<key>`` equals the value; a list means "any of".
  Numbers compare by value (2020 matches 2020.0: a range gte=lte=value is
  used, because Qdrant's exact match does not take floats). Strings and bools
  match exactly.
- ``ranges``: ``meta.<key>`` within [gte, lte] (either bound may be None).
- An empty list or dict means "no constraint" (the same as None).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from xsearch.errors import InputError
from xsearch.store.base import SearchFilter
from xsearch.store.payload import DOC_ID, LANG, META, PASSAGE

_KEY_RE = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")


@dataclass(frozen=True)
class Cond:
    """One neutral condition on a payload key."""

    kind: str  # "any" (keyword/str list) | "eq" (one str or bool) | "range" | "or"
    key: str = ""
    values: tuple[Any, ...] = ()  # for "any"/"eq": the values; "range": (gte, lte)
    children: tuple[Cond, ...] = ()  # for "or"


def meta_key(key: str) -> str:
    # Dots would address nested payload; metadata is flat, so refuse them.
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise InputError(
            f"invalid metadata filter key {key!r}",
            fix="use the metadata field name as given at indexing (letters, digits, _ or -)",
        )
    return f"{META}.{key}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _equality(key: str, value: Any) -> Cond:
    if _is_number(value):
        return Cond("range", key, (float(value), float(value)))
    if isinstance(value, (str, bool)):
        return Cond("eq", key, (value,))
    raise InputError(
        f"metadata filter on {key!r} has an unsupported value {value!r}",
        fix="filter with a string, number, boolean or a list of them",
    )


def _any_of(key: str, values: list[Any]) -> Cond:
    if not values:
        raise InputError(
            f"metadata filter on {key!r} is an empty list",
            fix="give at least one value, or leave the key out",
        )
    strings = tuple(v for v in values if isinstance(v, str))
    others = [_equality(key, v) for v in values if not isinstance(v, str)]
    parts = ([Cond("any", key, strings)] if strings else []) + others
    return parts[0] if len(parts) == 1 else Cond("or", children=tuple(parts))


def _range(key: str, bounds: Any) -> Cond:
    ok = isinstance(bounds, (tuple, list)) and len(bounds) == 2
    ok = ok and all(b is None or _is_number(b) for b in bounds)
    if not ok or (bounds[0] is None and bounds[1] is None):
        raise InputError(
            f"range filter on {key!r} must be (min, max) numbers with at least one set, "
            f"got {bounds!r}",
            fix="write e.g. ranges={'year': (2000, None)}",
        )
    return Cond("range", key, (bounds[0], bounds[1]))


def neutral(flt: SearchFilter | None) -> tuple[list[Cond], list[Cond]]:
    """(must, must_not) for a filter; both empty when there is nothing to filter."""
    must: list[Cond] = []
    must_not: list[Cond] = []
    if flt is None:
        return must, must_not
    if flt.langs:
        must.append(Cond("any", LANG, tuple(flt.langs)))
    if flt.exclude_langs:
        must_not.append(Cond("any", LANG, tuple(flt.exclude_langs)))
    if flt.doc_ids:
        must.append(Cond("any", DOC_ID, tuple(str(d) for d in flt.doc_ids)))
    for key, value in (flt.metadata or {}).items():
        k = meta_key(key)
        must.append(_any_of(k, list(value)) if isinstance(value, list) else _equality(k, value))
    for key, bounds in (flt.ranges or {}).items():
        must.append(_range(meta_key(key), bounds))
    return must, must_not


def passage_zero() -> list[Cond]:
    """Condition selecting the first passage of each document (one point per document)."""
    return [Cond("range", PASSAGE, (0, 0))]


def _translate(
    flt: SearchFilter | None,
    extra: list[Cond] | None,
    cond: Callable[[Cond], Any],
    make_filter: Callable[..., Any],
) -> Any:
    """``flt`` (and ``extra`` conditions) with one backend's condition and filter classes."""
    must, must_not = neutral(flt)
    must += extra or []
    if not must and not must_not:
        return None
    return make_filter(
        must=[cond(c) for c in must] or None,
        must_not=[cond(c) for c in must_not] or None,
    )


# --- Qdrant Edge ----------------------------------------------------------------
def _edge_cond(c: Cond) -> Any:
    import qdrant_edge as q

    if c.kind == "any":
        return q.FieldCondition(c.key, match=q.MatchAny(list(c.values)))
    if c.kind == "eq":
        value = c.values[0]
        if isinstance(value, bool):
            # qdrant-edge-py 0.9.0 turns a Python bool into the integer 1/0 (bool is
            # an int subclass), which never matches a JSON boolean; numpy.bool_ is
            # not an int and reaches Rust as a real bool.
            import numpy as np

            value = np.bool_(value)
        return q.FieldCondition(c.key, match=q.MatchValue(value))
    if c.kind == "range":
        return q.FieldCondition(c.key, range=q.RangeFloat(gte=c.values[0], lte=c.values[1]))
    return q.Filter(should=[_edge_cond(x) for x in c.children])


def to_edge(flt: SearchFilter | None, extra: list[Cond] | None = None) -> Any:
    """A ``qdrant_edge.Filter``, or None when nothing is filtered."""
    import qdrant_edge as q

    return _translate(flt, extra, _edge_cond, q.Filter)


# --- qdrant-client ----------------------------------------------------------------
def _server_cond(c: Cond) -> Any:
    from qdrant_client import models as m

    if c.kind == "any":
        return m.FieldCondition(key=c.key, match=m.MatchAny(any=list(c.values)))
    if c.kind == "eq":
        return m.FieldCondition(key=c.key, match=m.MatchValue(value=c.values[0]))
    if c.kind == "range":
        return m.FieldCondition(key=c.key, range=m.Range(gte=c.values[0], lte=c.values[1]))
    return m.Filter(should=[_server_cond(x) for x in c.children])


def to_server(flt: SearchFilter | None, extra: list[Cond] | None = None) -> Any:
    """A ``qdrant_client.models.Filter``, or None when nothing is filtered."""
    from qdrant_client import models as m

    return _translate(flt, extra, _server_cond, m.Filter)
