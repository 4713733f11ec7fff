"""What ``xsearch.Engine`` (in-process) and ``xsearch.Client`` (over HTTP) share.

Both turn the same arguments into the same requests here, so a call that one
refuses the other refuses with the same error, and both hand back the same
typed objects (``xsearch.schemas``). ``SearchEngine`` is the protocol both
implement: code written against it runs on either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, Unpack, get_args

from pydantic import ValidationError

from xsearch.documents import Document, MetaValue
from xsearch.errors import InputError
from xsearch.schemas import (
    Balance,
    CollectionInfo,
    CollectionSummary,
    DocResult,
    DocStatus,
    DocumentIn,
    IndexResponse,
    Kind,
    Mode,
    RangeFilter,
    SearchRequest,
    SearchResponse,
    StoredDocument,
)

if TYPE_CHECKING:
    import numpy as np

DEFAULT_COLLECTION = "default"

# What ``add`` accepts: a Document, the API's DocumentIn, a plain dict with the
# same fields, or a bare string (the text; its id is derived from the content).
DocumentLike = Document | DocumentIn | Mapping[str, Any] | str


class SearchEngine(Protocol):
    """The methods ``Engine`` and ``Client`` both offer, with the same results."""

    collection: str

    def add(
        self, documents: Iterable[DocumentLike], *, collection: str | None = None
    ) -> IndexResponse: ...

    def search(self, query: str, **options: Unpack[SearchOptions]) -> SearchResponse: ...

    def get(self, doc_id: str, *, collection: str | None = None) -> StoredDocument | None: ...

    def delete(self, ids: str | Sequence[str], *, collection: str | None = None) -> int: ...

    def stats(self, collection: str | None = None) -> CollectionInfo: ...

    def collections(self) -> list[CollectionSummary]: ...

    def encode(self, texts: str | Sequence[str], *, kind: Kind = "passage") -> np.ndarray: ...

    def close(self) -> None: ...


def document_payload(doc: DocumentLike) -> dict[str, Any]:
    """One document as the API's JSON (and ``Document.from_dict``) reads it."""
    if isinstance(doc, str):
        return {"text": doc}
    if isinstance(doc, Document):
        out = {k: v for k, v in doc.to_dict().items() if v is not None}
        if not out.get("metadata"):
            out.pop("metadata", None)
        return out
    if isinstance(doc, DocumentIn):
        return doc.model_dump(exclude_none=True)
    return dict(doc)


class SearchOptions(TypedDict, total=False):
    """Keyword options of ``search`` (the fields of ``SearchRequest`` but the query)."""

    collection: str
    k: int
    offset: int
    langs: Sequence[str] | None
    exclude_langs: Sequence[str] | None
    metadata: Mapping[str, MetaValue | list[MetaValue]] | None
    ranges: Mapping[str, RangeFilter | Mapping[str, float]] | None
    min_score: float | None
    query_lang: str | None
    balance: Balance | None
    mode: Mode | None
    group_translations: bool | None


def search_request(default_collection: str, query: str, options: SearchOptions) -> SearchRequest:
    """A validated request; a bad option raises ``InputError`` (the API answers 422)."""
    fields: dict[str, Any] = {"collection": default_collection, **options, "query": query}
    for key in ("langs", "exclude_langs"):
        fields[key] = list(fields[key]) if fields.get(key) else None
    fields["metadata"] = dict(fields.get("metadata") or {})
    fields["ranges"] = dict(fields.get("ranges") or {})
    try:
        return SearchRequest.model_validate(fields)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg']}"
            for e in err.errors()
        )
        raise InputError(f"invalid search: {problems}", fix="fix these options") from None


def id_list(ids: str | Sequence[str]) -> list[str]:
    """``delete("a")`` and ``delete(["a", "b"])`` both work; each id once, in order."""
    return list(dict.fromkeys([ids] if isinstance(ids, str) else [str(i) for i in ids]))


def index_response(collection: str, results: list[DocResult]) -> IndexResponse:
    """The response for these per-document results, with the count of each status."""
    counts = {s: sum(r.status == s for r in results) for s in get_args(DocStatus)}
    return IndexResponse(collection=collection, results=results, **counts)
