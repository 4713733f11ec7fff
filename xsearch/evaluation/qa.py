"""Cross-lingual question -> paragraph retrieval through the real product path.

Every paragraph in every language becomes one document (id ``<pid>-<lang>``, the
language given, no title: the XQuAD titles exist only in English and would put
English words into every language's vector) and goes through the normal
indexing service (chunking, encoding, store) into ONE temporary embedded
collection. Questions go through the normal ``Searcher``:

- the cross-lingual matrix restricts each search to paragraph language Y with
  ``langs=[Y]`` (same collection, a filter: one index serves both tasks);
- the mixed pool searches the whole collection (LAReQA: the same paragraph in
  every language is relevant).

Each question is encoded once per language and the vector is reused for every
Y and every ranking setting (``Searcher.search(..., vector=v)``).

Ranking settings are rows of :data:`SETTINGS`; adding one is one line.
A setting the engine does not apply (its response does not echo it back, or the
request is refused) is reported as unsupported, with the reason, not dropped.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from xsearch.documents import Document
from xsearch.errors import XSearchError
from xsearch.evaluation import metrics as M
from xsearch.evaluation.qa_data import QAData
from xsearch.schemas import SearchRequest, SearchResponse

if TYPE_CHECKING:
    from xsearch.encoder import Encoder
    from xsearch.search import Searcher
    from xsearch.settings import Settings

COLLECTION = "qa-eval"
MATRIX_K = 10  # recall@1, recall@10 and MRR@10 need the top 10
# Hits per mixed-pool query: mAP@100. Relevant items ranked below 100 add nothing,
# so this is a lower bound of the full-ranking mAP (each missing item of 12 could
# add at most 12/100/12 = 0.01). Deeper costs time: every hit carries its payload.
MIXED_DEPTH = 100
BIAS_K = 10


@dataclass(frozen=True)
class RankingSetting:
    name: str
    overrides: dict[str, Any]  # SearchRequest fields
    note: str = ""
    by_default: bool = True  # run when no settings are named


# One line per setting. The first supported one also gets the full matrix by default.
SETTINGS: list[RankingSetting] = [
    RankingSetting("default", {}, "whatever the engine does by default"),
    RankingSetting(
        "dense",
        {"balance": "none", "mode": "dense", "group_translations": False},
        "plain dense retrieval",
    ),
    RankingSetting("centered", {"balance": "centered", "mode": "dense"}, "language means removed"),
    RankingSetting(
        "interleave", {"balance": "interleave", "mode": "dense"}, "languages interleaved"
    ),
    RankingSetting("hybrid", {"balance": "none", "mode": "hybrid"}, "dense + lexical (RRF)"),
    RankingSetting("hybrid+centered", {"balance": "centered", "mode": "hybrid"}, ""),
    RankingSetting("hybrid+interleave", {"balance": "interleave", "mode": "hybrid"}, ""),
    RankingSetting("fair", {"balance": "fair", "mode": "dense"}, "turns in a centred ranking"),
    RankingSetting("hybrid+fair", {"balance": "fair", "mode": "hybrid"}, ""),
    # Opt-in (--settings grouped): a grouped page of 100 hits over 12 languages
    # needs thousands of candidates linked pairwise per query (about 1 s each);
    # grouping has its own tests (tests/ranking/test_translations_real.py).
    RankingSetting(
        "grouped", {"group_translations": True}, "translations as one hit", by_default=False
    ),
]
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}

# What the response must echo back for each request field to count as applied.
_ECHO_FIELDS = ("balance", "mode", "group_translations")


@dataclass
class PairMetrics:
    recall_1: float
    recall_10: float
    mrr_10: float


@dataclass
class MixedMetrics:
    map: float  # mAP@MIXED_DEPTH, relevant = the paragraph in every language it is kept in
    same_share: float  # share of the top-10 hits in the query's own language
    blind_share: float  # 1 / number of languages
    mrr_10: float  # first relevant hit (any language)
    per_lang: dict[str, dict[str, float]]  # query lang -> {"map", "same_share", "mrr_10"}
    recall_1: float = 0.0  # share of the relevant passages found at rank 1 (one relevant: hit@1)
    recall_10: float = 0.0


# Corpus shapes (issue 11): which languages each paragraph is kept in.
LAYOUTS = ("parallel", "disjoint", "skewed")
# The figure a layout is judged by: several relevant documents -> mAP, one -> MRR@10.
MAIN_METRIC = {"parallel": "map", "disjoint": "mrr_10", "skewed": "mrr_10", "pool": "mrr_10"}


def placement(data: QAData, layout: str, dominant: str | None = None) -> dict[str, list[str]]:
    """pid -> the languages the paragraph is indexed in, for a corpus shape.

    - parallel: every paragraph in every language (XQuAD as shipped);
    - disjoint: each paragraph in ONE language, assigned round robin in paragraph
      order (the paragraphs are sorted by article, so every language gets a spread
      of topics), every question asked in every language, one relevant document;
    - skewed: the dominant language (default: English when present, else the
      first) keeps every second paragraph, the other languages share the rest
      round robin; with 240 paragraphs and 12 languages: 120 in the dominant
      language, about 11 in each of the others (a language with few passages).
    """
    pids = list(data.paragraphs)
    langs = list(data.langs)
    if layout == "parallel":
        return {pid: langs for pid in pids}
    if layout == "disjoint":
        return {pid: [langs[i % len(langs)]] for i, pid in enumerate(pids)}
    if layout == "skewed":
        big = dominant or ("en" if "en" in langs else langs[0])
        if big not in langs:
            raise XSearchError(
                f"the dominant language {big!r} is not evaluated", fix=f"choose one of {langs}"
            )
        small = [x for x in langs if x != big] or [big]
        return {
            pid: [big] if i % 2 == 0 else [small[(i // 2) % len(small)]]
            for i, pid in enumerate(pids)
        }
    raise XSearchError(f"unknown layout {layout!r}", fix=f"choose from {', '.join(LAYOUTS)}")


def collection_for(layout: str) -> str:
    return COLLECTION if layout == "parallel" else f"{COLLECTION}-{layout}"


@dataclass
class SettingResult:
    name: str
    overrides: dict[str, Any]
    supported: bool
    reason: str | None = None  # why unsupported
    matrix: dict[str, dict[str, PairMetrics]] = field(default_factory=dict)  # X -> Y -> m
    mixed: MixedMetrics | None = None  # the parallel layout's pool (LAReQA mixed pool)
    layouts: dict[str, MixedMetrics] = field(default_factory=dict)  # every layout run
    seconds: dict[str, float] = field(default_factory=dict)  # wall and CPU per step
    same_as: str | None = None  # an earlier setting the engine applied identically

    def summary(self) -> dict[str, float | None]:
        """Same-language (diagonal) and cross-language means of the matrix pairs run."""
        same = [m.mrr_10 for x, row in self.matrix.items() for y, m in row.items() if x == y]
        cross = [m.mrr_10 for x, row in self.matrix.items() for y, m in row.items() if x != y]
        return {
            "same_lang_mrr_10": float(np.mean(same)) if same else None,
            "cross_lang_mrr_10": float(np.mean(cross)) if cross else None,
            "mixed_map": self.mixed.map if self.mixed else None,
            "mixed_same_share": self.mixed.same_share if self.mixed else None,
        }


@dataclass
class QAReport:
    bundle: str
    variant: str
    fingerprint: str
    langs: list[str]
    n_paragraphs: int
    n_questions: int
    n_documents: int
    n_passages: int
    source: str
    settings: list[SettingResult]
    depth: int = MIXED_DEPTH  # mixed-pool hits per query (mAP@depth)
    seconds: dict[str, float] = field(default_factory=dict)
    layouts: dict[str, dict[str, int]] = field(default_factory=dict)  # layout -> documents


Progress = Callable[[str, int, int], None]  # (step description, done, total)


def _noop(step: str, done: int, total: int) -> None:
    return None


@contextmanager
def temporary_engine(
    encoder: Encoder, settings: Settings, depth: int = MIXED_DEPTH
) -> Iterator[tuple[Any, Searcher]]:
    """An indexing service and a searcher over a throw-away embedded store.

    The store lives in a temporary folder (removed afterwards), so evaluating
    never touches the user's collections and never needs the server's lock.
    """
    from xsearch.indexing import IndexingService
    from xsearch.search import Searcher
    from xsearch.store import open_store

    with tempfile.TemporaryDirectory(prefix="xsearch-eval-") as tmp:
        tmp_settings = settings.model_copy(
            update={"home": Path(tmp), "qdrant_url": None, "max_k": max(settings.max_k, depth)}
        )
        store = open_store(tmp_settings)
        try:
            yield (
                IndexingService(encoder, store, tmp_settings),
                Searcher(encoder, store, tmp_settings),
            )
        finally:
            store.close()


@contextmanager
def _timed(into: dict[str, float], key: str) -> Iterator[None]:
    """Wall and CPU seconds of a step: on a shared machine wall time alone misleads."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    into[key] = round(time.perf_counter() - wall, 2)
    into[f"{key}_cpu"] = round(time.process_time() - cpu, 2)


