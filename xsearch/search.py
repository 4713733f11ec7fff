"""The search path: query -> language -> vector -> Qdrant -> hits grouped by document.

The store returns passages; a user wants documents. We over-fetch passages, keep
the best passage of each document (its text is the snippet, with its offsets in
the document) and page over documents, not passages, so that ``offset`` pages
are disjoint.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from xsearch.errors import InputError, LimitExceeded
from xsearch.schemas import SearchHit, SearchRequest, SearchResponse, Snippet, Timings
from xsearch.settings import Settings

if TYPE_CHECKING:  # heavy modules stay out of import time
    from xsearch.encoder import Encoder
    from xsearch.store.base import ScoredPoint, SearchFilter, Store

# Passages fetched per wanted document: documents have several passages, and the
# best few hundred passages rarely hold fewer distinct documents than this ratio.
_OVERFETCH = 4
_MAX_FETCH = 4000


class Searcher:
    def __init__(self, encoder: Encoder, store: Store, settings: Settings) -> None:
        self.encoder = encoder
        self.store = store
        self.settings = settings

    # -- validation -------------------------------------------------------------
    def validate(self, req: SearchRequest) -> str:
        """Check the request against the limits; returns the stripped query."""
        s = self.settings
        query = req.query.strip()
        if not query:
            raise InputError("the query is empty", fix="send some text in 'query' (or q=)")
        if len(query) > s.max_query_chars:
            raise LimitExceeded(
                f"the query has {len(query)} characters, the limit is {s.max_query_chars}",
                fix="shorten it (or raise XSEARCH_MAX_QUERY_CHARS)",
            )
        if req.k > s.max_k:
            raise InputError(
                f"k={req.k} is above the limit of {s.max_k}", fix="ask for fewer hits per page"
            )
        if req.offset > s.max_offset:
            raise InputError(
                f"offset={req.offset} is above the limit of {s.max_offset}",
                fix="narrow the query with filters instead of paging that deep",
            )
        return query

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode(list(texts), kind="query")

    # -- search -----------------------------------------------------------------
    def search(self, req: SearchRequest, *, vector: np.ndarray | None = None) -> SearchResponse:
        from xsearch.text import detect_language

        t0 = time.perf_counter()
        query = self.validate(req)
        self.store.ensure_compatible(req.collection, self.encoder.fingerprint, self.encoder.name)
        guess = detect_language(query, given=req.query_lang)
        t_enc = time.perf_counter()
        if vector is None:
            vector = self.encoder.encode([query], kind="query")[0]
        encode_ms = (time.perf_counter() - t_enc) * 1000
        t_search = time.perf_counter()
        flt = self._filter(req)
        hits = self._grouped_hits(req, vector, flt, guess.lang)
        search_ms = (time.perf_counter() - t_search) * 1000
        return SearchResponse(
            query=query,
            query_lang=guess.lang,
            query_lang_confidence=round(guess.confidence, 4),
            collection=req.collection,
            k=req.k,
            offset=req.offset,
            hits=hits,
            timings=Timings(
                encode_ms=round(encode_ms, 3),
                search_ms=round(search_ms, 3),
                total_ms=round((time.perf_counter() - t0) * 1000, 3),
            ),
        )

    def _filter(self, req: SearchRequest) -> SearchFilter | None:
        from xsearch.store.base import SearchFilter
        from xsearch.text.langid import normalize_lang

        langs = [normalize_lang(x) for x in req.langs] if req.langs else None
        excl = [normalize_lang(x) for x in req.exclude_langs] if req.exclude_langs else None
        ranges = {k: (r.gte, r.lte) for k, r in req.ranges.items()}
        if not (langs or excl or req.metadata or ranges):
            return None
        return SearchFilter(
            langs=langs, exclude_langs=excl, metadata=dict(req.metadata), ranges=ranges
        )

    def _grouped_hits(
        self, req: SearchRequest, vector: np.ndarray, flt: SearchFilter | None, query_lang: str
    ) -> list[SearchHit]:
        wanted = req.offset + req.k
        fetch = min(max(wanted * _OVERFETCH, 50), _MAX_FETCH)
        while True:
            points = self.store.query(
                req.collection,
                vector,
                k=fetch,
                flt=flt,
                score_threshold=req.min_score,
            )
            groups = group_by_document(points)
            # Enough documents, or the store has nothing more to give.
            if len(groups) >= wanted or len(points) < fetch or fetch >= _MAX_FETCH:
                break
            fetch = min(fetch * 4, _MAX_FETCH)
        page = groups[req.offset : wanted]
        return [to_hit(p, query_lang) for p in page]


def group_by_document(points: Sequence[ScoredPoint]) -> list[ScoredPoint]:
    """Best passage per document, in score order (points come sorted by score)."""
    seen: set[str] = set()
    best: list[ScoredPoint] = []
    for p in points:
        doc = p.payload.get("doc_id")
        if doc in seen:
            continue
        seen.add(doc)
        best.append(p)
    return best


def to_hit(p: ScoredPoint, query_lang: str) -> SearchHit:
    pl: dict[str, Any] = p.payload
    lang = pl.get("lang") or "und"
    cross = lang != query_lang and "und" not in (lang, query_lang)
    return SearchHit(
        doc_id=str(pl.get("doc_id")),
        title=pl.get("title"),
        url=pl.get("url"),
        lang=lang,
        score=round(float(p.score), 6),
        snippet=Snippet(
            text=pl.get("text", ""),
            start=int(pl.get("start", 0)),
            end=int(pl.get("end", 0)),
            passage=int(pl.get("passage", 0)),
        ),
        cross_language=cross,
        metadata=dict(pl.get("meta") or {}),
    )
