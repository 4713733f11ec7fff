"""How to fuse the lexical list with the dense one: the experiment behind the defaults.

Indexes XQuAD paragraphs of some languages into a temporary embedded collection
(normal chunking and encoding), then for every question and its own language
collects the dense top 100 and the lexical (BM25) top 100 from the store, and
replays fusion rules offline on those lists: plain dense, plain lexical, RRF
with fixed lexical weights, and RRF with the lexical weight scaled per query by
how clearly the best lexical document stands out (``lexical_margin``).
Same-language MRR@10 per language.

The defaults (RRF k=5, weight 2 x margin) were chosen on en,ru,zh and then
checked on the nine other XQuAD languages (see README, "Ranking across
languages"):

    python -m bench.experiments.hybrid_fusion --langs en,ru,zh
    python -m bench.experiments.hybrid_fusion --langs de,es,el,tr,ar,hi,th,vi,ro
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.common import markdown_table
from xsearch.evaluation import qa as Q
from xsearch.evaluation.qa_data import load_qa
from xsearch.ranking.lexical import lexical_margin, query_vector
from xsearch.store.base import DENSE, SearchFilter

ROOT = Path(__file__).resolve().parents[2]
Ranked = list[tuple[str, float]]  # (doc id, score), best first, one entry per document
Rule = Callable[[Ranked, Ranked], list[str]]


def per_document(points: list) -> Ranked:  # noqa: ANN001 - ScoredPoint list
    seen: set[str] = set()
    out: Ranked = []
    for p in points:
        doc = p.payload["doc_id"]
        if doc not in seen:
            seen.add(doc)
            out.append((doc, p.score))
    return out


def rrf(dense: Ranked, lexical: Ranked, k: float, weight: float) -> list[str]:
    """Weighted reciprocal rank fusion, ranks from 1 (as Qdrant does)."""
    score: dict[str, float] = {}
    for lst, w in ((dense, 1.0), (lexical, weight)):
        for rank, (doc, _) in enumerate(lst, 1):
            score[doc] = score.get(doc, 0.0) + w / (k + rank)
    return sorted(score, key=lambda d: -score[d])


def rules() -> dict[str, Rule]:
    out: dict[str, Rule] = {
        "dense": lambda d, lex: [x for x, _ in d],
        "lexical": lambda d, lex: [x for x, _ in lex],
    }
    for k in (60, 5):
        for w in (1.0, 0.5, 0.2):
            out[f"RRF k={k}, weight {w}"] = lambda d, lex, k=k, w=w: rrf(d, lex, k, w)
        for w0 in (1.0, 2.0, 4.0):
            out[f"RRF k={k}, weight {w0} x margin"] = lambda d, lex, k=k, w0=w0: rrf(
                d, lex, k, w0 * lexical_margin([s for _, s in lex[:8]])
            )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--langs", default="en,ru,zh")
    ap.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data" / "xquad")
    ap.add_argument("--bundle", default=None, help="bundle name or folder (default: settings)")
    ap.add_argument("--variant", default="int8")
    args = ap.parse_args(argv)
    from xsearch.encoder import Encoder
    from xsearch.settings import get_settings

    settings = get_settings()
    data = load_qa(args.data, langs=args.langs.split(","))
    encoder = Encoder.load(args.bundle, settings=settings, variant=args.variant)
    lists: dict[str, list[tuple[Ranked, Ranked]]] = {}
    with Q.temporary_engine(encoder, settings) as (indexer, searcher):
        Q.index_paragraphs(indexer, data)
        vectors = Q.encode_questions(searcher, data)
        store = searcher.store
        for lang in data.langs:
            flt = SearchFilter(langs=[lang])
            rows = []
            for i, question in enumerate(data.questions):
                dense = store.query(Q.COLLECTION, vectors[lang][i], using=DENSE, k=100, flt=flt)
                sparse = query_vector(question.text[lang])
                lexical = (
                    store.query_lexical(Q.COLLECTION, sparse, k=100, flt=flt) if sparse[0] else []
                )
                rows.append((per_document(dense), per_document(lexical)))
            lists[lang] = rows
    table = []
    for name, rule in rules().items():
        mrr = []
        for lang in data.langs:
            rr = []
            for question, (dense, lexical) in zip(data.questions, lists[lang], strict=True):
                top = rule(dense, lexical)[:10]
                want = Q.doc_id(question.pid, lang)
                rr.append(1.0 / (top.index(want) + 1) if want in top else 0.0)
            mrr.append(float(np.mean(rr)))
        table.append([name, *(f"{m:.4f}" for m in mrr), f"**{np.mean(mrr):.4f}**"])
    print(f"Same-language MRR@10 on {data.source} ({len(data.questions)} questions per language)\n")
    print(markdown_table(["rule", *data.langs, "mean"], table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