def doc_id(pid: str, lang: str) -> str:
    return f"{pid}-{lang}"


def index_paragraphs(
    indexer: Any,
    data: QAData,
    progress: Progress = _noop,
    batch: int = 64,
    *,
    where: dict[str, list[str]] | None = None,
    collection: str = COLLECTION,
) -> int:
    """Index every paragraph in every language it is kept in (``where``: pid -> languages,
    default all); returns the number of passages."""
    docs = [
        Document(id=doc_id(pid, lang), text=texts[lang], lang=lang, metadata={"pid": pid})
        for pid, texts in data.paragraphs.items()
        for lang in (where[pid] if where is not None else data.langs)
    ]
    passages = 0
    for start in range(0, len(docs), batch):
        results = indexer.index_documents(collection, docs[start : start + batch])
        bad = [r for r in results if r.status == "rejected"]
        if bad:
            raise XSearchError(
                f"{len(bad)} paragraph(s) were rejected by the indexer, e.g. "
                f"{bad[0].id}: {bad[0].reason}",
                fix="fix those records in the data (the evaluation needs every paragraph)",
            )
        passages += sum(r.passages for r in results)
        progress(f"indexing paragraphs ({collection})", min(start + batch, len(docs)), len(docs))
    return passages


def encode_questions(
    searcher: Searcher, data: QAData, progress: Progress = _noop, batch: int = 256
) -> dict[str, np.ndarray]:
    """Question vectors per language, encoded once and reused for every search."""
    out: dict[str, np.ndarray] = {}
    total, done = len(data.questions) * len(data.langs), 0
    for lang in data.langs:
        texts = [q.text[lang] for q in data.questions]
        parts = []
        for start in range(0, len(texts), batch):
            parts.append(searcher.encode_queries(texts[start : start + batch]))
            done += len(texts[start : start + batch])
            progress("encoding questions", done, total)
        out[lang] = np.concatenate(parts)
    return out


