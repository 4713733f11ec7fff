"""The search path: query -> language -> vector -> Qdrant -> hits grouped by document.

The store returns passages; a user wants documents. We over-fetch passages, keep
the best passage of each document (its text is the snippet, with its offsets in
the document) and page over documents, not passages, so that ``offset`` pages
are disjoint.

Ranking across languages (see ``xsearch/ranking``; judged on every corpus shape,
README "Every corpus shape"):
- ``balance``: ``none`` (raw cosine), ``centered`` (language-centred vectors:
  the per-language offset of the query's score is removed), ``interleave``
  (one ranking per language, merged round-robin), ``fair`` (languages take
  soft turns inside one centred ranking: each earlier hit of the same language
  costs ``fair_turn_penalty`` spreads of the query's candidate scores);
- ``mode``: ``dense`` or ``hybrid``: the query-language passages of the
  balanced dense ranking are reordered inside their own places by dense +
  BM25-style sparse fused by weighted RRF in Qdrant over that language alone
  (words only match the query's language; other languages' places never move).
  The lexical weight grows with how clearly the best lexical document stands
  out; no vote for an ``und`` query nor from the bundle's stop words;
- ``group_translations``: the same text in several languages is one hit with
  ``also_in``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from xsearch.errors import InputError
from xsearch.schemas import AlsoIn, SearchHit, SearchRequest, SearchResponse, Snippet, Timings
from xsearch.settings import Settings
from xsearch.store.payload import DOC_ID, LANG

if TYPE_CHECKING:  # heavy modules stay out of import time
    from xsearch.encoder import Encoder
    from xsearch.store.base import ScoredPoint, SearchFilter, Store
    from xsearch.text.langid import LangGuess

# Passages fetched per wanted document: documents have several passages, and the
# best few hundred passages rarely hold fewer distinct documents than this ratio.
_OVERFETCH = 4
_MAX_FETCH = 4000
# Lexical hits looked at to judge how clearly the best document stands out.
_LEXICAL_PEEK = 8
# Centred candidates that ``balance=fair`` lets languages take turns in.
_FAIR_POOL = 200
# The least length of each list fused by the hybrid step (dense and lexical).
_FUSION_DEPTH = 100
# The payload keys ranking reads (grouping, turns, slots). Candidates are fetched
# with these alone; whole payloads (the passage text: most of the bytes) are read
# only for the page's hits. Reading payloads is most of a 200-hit query's time in
# Qdrant Edge, and whole ones cost about 1.5x two keys (bench/search_cost.py).
_RANK_FIELDS = (DOC_ID, LANG)
# The payload keys a hit is made of (``to_hit``): the page is read with these, not
# the whole payload (the document state keys and the language confidence are
# never shown; reading fewer keys is cheaper in Qdrant Edge).
_HIT_FIELDS = (DOC_ID, LANG, "title", "url", "text", "start", "end", "passage", "meta")


def validate_request(req: SearchRequest, settings: Settings) -> str:
    """Check a search request against the limits; returns the stripped query.

    The one place the limits are checked: the library, the CLI and the API (which
    calls it before queueing the query for encoding, so a bad request costs nothing).
    """
    query = req.query.strip()
    if not query:
        raise InputError(
            "the query is empty (or only whitespace)", fix="send some text in 'query' (q= in a GET)"
        )
    if len(query) > settings.max_query_chars:
        raise InputError(
            f"the query has {len(query)} characters, the limit is {settings.max_query_chars}",
            fix="shorten it (or raise XSEARCH_MAX_QUERY_CHARS on the server)",
        )
    if req.k > settings.max_k:
        raise InputError(
            f"k={req.k} is above the limit of {settings.max_k} hits per page",
            fix="ask for fewer hits and page with offset (or raise XSEARCH_MAX_K)",
        )
    if req.offset > settings.max_offset:
        raise InputError(
            f"offset={req.offset} is above the limit of {settings.max_offset}",
            fix="narrow the query with filters instead (or raise XSEARCH_MAX_OFFSET)",
        )
    return query


@dataclass(frozen=True)
class Ranking:
    balance: str
    mode: str
    group: bool


class Searcher:
    # True: the straightforward path: every store query returns whole payloads, the
    # lexical step runs even where it cannot change the page and asks Qdrant for
    # the fusion (a dense and a sparse prefetch) instead of fusing the candidates'
    # own dense order with one sparse query here (kept so tests and
    # bench/search_cost.py can check that the lean path ranks identically and
    # measure what it saves).
    full_payloads: bool = False

    def __init__(self, encoder: Encoder, store: Store, settings: Settings) -> None:
        self.encoder = encoder
        self.store = store
        self.settings = settings
        # hybrid fusions from the candidates alone / with a dense query of the
        # query's language (``_fused``; read by tests and benchmarks)
        self.fusions = {"here": 0, "dense_query": 0}

    def _fields(self, rank: Ranking | None = None) -> tuple[str, ...] | None:
        """The payload keys candidates carry (None: whole payloads).

        Whole payloads for a search that is one plain query (balance none or
        centered, mode dense): it fetches a few times the page, and a second
        round trip for the page's payloads costs more than the text it saves
        (bench/search_cost.py). ``rank=None``: a hybrid step, always lean.
        """
        if self.full_payloads:
            return None
        if rank is not None and rank.mode == "dense" and rank.balance in ("none", "centered"):
            return _HIT_FIELDS
        return _RANK_FIELDS

    # -- validation -------------------------------------------------------------
    def validate(self, req: SearchRequest) -> str:
        """Check the request against the limits; returns the stripped query."""
        return validate_request(req, self.settings)

    def ranking(self, req: SearchRequest) -> Ranking:
        s = self.settings
        return Ranking(
            balance=req.balance or s.balance,
            mode=req.mode or s.search_mode,
            group=s.group_translations
            if req.group_translations is None
            else req.group_translations,
        )

    def detect(self, req: SearchRequest) -> LangGuess:
        """The query's language (the one given in the request wins)."""
        from xsearch.text import detect_language

        return detect_language(req.query.strip(), given=req.query_lang)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode(list(texts), kind="query")

    # -- search -----------------------------------------------------------------
    def search(
        self,
        req: SearchRequest,
        *,
        vector: np.ndarray | None = None,
        guess: LangGuess | None = None,
    ) -> SearchResponse:
        """Search; ``vector`` and ``guess`` (the query's language) when the caller
        already has them (the API computes both while the query waits for its
        micro-batch)."""
        t0 = time.perf_counter()
        query = self.validate(req)
        self.store.ensure_compatible(req.collection, self.encoder.fingerprint, self.encoder.name)
        if guess is None:
            guess = self.detect(req)
        t_enc = time.perf_counter()
        if vector is None:
            vector = self.encoder.encode([query], kind="query")[0]
        encode_ms = (time.perf_counter() - t_enc) * 1000
        t_search = time.perf_counter()
        rank = self.ranking(req)
        hits = self._hits(req, query, vector, guess.lang, rank)
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
            balance=rank.balance,
            mode=rank.mode,
            group_translations=rank.group,
        )

    # -- filters ------------------------------------------------------------------
    def _filter(self, req: SearchRequest, lang: str | None = None) -> SearchFilter | None:
        from xsearch.store.base import SearchFilter
        from xsearch.text.langid import normalize_lang

        langs = [normalize_lang(x) for x in req.langs] if req.langs else None
        if lang is not None:
            langs = [lang]
        excl = [normalize_lang(x) for x in req.exclude_langs] if req.exclude_langs else None
        ranges = {k: (r.gte, r.lte) for k, r in req.ranges.items()}
        if not (langs or excl or req.metadata or ranges):
            return None
        return SearchFilter(
            langs=langs, exclude_langs=excl, metadata=dict(req.metadata), ranges=ranges
        )

    def _language_counts(self, req: SearchRequest) -> dict[str, int]:
        """Passages per language in the part of the collection the request searches."""
        from xsearch.ranking.centering import LanguageMeans
        from xsearch.text.langid import normalize_lang

        counts = LanguageMeans.counts_from_meta(self.store.get_meta(req.collection))
        if req.langs:
            keep = {normalize_lang(x) for x in req.langs}
            counts = {k: v for k, v in counts.items() if k in keep}
        if req.exclude_langs:
            drop = {normalize_lang(x) for x in req.exclude_langs}
            counts = {k: v for k, v in counts.items() if k not in drop}
        return counts

    # -- candidates -----------------------------------------------------------------
    def _hits(
        self, req: SearchRequest, query: str, vector: np.ndarray, qlang: str, rank: Ranking
    ) -> list[SearchHit]:
        wanted = req.offset + req.k
        spread = len(self._language_counts(req)) if rank.group else 1
        fetch = min(max(wanted * _OVERFETCH * max(spread, 1), 50), _MAX_FETCH)
        while True:
            points, exhausted = self._candidates(req, query, vector, qlang, rank, fetch)
            if req.min_score is not None:
                points = [p for p in points if p.score >= req.min_score]
            docs = group_by_document(points)
            groups = self._translation_groups(req, docs) if rank.group else [[d] for d in docs]
            if len(groups) >= wanted or exhausted or fetch >= _MAX_FETCH:
                break
            fetch = min(fetch * 4, _MAX_FETCH)
        page = groups[req.offset : wanted]
        if self._fields(rank) == _RANK_FIELDS:
            page = self._with_payloads(req, page)
        return [to_hit(g[0], qlang, also=g[1:]) for g in page]

    def _with_payloads(
        self, req: SearchRequest, groups: list[list[ScoredPoint]]
    ) -> list[list[ScoredPoint]]:
        """The page's hits with their whole payloads (one retrieve for the page)."""
        if not groups:
            return groups
        full = {
            p.id: p
            for p in self.store.with_payloads(
                req.collection, [p for g in groups for p in g], fields=_HIT_FIELDS
            )
        }
        # a point deleted since the query is left out (as a later query would)
        out = [[full[p.id] for p in g if p.id in full] for g in groups]
        return [g for g in out if g]

    def _candidates(
        self,
        req: SearchRequest,
        query: str,
        vector: np.ndarray,
        qlang: str,
        rank: Ranking,
        fetch: int,
    ) -> tuple[list[ScoredPoint], bool]:
        """Passages in ranking order, and whether the store has nothing more to give."""
        from xsearch.store.base import CENTERED, DENSE

        if rank.balance == "interleave":
            return self._interleaved(req, query, vector, qlang, rank, fetch)
        if rank.balance == "fair":
            # one centred ranking, then languages take turns inside it; the pool
            # does not depend on the page for the first pages (disjoint pages)
            one_language = req.langs is not None and len(req.langs) == 1  # no turns to take
            pool = fetch if one_language else min(max(fetch, _FAIR_POOL), _MAX_FETCH)
            found = self.store.query(
                req.collection, vector, using=CENTERED, k=pool, flt=self._filter(req),
                fields=self._fields(rank),
            )
            exhausted = len(found) < pool
            pts = take_turns(group_by_document(found), self.settings.fair_turn_penalty)
        else:
            using = CENTERED if rank.balance == "centered" else DENSE
            found = pts = self.store.query(
                req.collection, vector, using=using, k=fetch, flt=self._filter(req),
                fields=self._fields(rank),
            )
            exhausted = len(pts) < fetch
        if rank.mode == "hybrid" and (
            self.full_payloads or self._rerank_can_move(req, rank, pts, qlang)
        ):
            pts = self._lexical_rerank(req, query, vector, qlang, pts, found, rank, exhausted)
        return pts, exhausted

    @staticmethod
    def _rerank_can_move(
        req: SearchRequest, rank: Ranking, pts: list[ScoredPoint], qlang: str
    ) -> bool:
        """Whether the lexical step could change the page; False saves its two store
        queries (the lexical peek and the fused query) and gives the same hits.

        It only permutes the query-language passages among their own places, by
        document: with fewer than two such documents there is nothing to permute,
        and when the page is complete before the first such place (documents,
        after ``min_score``), no permutation reaches it. Not judged with
        translation grouping (groups are formed from the whole list).
        """
        slots = [i for i, p in enumerate(pts) if (p.payload.get(LANG) or "und") == qlang]
        if len({pts[i].payload.get(DOC_ID) for i in slots}) < 2:
            return False
        return rank.group or _documents_before(req, pts[: slots[0]])[-1] < req.offset + req.k

    def _lexical_rerank(
        self,
        req: SearchRequest,
        query: str,
        vector: np.ndarray,
        qlang: str,
        pts: list[ScoredPoint],
        found: list[ScoredPoint],
        rank: Ranking,
        exhausted: bool,
    ) -> list[ScoredPoint]:
        """Hybrid: reorder the query-language passages among their own places.

        Words can only match documents of the query's language, so the lexical
        list only ever speaks for them: fused with the dense ranking of that
        language alone (weighted RRF in Qdrant, as in a one-language collection),
        it reorders the passages of the query's language inside the places the
        balanced dense ranking gave them. It cannot push an answer in another
        language down (a corpus where the query's language is full of unrelated
        documents and the answer is a translation), and within one language it is
        exactly the hybrid ranking. Each passage keeps its dense/centred score.

        ``pts``: the candidates in ranking order; ``found``: the passages as the
        store ranked them (dense or centred score: inside one language both give
        the dense order, which the fusion takes as the dense list); ``exhausted``:
        ``found`` holds every passage the request can see.
        """
        from xsearch.text.langid import normalize_lang

        if qlang == "und" or not pts:
            return pts
        if req.langs and qlang not in {normalize_lang(x) for x in req.langs}:
            return pts
        slots = [i for i, p in enumerate(pts) if (p.payload.get("lang") or "und") == qlang]
        if not slots:
            return pts
        dense = [p for p in found if (p.payload.get(LANG) or "und") == qlang]
        docs = {pts[i].payload.get(DOC_ID) for i in slots}
        # the places the page can reach: the documents given them must be sure
        need = len(slots)
        if not rank.group:
            before, wanted = _documents_before(req, pts), req.offset + req.k
            need = next((j for j, i in enumerate(slots) if before[i] >= wanted), need)
        fused = self._fused(
            req, query, vector, dense, docs, need, flt=self._filter(req, qlang), share=1.0,
            k=len(pts), complete=exhausted,
        )  # fmt: skip
        if fused is None:
            return pts
        return place_in_slots(pts, slots, fused)

    def _fused(
        self,
        req: SearchRequest,
        query: str,
        vector: np.ndarray,
        dense: list[ScoredPoint],
        docs: set[Any],
        need: int,
        *,
        flt: SearchFilter | None,
        share: float,
        k: int,
        complete: bool = False,
    ) -> list[ScoredPoint] | None:
        """Dense + lexical fused by weighted RRF; None = rank dense only. The order
        it gives the documents ``docs`` is what Qdrant's fusion of the top ``k``
        gives them (at least for the best ``need`` of them). ``dense``: the passages
        of ``flt`` already found, in dense order (the top of that language's dense
        list; ``complete``: all of them), fused with one sparse query, here where
        that gives Qdrant's order (``fuse_candidates``), else with the dense list
        Qdrant's fusion would prefetch (one more query, in the query's language);
        the reference path (``full_payloads``) asks Qdrant for the fusion.

        The lexical list's weight is ``hybrid_lexical_weight`` x ``share`` (1: both
        lists are searched in the query's language only) x how clearly its best
        document stands out (``lexical_margin``): a
        query whose rare words (a name, a number, a code) match one passage gets
        a strong lexical vote; one whose words match many passages about equally
        (common words, inflected forms) gets almost none, so it cannot pull a
        better dense ranking down.
        """
        from xsearch.ranking.fusion import fuse_candidates, weighted_rrf
        from xsearch.ranking.lexical import lexical_margin, query_vector
        from xsearch.store.base import DENSE

        if share <= 0 or self.settings.hybrid_lexical_weight <= 0:
            return None
        sparse = query_vector(query, self._stop_words())
        if not sparse[0]:
            return None
        depth = max(k, _FUSION_DEPTH)  # each list's length, as Qdrant's prefetches
        # One sparse query gives both the peek and the lexical list (its top is
        # the peek: sparse search is exact); the reference path asks for each.
        lexical = self.store.query_lexical(
            req.collection, sparse, k=_LEXICAL_PEEK if self.full_payloads else depth,
            flt=flt, fields=self._fields(),
        )  # fmt: skip
        margin = lexical_margin([p.score for p in group_by_document(lexical[:_LEXICAL_PEEK])])
        weight = share * self.settings.hybrid_lexical_weight * margin
        if weight <= 0:
            return None
        rrf_k = self.settings.hybrid_rrf_k
        if self.full_payloads:
            return self.store.query_hybrid(
                req.collection, vector, sparse, using_dense=DENSE, k=k, flt=flt,
                prefetch_k=depth, weights=(1.0, weight), rrf_k=rrf_k, fields=self._fields(),
            )  # fmt: skip
        here = fuse_candidates(dense, lexical, weight, rrf_k, depth, k, docs, complete)
        if here is not None and here[1] >= need:
            self.fusions["here"] += 1
            return here[0]
        # the dense list Qdrant's fusion would prefetch, fused here all the same
        self.fusions["dense_query"] += 1
        whole = self.store.query(
            req.collection, vector, using=DENSE, k=depth, flt=flt, fields=self._fields()
        )
        return weighted_rrf([whole, lexical], (1.0, weight), rrf_k, k)

    def warm_up(self, collections: Sequence[str] | None = None) -> None:
        """Build what the first query would otherwise pay for: the stop words (read
        from the bundle's tokenizer once, then from the list kept beside it) and the
        ranking map of each collection (default: all) in the embedded store (~1 s per
        100k points, xsearch/store/rankmap.py)."""
        from xsearch.errors import XSearchError

        self._stop_words()
        for name in self.store.list_collections() if collections is None else collections:
            try:
                self.store.warm(name)
            except XSearchError:  # a damaged collection: its own searches will say so
                continue

    def _stop_words(self) -> frozenset[str]:
        """The bundle's stop words (its tokenizer's most frequent words, any language)."""
        from xsearch.ranking.lexical import frequent_words

        bundle = getattr(self.encoder, "bundle_dir", None)
        return frequent_words(bundle / "tokenizer.json") if bundle is not None else frozenset()

    def _interleaved(
        self, req: SearchRequest, query: str, vector: np.ndarray, qlang: str, rank: Ranking,
        fetch: int,
    ) -> tuple[list[ScoredPoint], bool]:  # fmt: skip
        """One ranking per language, merged round-robin (rank r of every language
        before rank r+1 of any), so every language gets the same share of the top."""
        counts = self._language_counts(req)
        per_lang = max(fetch // max(len(counts), 1), 10)
        # (the list in its order, the dense score of each rank): hits of one
        # round are ordered by dense score, a scale every list shares
        lists: list[tuple[list[ScoredPoint], list[float]]] = []
        exhausted = True
        for lang in counts:
            flt = self._filter(req, lang)
            plain = self.store.query(
                req.collection, vector, k=per_lang, flt=flt, fields=self._fields(rank)
            )
            whole = len(plain) < per_lang
            exhausted &= whole
            docs = group_by_document(plain)
            scores = [p.score for p in docs]
            if rank.mode == "hybrid" and lang in (qlang, "und"):
                # lexical matching can only help where the words can match: the
                # query's own language; the other lists stay purely dense. Its
                # fused scores (RRF) do not compare with cosines: its rank r
                # takes the round position of the dense rank r.
                mine = {d.payload.get(DOC_ID) for d in docs}
                fused = self._fused(
                    req, query, vector, plain, mine, len(mine), flt=flt, share=1.0, k=per_lang,
                    complete=whole,
                )
                if fused is not None:  # the fused order, each hit keeping its cosine
                    docs = place_in_slots(docs, list(range(len(docs))), fused)
            lists.append((docs, scores))
        merged: list[ScoredPoint] = []
        for r in range(max((len(d) for d, _ in lists), default=0)):
            round_ = [(_at(sc, r), d[r]) for d, sc in lists if r < len(d)]
            merged += [p for _, p in sorted(round_, key=lambda t: -t[0])]
        return merged, exhausted

    def _translation_groups(
        self, req: SearchRequest, docs: list[ScoredPoint]
    ) -> list[list[ScoredPoint]]:
        from xsearch.ranking.translations import group
        from xsearch.store.base import CENTERED

        if len(docs) < 2:
            return [[d] for d in docs]
        full = self.store.retrieve(req.collection, [d.id for d in docs], with_vectors=True)
        vec_by_id = {p.id: (p.vectors or {}).get(CENTERED) for p in full}
        keep = [d for d in docs if vec_by_id.get(d.id) is not None]
        if len(keep) < len(docs):  # no vectors (should not happen): no grouping
            return [[d] for d in docs]
        vectors = np.stack([np.asarray(vec_by_id[d.id], dtype=np.float32) for d in docs])
        langs = [str(d.payload.get("lang") or "und") for d in docs]
        return [[docs[i] for i in g] for g in group(vectors, langs)]


def take_turns(docs: Sequence[ScoredPoint], penalty: float | None = None) -> list[ScoredPoint]:
    """Languages take turns inside one ranking (``balance=fair``).

    ``penalty=None``: strict turns, the best of every language present, then the
    second best of each, ...; a round in the order of the ranking it came from.

    ``penalty=p``: soft turns. A document's key is its score minus ``p`` spreads
    (the standard deviation of the candidates' scores, so the margin is
    calibrated per query) for each better document of its own language. The
    second hit of a language must beat the best of another by ``p`` spreads: on
    a parallel corpus, where every language holds an answer close to the top,
    the languages share the top; a language whose best candidate is far below
    (nothing relevant: a disjoint corpus) is not promoted over a second good hit
    of the language that has the answer.

    Applied to a centred ranking: a language enters only with candidates that
    made the pool.
    """
    if penalty is not None:
        if len(docs) < 2:
            return list(docs)
        # in numpy: the 200-candidate pool of every default search goes through here
        # (3x faster than sorting tuples with a key function; the same order)
        scores = np.fromiter((p.score for p in docs), dtype=np.float64, count=len(docs))
        spread = float(np.std(scores)) or 1.0
        seen: dict[str, int] = {}
        ranks = []  # how many better documents of its own language each one has
        for p in docs:
            lang = str(p.payload.get("lang") or "und")
            r = seen.get(lang, 0)
            ranks.append(r)
            seen[lang] = r + 1
        keys = scores - penalty * spread * np.asarray(ranks, dtype=np.float64)
        order = np.lexsort((np.arange(len(docs)), -keys))  # by key, then ranking position
        return [docs[i] for i in order]
    by_lang: dict[str, list[tuple[int, ScoredPoint]]] = {}
    for pos, p in enumerate(docs):
        by_lang.setdefault(str(p.payload.get("lang") or "und"), []).append((pos, p))
    out: list[ScoredPoint] = []
    for r in range(max((len(v) for v in by_lang.values()), default=0)):
        turn = sorted((v[r] for v in by_lang.values() if r < len(v)), key=lambda t: t[0])
        out += [p for _, p in turn]
    return out


def place_in_slots(
    pts: Sequence[ScoredPoint], slots: Sequence[int], order: Sequence[ScoredPoint]
) -> list[ScoredPoint]:
    """``pts`` with the items at ``slots`` reordered by their document's place in
    ``order`` (documents absent from it after, in their own order); every item
    keeps its own score."""
    rank: dict[Any, int] = {}
    for p in order:
        rank.setdefault(p.payload.get("doc_id"), len(rank))
    mine = sorted(slots, key=lambda i: (rank.get(pts[i].payload.get("doc_id"), len(rank)), i))
    out = list(pts)
    for i, j in zip(slots, mine, strict=True):
        out[i] = pts[j]
    return out


def _documents_before(req: SearchRequest, pts: Sequence[ScoredPoint]) -> list[int]:
    """For each i in 0..len(pts): the documents of the page (after ``min_score``)
    among ``pts[:i]``; the page is complete before ``pts[i]`` once it reaches
    ``offset + k``."""
    seen: set[Any] = set()
    out = [0]
    for p in pts:
        if req.min_score is None or p.score >= req.min_score:
            seen.add(p.payload.get(DOC_ID))
        out.append(len(seen))
    return out


def _at(scores: Sequence[float], rank: int) -> float:
    """The score at ``rank``, the last one past the end (0 for none)."""
    return scores[min(rank, len(scores) - 1)] if scores else 0.0


def group_by_document(points: Sequence[ScoredPoint]) -> list[ScoredPoint]:
    """Best passage per document, in the given (ranking) order."""
    seen: set[str] = set()
    best: list[ScoredPoint] = []
    for p in points:
        doc = p.payload.get("doc_id")
        if doc in seen:
            continue
        seen.add(doc)
        best.append(p)
    return best


def to_hit(p: ScoredPoint, query_lang: str, also: Sequence[ScoredPoint] = ()) -> SearchHit:
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
        also_in=[
            AlsoIn(
                doc_id=str(a.payload.get("doc_id")),
                lang=a.payload.get("lang") or "und",
                title=a.payload.get("title"),
                score=round(float(a.score), 6),
            )
            for a in also
        ],
    )
