"""Request and response shapes shared by the library, the CLI and the API.

Pydantic models, so the API exposes exactly these in its OpenAPI schema and the
library validates the same limits the API documents.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
)

from xsearch import validation
from xsearch.documents import MetaValue

__all__ = ["MetaValue"]  # re-exported: requests and documents share one definition

# Request fields where a JSON boolean must not pass as a number (pydantic's lax
# mode turns true into 1, so "k": true searched for one hit) and numbers must be
# finite; ints also keep to 64 bits (the store's integer width).
Int64 = Annotated[StrictInt, Field(ge=validation.INT64_MIN, le=validation.INT64_MAX)]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]


def _doc_id(value: str | int | None) -> str | int | None:
    if isinstance(value, str) and value != "":  # "" means "derive the id from the content"
        problem = validation.id_problem(value)
        if problem:  # a ValueError, so that pydantic names the field (body.documents.3.id)
            raise ValueError(f"the id {problem}: {validation.ID_FIX}")
    return value


DocIdIn = Annotated[StrictStr | Int64 | None, AfterValidator(_doc_id)]
Balance = Literal["none", "centered", "interleave", "fair"]
Mode = Literal["dense", "hybrid"]


class RangeFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gte: Number | None = None
    lte: Number | None = None


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(..., description="the query, in any language")
    collection: str = Field(..., description="collection to search")
    # The bounds go inside Annotated: a Field(ge=...) assigned to an Int64 field is
    # dropped (Int64's own Field(ge=INT64_MIN) wins), which let k=0 and offset=-5 in.
    k: Annotated[Int64, Field(ge=1)] = Field(10, description="hits per page (documents)")
    offset: Annotated[Int64, Field(ge=0)] = Field(0, description="hits to skip (pagination)")
    langs: list[str] | None = Field(None, description="only documents in these languages")
    exclude_langs: list[str] | None = Field(None, description="never these languages")
    metadata: dict[str, MetaValue | list[MetaValue]] = Field(
        default_factory=dict, description="metadata equality filters (a list = any of)"
    )
    ranges: dict[str, RangeFilter] = Field(
        default_factory=dict, description="metadata range filters"
    )
    min_score: Number | None = Field(None, description="drop hits scoring below this")
    query_lang: str | None = Field(None, description="language of the query, if known")
    # Ranking options; None = the engine's default (Settings.balance, search_mode, ...).
    balance: Balance | None = None
    mode: Mode | None = None
    group_translations: StrictBool | None = None


class Snippet(BaseModel):
    text: str
    start: int = Field(..., description="character offset of the passage in the document text")
    end: int
    passage: int = Field(..., description="passage number inside the document")


class AlsoIn(BaseModel):
    doc_id: str
    lang: str
    title: str | None = None
    score: float


class SearchHit(BaseModel):
    doc_id: str
    title: str | None = None
    url: str | None = None
    lang: str
    score: float = Field(
        ...,
        description="the score of the balance used (README 'What a score means'): cosine "
        "for none/interleave; for centered/fair (default) the centred score, (cosine - the "
        "language's offset) x its scale, comparable across languages within one query. "
        "mode=hybrid reorders hits, never rescores them; interleave/fair pages are not "
        "sorted by score.",
    )
    snippet: Snippet
    cross_language: bool = Field(..., description="document language differs from the query's")
    metadata: dict[str, MetaValue] = Field(default_factory=dict)
    also_in: list[AlsoIn] = Field(default_factory=list, description="same text in other languages")


class Timings(BaseModel):
    encode_ms: float = Field(
        description="query encoding as the request lived it (API: waiting for its micro-batch "
        "+ the batch's encoder call); 0 when a repeated query reused its kept vector"
    )
    search_ms: float = Field(description="store queries and ranking")
    total_ms: float = Field(description="the whole request in the server")


class SearchResponse(BaseModel):
    query: str
    query_lang: str
    query_lang_confidence: float
    collection: str
    k: int
    offset: int
    hits: list[SearchHit]
    timings: Timings
    balance: str = "none"
    mode: str = "dense"
    group_translations: bool = False


class DocumentIn(BaseModel):
    """A document as sent to the API (and read from JSONL)."""

    model_config = ConfigDict(extra="allow")
    id: DocIdIn = Field(
        None,
        description="a string (or integer) of 1-1024 printable characters; "
        "omitted = derived from the content",
    )
    text: str
    title: str | None = None
    url: str | None = None
    lang: str | None = None
    metadata: dict[str, MetaValue] = Field(default_factory=dict)


# failed: the document was valid but its write failed (store error, deadline) and was
# rolled back: nothing of it (or its previous version, restored) changed.
DocStatus = Literal["indexed", "unchanged", "rejected", "failed"]


class DocResult(BaseModel):
    id: str | None
    status: DocStatus
    passages: int = 0
    reason: str | None = None
    lang: str | None = None


class IndexRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    documents: list[DocumentIn]


class IndexResponse(BaseModel):
    collection: str
    results: list[DocResult]
    indexed: int
    unchanged: int
    rejected: int
    failed: int = 0


class StoredPassage(BaseModel):
    model_config = ConfigDict(extra="allow")
    passage: int
    lang: str
    start: int
    end: int
    text: str


class StoredDocument(BaseModel):
    """A stored document rebuilt from its passages."""

    model_config = ConfigDict(extra="allow")
    id: str
    title: str | None = None
    url: str | None = None
    lang: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    n_passages: int = 0
    complete: bool = Field(True, description="false when some passages are missing")
    text: str = ""
    passages: list[StoredPassage] = Field(default_factory=list)


class DeleteResponse(BaseModel):
    collection: str
    id: str
    deleted_passages: int


class CollectionSummary(BaseModel):
    name: str
    bundle: str | None = Field(None, description="model bundle the collection was built with")
    compatible: bool = Field(..., description="searchable with the bundle this server loaded")


class CollectionList(BaseModel):
    collections: list[CollectionSummary]


class CollectionInfo(BaseModel):
    name: str
    points: int = Field(..., description="passages stored")
    documents: int
    languages: dict[str, int] = Field(..., description="passages per language")
    dimension: int
    fingerprint: str
    bundle: str
    disk_bytes: int | None = None
    indexed: bool = Field(..., description="the vector index (HNSW) is built")
    compatible: bool = Field(..., description="searchable with the bundle this server loaded")


Kind = Literal["query", "passage"]


class EncodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: list[str] = Field(..., description="texts to encode")
    kind: Kind = Field("passage", description="query or passage: the bundle's prompt for it")


class EncodeResponse(BaseModel):
    bundle: str
    dimension: int
    kind: Kind
    vectors: list[list[float]] = Field(..., description="unit vectors, one per text, in order")