def _ranked_ids(resp: SearchResponse) -> tuple[list[str], list[str]]:
    """Document ids and languages in rank order. A grouped hit is followed by its
    translations (``also_in``), so grouping is scored on what the user can reach
    from the hit, not penalised for folding 12 relevant items into one."""
    ids: list[str] = []
    langs: list[str] = []
    for hit in resp.hits:
        ids.append(hit.doc_id)
        langs.append(hit.lang)
        for other in hit.also_in:
            ids.append(other.doc_id)
            langs.append(other.lang)
    return ids, langs


Effective = tuple[str, str, bool]  # (balance, mode, group_translations) as applied


def probe_setting(
    searcher: Searcher,
    setting: RankingSetting,
    data: QAData,
    vectors: dict[str, np.ndarray],
    collection: str = COLLECTION,
) -> tuple[str | None, Effective | None]:
    """(None, what the engine applied) when it applies the setting, else (the reason, None)."""
    lang = data.langs[0]
    q = data.questions[0]
    req = SearchRequest(
        query=q.text[lang], collection=collection, k=1, query_lang=lang, **setting.overrides
    )
    return probe_request(searcher, req, setting.overrides, vectors[lang][0])


def probe_request(
    searcher: Searcher, req: SearchRequest, overrides: dict[str, Any], vector: np.ndarray
) -> tuple[str | None, Effective | None]:
    try:
        resp = searcher.search(req, vector=vector)
    except XSearchError as err:
        return f"refused: {err}", None
    for name in _ECHO_FIELDS:  # every response reports the ranking it applied
        want = overrides.get(name)
        got = getattr(resp, name)
        if want is not None and got != want:
            return f"asked {name}={want!r}, the engine applied {got!r}", None
    return None, (resp.balance, resp.mode, resp.group_translations)


