"""The skewed pool from bitext: one dominant language full of distractors, answers elsewhere.

Built from TSV bitext files that share one language (Tatoeba ``xxx-eng.tsv``:
the pivot, English). For each file, ``per_lang`` pairs (evenly spread) are
picked: the pivot side is a query, the other side is its answer, indexed as a
document in its own language. ``distractors`` more pivot-language sentences,
taken from the pairs not picked, are indexed too: unrelated sentences in the
query's own language, the shape where a multilingual encoder's language bias
hurts most (issue 11: 1,000 unrelated English sentences + 50 in each other
language). The pool is indexed and searched through the product path (indexing
service, embedded store, :class:`~xsearch.search.Searcher`), like ``eval qa``.

Reported per ranking setting: MRR@10, recall@1, recall@10 and the share of the
top 10 in the pivot language (the distractors' language).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from xsearch.documents import Document
from xsearch.errors import InputError, XSearchError
from xsearch.evaluation import metrics as M
from xsearch.evaluation.bitext import BitextSet
from xsearch.evaluation.qa import (
    SETTINGS,
    SETTINGS_BY_NAME,
    MixedMetrics,
    Progress,
    SettingResult,
    _noop,
    _ranked_ids,
    _timed,
    search_many,
    temporary_engine,
)
from xsearch.schemas import SearchRequest
from xsearch.text.langcodes import normalize_lang

if TYPE_CHECKING:
    from xsearch.encoder import Encoder
    from xsearch.settings import Settings

COLLECTION = "pool-eval"
DEPTH = 10


@dataclass
class PoolData:
    pivot: str  # the queries' (and distractors') language, ISO 639-1
    docs: list[Document]
    queries: list[str]
    answers: list[str]  # the relevant document id of each query
    answer_langs: list[str]
    n_distractors: int
    source: str


@dataclass
class PoolReport:
    bundle: str
    variant: str
    fingerprint: str
    pivot: str
    langs: list[str]  # answer languages
    n_documents: int
    n_distractors: int
    n_queries: int
    source: str
    settings: list[SettingResult]
    seconds: dict[str, float] = field(default_factory=dict)


def _pick(n_total: int, n: int) -> list[int]:
    return sorted({int(i) for i in np.linspace(0, n_total - 1, min(n, n_total))})


def build_pool(
    sets: Sequence[BitextSet], *, per_lang: int = 50, distractors: int = 1000
) -> PoolData:
    """The pool (see the module doc). Every set must share one language, the pivot."""
    if not sets:
        raise InputError("no bitext set given", fix="name a folder of TSV files")
    sides = [{normalize_lang(s.src_lang), normalize_lang(s.tgt_lang)} for s in sets]
    common = set.intersection(*sides)
    if len(sets) == 1 or len(common) != 1:
        raise InputError(
            f"the pool needs two or more bitext files sharing exactly one language, got "
            f"{', '.join(s.name for s in sets)}",
            fix="give files like deu-eng.tsv, fra-eng.tsv (the shared language is the pivot)",
        )
    pivot = next(iter(common))
    docs: list[Document] = []
    queries: list[str] = []
    answers: list[str] = []
    answer_langs: list[str] = []
    spare: list[list[str]] = []
    for s in sets:
        pivot_is_src = normalize_lang(s.src_lang) == pivot
        piv, other = (s.src, s.tgt) if pivot_is_src else (s.tgt, s.src)
        lang = normalize_lang(s.tgt_lang if pivot_is_src else s.src_lang)
        picked = _pick(len(piv), per_lang)
        for i in picked:
            did = f"{lang}-{s.name}-{i}"
            docs.append(Document(id=did, text=other[i], lang=lang))
            queries.append(piv[i])
            answers.append(did)
            answer_langs.append(lang)
        chosen = set(picked)
        spare.append([piv[i] for i in range(len(piv)) if i not in chosen])
    asked = set(queries)
    # Distractors: taken in turn from every file's spare pivot sentences (a spread
    # of topics), never a sentence that is also a query.
    seen: set[str] = set()
    n = 0
    for r in range(max(len(x) for x in spare)):
        for j, pool in enumerate(spare):
            if n >= distractors:
                break
            if r < len(pool) and pool[r] not in asked and pool[r] not in seen:
                seen.add(pool[r])
                docs.append(Document(id=f"{pivot}-distractor-{j}-{r}", text=pool[r], lang=pivot))
                n += 1
    source = ", ".join(s.source for s in sets)
    return PoolData(pivot, docs, queries, answers, answer_langs, n, source)


def run_pool(
    searcher: Any,
    overrides: dict[str, Any],
    pool: PoolData,
    vectors: np.ndarray,
    workers: int = 1,
) -> MixedMetrics:
    reqs = [
        SearchRequest(query=q, collection=COLLECTION, k=DEPTH, query_lang=pool.pivot, **overrides)
        for q in pool.queries
    ]
    responses = search_many(searcher, reqs, list(vectors), workers)
    ranked, hit_langs = zip(*(_ranked_ids(r) for r in responses), strict=True)
    rel, n_rel = M.relevance_matrix(list(ranked), [{a} for a in pool.answers], DEPTH)
    ap = M.average_precision_per_query(rel, n_rel)
    langs = sorted(set(pool.answer_langs))
    per_lang: dict[str, dict[str, float]] = {}
    arr = np.array(pool.answer_langs)
    for lang in langs:
        mask = arr == lang
        per_lang[lang] = {
            "mrr_10": M.mrr_at_k(rel[mask], 10),
            "recall_1": M.recall_at_k(rel[mask], n_rel[mask], 1),
        }
    share = M.same_language_share(list(hit_langs), [pool.pivot] * len(ranked), DEPTH)
    return MixedMetrics(
        map=float(ap.mean()),
        same_share=share,
        blind_share=1 / (len(langs) + 1),
        mrr_10=M.mrr_at_k(rel, 10),
        per_lang=per_lang,
        recall_1=M.recall_at_k(rel, n_rel, 1),
        recall_10=M.recall_at_k(rel, n_rel, 10),
    )


def evaluate_pool(
    pool: PoolData,
    encoder: Encoder,
    settings: Settings,
    *,
    setting_names: Sequence[str] | None = None,
    progress: Progress = _noop,
    workers: int = 2,
) -> PoolReport:
    """Index the pool, then search every query with each ranking setting."""
    from xsearch.evaluation.qa import probe_request

    chosen = (
        [SETTINGS_BY_NAME[n] for n in setting_names]
        if setting_names
        else [x for x in SETTINGS if x.by_default]
    )
    timing: dict[str, float] = {}
    results: list[SettingResult] = []
    with temporary_engine(encoder, settings, DEPTH) as (indexer, searcher):
        with _timed(timing, "index"):
            for start in range(0, len(pool.docs), 64):
                out = indexer.index_documents(COLLECTION, pool.docs[start : start + 64])
                bad = [r for r in out if r.status == "rejected"]
                if bad:
                    raise XSearchError(
                        f"{bad[0].id} was rejected by the indexer: {bad[0].reason}",
                        fix="fix that line in the bitext data",
                    )
                progress("indexing the pool", min(start + 64, len(pool.docs)), len(pool.docs))
        with _timed(timing, "encode_queries"):
            vectors = searcher.encode_queries(pool.queries)
        done: dict[Any, SettingResult] = {}
        for setting in chosen:
            req = SearchRequest(
                query=pool.queries[0], collection=COLLECTION, k=1, query_lang=pool.pivot,
                **setting.overrides,
            )  # fmt: skip
            reason, effective = probe_request(searcher, req, setting.overrides, vectors[0])
            res = SettingResult(setting.name, dict(setting.overrides), reason is None, reason)
            results.append(res)
            if effective is None:
                continue
            if effective in done:
                res.same_as = done[effective].name
                res.layouts = dict(done[effective].layouts)
                continue
            done[effective] = res
            with _timed(res.seconds, "pool"):
                res.layouts["pool"] = run_pool(searcher, setting.overrides, pool, vectors, workers)
            progress("pool settings", len(results), len(chosen))
    return PoolReport(
        bundle=encoder.name,
        variant=encoder.variant,
        fingerprint=encoder.fingerprint,
        pivot=pool.pivot,
        langs=sorted(set(pool.answer_langs)),
        n_documents=len(pool.docs),
        n_distractors=pool.n_distractors,
        n_queries=len(pool.queries),
        source=pool.source,
        settings=results,
        seconds=timing,
    )
