"""Offline replay of the dense balancing rules on every corpus shape (issue 11).

For fast iteration only: the figures that go into the README come from
``xsearch eval qa --layout all`` / ``xsearch eval pool`` (product path). Here the
passages are indexed once through the product path (indexing service, Edge
store; embeddings from the eval cache), their raw vectors read back, and then,
per layout, the language centres are computed with the engine's own
:class:`~xsearch.ranking.centering.LanguageMeans` (final state, as ``xsearch
recenter`` leaves them) and the rankings (dense, centred, turns with a penalty)
replayed in numpy. Lexical fusion is not replayed (it lives in Qdrant).

    python -m bench.experiments.ranking_replay /work/shared/data/xquad --langs en,de,ru,zh
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np

from xsearch.evaluation import qa as Q
from xsearch.evaluation.cache import CachedEncoder
from xsearch.evaluation.qa_data import load_qa
from xsearch.ranking.centering import LanguageMeans
from xsearch.settings import Settings


def _points(data: Q.QAData, encoder: CachedEncoder, settings: Settings):  # noqa: ANN202
    """(vectors [n, d], doc ids, langs) of every passage of the parallel layout."""
    from xsearch.store.base import DENSE

    with Q.temporary_engine(encoder, settings) as (indexer, searcher):
        Q.index_paragraphs(indexer, data)
        pts = list(searcher.store.scroll(Q.COLLECTION, with_vectors=True))
        qv = Q.encode_questions(searcher, data)
    vecs = np.stack([np.asarray(p.vectors[DENSE], np.float32) for p in pts])
    docs = [str(p.payload["doc_id"]) for p in pts]
    langs = [str(p.payload["lang"]) for p in pts]
    return vecs, docs, langs, qv


def _doc_rank(scores: np.ndarray, doc_idx: np.ndarray, n_docs: int) -> np.ndarray:
    """Best passage score per document -> document order (best first)."""
    best = np.full(n_docs, -np.inf)
    np.maximum.at(best, doc_idx, scores)
    return best


def turns(order: np.ndarray, scores: np.ndarray, langs: np.ndarray, penalty: float | None):
    top = order[:200]
    s = scores[top]
    if penalty is None:
        ranks = np.zeros(len(top))
        seen: dict[str, int] = defaultdict(int)
        for i, d in enumerate(top):
            ranks[i] = seen[langs[d]]
            seen[langs[d]] += 1
        key = ranks * 1e6 + np.arange(len(top))
        return np.concatenate([top[np.argsort(key, kind="stable")], order[200:]])
    spread = float(np.std(s)) or 1.0
    seen = defaultdict(int)
    key = np.empty(len(top))
    for i, d in enumerate(top):
        key[i] = s[i] - penalty * spread * seen[langs[d]]
        seen[langs[d]] += 1
    return np.concatenate([top[np.argsort(-key, kind="stable")], order[200:]])


def evaluate(
    data: Q.QAData, vecs, docs, langs, qv, layout: str, rules: dict, dim: int
) -> dict[str, dict[str, float]]:
    where = Q.placement(data, layout)
    keep_docs = {Q.doc_id(pid, y) for pid, ys in where.items() for y in ys}
    mask = np.array([d in keep_docs for d in docs])
    V = vecs[mask]
    P_docs = [d for d, m in zip(docs, mask, strict=True) if m]
    P_langs = [x for x, m in zip(langs, mask, strict=True) if m]
    uniq = sorted(set(P_docs))
    index = {d: i for i, d in enumerate(uniq)}
    doc_idx = np.array([index[d] for d in P_docs])
    doc_lang = np.empty(len(uniq), dtype=object)
    for d, x in zip(P_docs, P_langs, strict=True):
        doc_lang[index[d]] = x
    means = LanguageMeans(dim)
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, x in enumerate(P_langs):
        by_lang[x].append(i)
    for x, ids in by_lang.items():
        means.add(x, V[ids])
    for x in by_lang:
        means.move_centre(x)
    C = np.empty_like(V)
    for x, ids in by_lang.items():
        C[ids] = means.centred(x, V[ids])
    out: dict[str, dict[str, float]] = {}
    for name, (space, penalty) in rules.items():
        M = V if space == "dense" else C
        rr, r1, r10, ap_all, own = [], [], [], [], []
        for x in data.langs:
            S = qv[x] @ M.T
            for qi, q in enumerate(data.questions):
                best = _doc_rank(S[qi], doc_idx, len(uniq))
                order = np.argsort(-best, kind="stable")
                if penalty != "none":
                    order = turns(order, best, doc_lang, penalty)
                rel = {index[Q.doc_id(q.pid, y)] for y in where[q.pid]}
                hits = np.array([d in rel for d in order[:100]])
                first = np.argmax(hits) if hits.any() else None
                rr.append(1 / (first + 1) if first is not None and first < 10 else 0.0)
                r1.append(hits[:1].sum() / len(rel))
                r10.append(hits[:10].sum() / len(rel))
                prec = np.cumsum(hits) / np.arange(1, len(hits) + 1)
                ap_all.append(float((prec * hits).sum() / len(rel)))
                own.append(float(np.mean([doc_lang[d] == x for d in order[:10]])))
        out[name] = {
            "map": float(np.mean(ap_all)),
            "mrr_10": float(np.mean(rr)),
            "recall_1": float(np.mean(r1)),
            "recall_10": float(np.mean(r10)),
            "own": float(np.mean(own)),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", type=Path)
    ap.add_argument("--variant", default="int8")
    ap.add_argument("--langs", default=None)
    ap.add_argument("--max-paragraphs", type=int, default=120)
    ap.add_argument("--max-questions", type=int, default=100)
    ap.add_argument("--penalties", default="0.5,1,2")
    args = ap.parse_args()
    from xsearch.encoder import Encoder

    settings = Settings()
    enc = Encoder.load(None, settings=settings, variant=args.variant)
    cached = CachedEncoder(enc, CachedEncoder.path_for(settings.home / "cache" / "eval", enc))
    langs = args.langs.split(",") if args.langs else None
    data = load_qa(
        args.path,
        langs=langs,
        max_paragraphs=args.max_paragraphs,
        max_questions=args.max_questions,
    )
    vecs, docs, plangs, qv = _points(data, cached, settings)
    cached.save()
    rules: dict[str, tuple[str, object]] = {
        "dense": ("dense", "none"),
        "centred": ("centred", "none"),
        "strict-turns": ("centred", None),
    }
    for p in args.penalties.split(","):
        rules[f"soft-{p}"] = ("centred", float(p))
    for layout in Q.LAYOUTS:
        res = evaluate(data, vecs, docs, plangs, qv, layout, rules, enc.dimension)
        main = Q.MAIN_METRIC[layout]
        print(f"== {layout} ({main})")
        for name, m in res.items():
            print(
                f"  {name:20s} {main}={m[main]:.3f} mrr={m['mrr_10']:.3f} "
                f"r1={m['recall_1']:.3f} r10={m['recall_10']:.3f} own={m['own']:.1%}"
            )


if __name__ == "__main__":
    main()