def search_many(
    searcher: Searcher,
    requests: Sequence[SearchRequest],
    vectors: Sequence[np.ndarray],
    workers: int = 1,
) -> list[SearchResponse]:
    """Run searches in order, on ``workers`` threads (results keep the request order).

    The store spends most of a search outside the GIL, so two threads on two
    cores overlap one search's store time with another's Python time.
    """
    pairs = list(zip(requests, vectors, strict=True))
    if workers <= 1:
        return [searcher.search(r, vector=v) for r, v in pairs]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda rv: searcher.search(rv[0], vector=rv[1]), pairs))


def run_matrix(
    searcher: Searcher,
    setting: RankingSetting,
    data: QAData,
    vectors: dict[str, np.ndarray],
    pairs: Sequence[tuple[str, str]],
    progress: Progress = _noop,
    workers: int = 1,
) -> dict[str, dict[str, PairMetrics]]:
    """recall@1, recall@10 and MRR@10 for each (question language X, paragraph language Y)."""
    out: dict[str, dict[str, PairMetrics]] = {}
    total, done = len(pairs) * len(data.questions), 0
    for x, y in pairs:
        reqs = [
            SearchRequest(
                query=q.text[x],
                collection=COLLECTION,
                k=MATRIX_K,
                langs=[y],
                query_lang=x,
                **setting.overrides,
            )
            for q in data.questions
        ]
        responses = search_many(searcher, reqs, list(vectors[x]), workers)
        ranked = [_ranked_ids(r)[0] for r in responses]
        relevant = [{doc_id(q.pid, y)} for q in data.questions]
        rel, n_rel = M.relevance_matrix(ranked, relevant, MATRIX_K)
        out.setdefault(x, {})[y] = PairMetrics(
            M.recall_at_k(rel, n_rel, 1), M.recall_at_k(rel, n_rel, 10), M.mrr_at_k(rel, 10)
        )
        done += len(data.questions)
        progress(f"matrix ({setting.name})", done, total)
    return out


def run_mixed(
    searcher: Searcher,
    setting: RankingSetting,
    data: QAData,
    vectors: dict[str, np.ndarray],
    progress: Progress = _noop,
    depth: int = MIXED_DEPTH,
    workers: int = 1,
    *,
    where: dict[str, list[str]] | None = None,
    collection: str = COLLECTION,
) -> MixedMetrics:
    """Every question in every language against the whole collection (no filter).

    Relevant: the question's paragraph in every language it is kept in (``where``,
    default all: the LAReQA mixed pool). mAP@depth, MRR@10, recall@1/@10 and the
    share of the top 10 in the query's own language.
    """
    ranked: list[list[str]] = []
    hit_langs: list[list[str]] = []
    relevant: list[set[str]] = []
    q_langs: list[str] = []
    total = len(data.questions) * len(data.langs)
    for x in data.langs:
        reqs = [
            SearchRequest(
                query=q.text[x], collection=collection, k=depth, query_lang=x, **setting.overrides
            )
            for q in data.questions
        ]
        for q, resp in zip(
            data.questions, search_many(searcher, reqs, list(vectors[x]), workers), strict=True
        ):
            ids, langs = _ranked_ids(resp)
            ranked.append(ids)
            hit_langs.append(langs)
            kept = where[q.pid] if where is not None else data.langs
            relevant.append({doc_id(q.pid, y) for y in kept})
            q_langs.append(x)
        progress(f"mixed pool {collection} ({setting.name})", len(ranked), total)
    rel, n_rel = M.relevance_matrix(ranked, relevant, depth)
    ap = M.average_precision_per_query(rel, n_rel)
    per_lang: dict[str, dict[str, float]] = {}
    q_arr = np.array(q_langs)
    for x in data.langs:
        mask = q_arr == x
        per_lang[x] = {
            "map": float(ap[mask].mean()),
            "mrr_10": M.mrr_at_k(rel[mask], 10),
            "recall_10": M.recall_at_k(rel[mask], n_rel[mask], 10),
            "same_share": M.same_language_share(
                [h for h, m in zip(hit_langs, mask, strict=True) if m],
                [x] * int(mask.sum()),
                BIAS_K,
            ),
        }
    bias = M.language_bias(hit_langs, q_langs, len(data.langs), BIAS_K)
    return MixedMetrics(
        float(ap.mean()),
        bias["same_share"],
        bias["blind_share"],
        M.mrr_at_k(rel, 10),
        per_lang,
        recall_1=M.recall_at_k(rel, n_rel, 1),
        recall_10=M.recall_at_k(rel, n_rel, 10),
    )


def evaluate_qa(
    data: QAData,
    encoder: Encoder,
    settings: Settings,
    *,
    setting_names: Sequence[str] | None = None,
    matrix: str = "first",
    progress: Progress = _noop,
    workers: int = 2,
    depth: int = MIXED_DEPTH,
    layouts: Sequence[str] = ("parallel",),
    dominant: str | None = None,
) -> QAReport:
    """Index ``data``, then run the matrix and the mixed pool for each ranking setting.

    ``layouts``: the corpus shapes to evaluate (:func:`placement`), each indexed
    into its own collection of the same temporary store; the X x Y matrix is run
    on the parallel layout only (it filters to one paragraph language, so it is
    the same for every shape that has the paragraph in that language).

    ``matrix``: "first" = the full X x Y matrix for the first supported setting and
    the same-language diagonal for the others; "all" = the full matrix for every
    setting; "diagonal" = the diagonal only, for every setting; "a,b" = the full matrix
    for the settings named, the diagonal for the others. ``depth``: hits per
    mixed-pool query (mAP@depth). ``workers``: search threads.
    """
    named = set() if matrix in ("first", "all", "diagonal", "none") else set(matrix.split(","))
    if named - set(SETTINGS_BY_NAME):
        raise ValueError(f"matrix must be first|all|diagonal or setting names, got {matrix!r}")
    chosen = (
        [SETTINGS_BY_NAME[n] for n in setting_names]
        if setting_names
        else [x for x in SETTINGS if x.by_default]
    )
    full = [(x, y) for x in data.langs for y in data.langs]
    diagonal = [(x, x) for x in data.langs]
    timing: dict[str, float] = {}
    wheres = {name: placement(data, name, dominant) for name in layouts}
    sizes: dict[str, dict[str, int]] = {}
    with temporary_engine(encoder, settings, depth) as (indexer, searcher):
        n_passages = 0
        for name, where in wheres.items():
            with _timed(timing, f"index_{name}"):
                n = index_paragraphs(
                    indexer, data, progress, where=where, collection=collection_for(name)
                )
            sizes[name] = {"documents": sum(len(v) for v in where.values()), "passages": n}
            n_passages = max(n_passages, n)
        with _timed(timing, "encode_questions"):
            vectors = encode_questions(searcher, data, progress)
        results: list[SettingResult] = []
        done: dict[Effective, SettingResult] = {}
        probe_in = collection_for(next(iter(wheres)))
        for setting in chosen:
            reason, effective = probe_setting(searcher, setting, data, vectors, probe_in)
            res = SettingResult(setting.name, dict(setting.overrides), reason is None, reason)
            results.append(res)
            if effective is None:
                continue
            first = len(done) == 0
            wants_full = matrix == "all" or (matrix == "first" and first) or setting.name in named
            pairs = full if wants_full else diagonal
            if effective in done:
                # The engine ranks exactly as for an earlier setting (e.g. "dense" while
                # dense is the default): same searches, same figures; do not pay twice.
                earlier = done[effective]
                res.same_as = earlier.name
                res.matrix = {x: {y: earlier.matrix[x][y]} for x, y in pairs if earlier.matrix}
                res.mixed = earlier.mixed
                res.layouts = dict(earlier.layouts)
                continue
            done[effective] = res
            if "parallel" in wheres and matrix != "none":
                with _timed(res.seconds, "matrix"):
                    res.matrix = run_matrix(
                        searcher, setting, data, vectors, pairs, progress, workers
                    )
            for name, where in wheres.items():
                with _timed(res.seconds, name):
                    res.layouts[name] = run_mixed(
                        searcher, setting, data, vectors, progress, depth, workers,
                        where=where, collection=collection_for(name),
                    )  # fmt: skip
            res.mixed = res.layouts.get("parallel")
    return QAReport(
        bundle=encoder.name,
        variant=encoder.variant,
        fingerprint=encoder.fingerprint,
        langs=list(data.langs),
        n_paragraphs=len(data.paragraphs),
        n_questions=len(data.questions),
        n_documents=max(v["documents"] for v in sizes.values()),
        n_passages=n_passages,
        source=data.source,
        settings=results,
        depth=depth,
        seconds=timing,
        layouts=sizes,
    )
