"""The search step's store-side cost: default ranking vs dense, lean vs full payloads.

In-process (no HTTP, no encoder: query vectors and languages are computed once
before timing), ``Searcher.search`` on the same Tatoeba queries against a
collection built by ``bench.scale`` (real XQuAD paragraph vectors, perturbed
copies with their own words; HNSW-optimized). Four variants, interleaved query
by query in a rotating order so machine load hits them alike:

- ranking ``default`` (the settings: balance=fair, mode=hybrid) or ``dense``
  (balance=none, mode=dense);
- path ``lean`` (candidates carry doc_id and lang only, which the embedded
  store answers from its in-memory id -> (doc_id, lang) map without reading
  payloads; whole payloads are read for the page's hits) or ``full`` (every
  store query returns whole payloads: ``Searcher.full_payloads = True``).

Every query's hits are compared between the two paths (ids, order, scores,
snippets): ``identical`` counts agreements. Time inside each store call is
summed per variant, to say where the search step goes.

    python -m bench.search_cost --passages 20000
    python -m bench.search_cost --passages 2000 --queries 20   # a smoke run

Writes bench/results/search_cost.json; bench/tables/search_cost.py renders it.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import DATA, ROOT, find_bundle, link_bundle

RESULT = ROOT / "bench" / "results" / "search_cost.json"
RANKINGS = {"default": {}, "dense": {"balance": "none", "mode": "dense"}}
PATHS = ("lean", "full")
STORE_CALLS = ("query", "query_lexical", "query_hybrid", "with_payloads", "get_meta")


def collection(home: Path, bundle: Path, ns: argparse.Namespace) -> dict[str, Any]:
    """The ``bench.scale`` collection in ``home`` (built unless it is there with ns.passages)."""
    from bench.scale import COLLECTION, base_passages, build
    from xsearch.settings import Settings, get_settings
    from xsearch.store import open_store

    link_bundle(home, bundle)
    settings = Settings(_env_file=None, home=home, qdrant_url=None)
    with open_store(settings) as store:
        if COLLECTION in store.list_collections() and store.count(COLLECTION) == ns.passages:
            return {"points": ns.passages, "reused": True}
    base = base_passages(ns.data, ns.base, bundle, get_settings().home / "cache")
    return {**build(home, bundle, base, ns.passages, seed=7), "reused": False}


def _timed(
    fn: Callable[..., Any], sink: dict[str, float], name: str, calls: dict[str, int]
) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            sink[name] += time.perf_counter() - t0
            calls[name] += 1

    return wrapper


def measure(home: Path, bundle: Path, ns: argparse.Namespace) -> dict[str, Any]:
    from bench.api_load import sentences
    from bench.scale import COLLECTION
    from xsearch.encoder import Encoder
    from xsearch.schemas import SearchRequest
    from xsearch.search import Searcher
    from xsearch.settings import Settings
    from xsearch.store import open_store
    from xsearch.text import detect_language

    queries = [s for _, s in sentences() if 3 <= len(s) <= 200]
    random.Random(3).shuffle(queries)
    queries = queries[: ns.queries]
    encoder = Encoder.load(bundle)
    vectors = encoder.encode(queries, kind="query")
    guesses = [detect_language(q) for q in queries]
    settings = Settings(_env_file=None, home=home, qdrant_url=None, threads=ns.threads)
    variants = [(r, p) for r in RANKINGS for p in PATHS]
    times: dict[tuple[str, str], list[float]] = defaultdict(list)
    store_s: dict[tuple[str, str], dict[str, float]] = {v: defaultdict(float) for v in variants}
    store_n: dict[tuple[str, str], dict[str, int]] = {v: defaultdict(int) for v in variants}
    identical = {r: 0 for r in RANKINGS}
    differing: set[int] = set()  # queries whose default hits differ between the paths
    with open_store(settings) as store:
        searcher = Searcher(encoder, store, settings)
        rank_map = build_rank_map(store, COLLECTION)
        originals = {n: getattr(store, n) for n in STORE_CALLS}

        def run(i: int, ranking: str, path: str, timed: bool) -> list[dict]:
            for n in STORE_CALLS:  # time each store call into this variant's sink
                v = (ranking, path)
                setattr(store, n, _timed(originals[n], store_s[v], n, store_n[v]))
            searcher.full_payloads = path == "full"
            req = SearchRequest(query=queries[i], collection=COLLECTION, k=ns.k,
                                **RANKINGS[ranking])  # fmt: skip
            t0 = time.perf_counter()
            resp = searcher.search(req, vector=vectors[i], guess=guesses[i])
            if timed:
                times[(ranking, path)].append((time.perf_counter() - t0) * 1000)
            return [h.model_dump() for h in resp.hits]

        for i in range(min(10, len(queries))):  # warm the caches and the shard
            for ranking, path in variants:
                run(i, ranking, path, timed=False)
        for sink in [*store_s.values(), *store_n.values()]:
            sink.clear()
        for rnd in range(ns.rounds):
            for i in range(len(queries)):
                k = (i + rnd) % len(variants)
                hits: dict[tuple[str, str], list[dict]] = {}
                for ranking, path in variants[k:] + variants[:k]:
                    hits[(ranking, path)] = run(i, ranking, path, timed=True)
                for r in RANKINGS:
                    identical[r] += hits[(r, "lean")] == hits[(r, "full")]
                if hits[("default", "lean")] != hits[("default", "full")]:
                    differing.add(i)
        for n, fn in originals.items():
            setattr(store, n, fn)
        lists_differ = sum(
            dense_lists_differ(store, COLLECTION, vectors[i], guesses[i].lang) for i in differing
        )
        pool = pool_query(store, COLLECTION, vectors, ns.rounds)
        fused = fused_query(searcher, COLLECTION, queries, vectors, guesses, ns.rounds)
    n_runs = ns.rounds * len(queries)
    rows = []
    for ranking, path in variants:
        t = np.asarray(times[(ranking, path)])
        rows.append({
            "ranking": ranking, "path": path, "searches": len(t),
            "p50_ms": round(float(np.percentile(t, 50)), 3),
            "p99_ms": round(float(np.percentile(t, 99)), 3),
            "mean_ms": round(float(t.mean()), 3),
            "store_ms_per_search": {n: round(s * 1000 / n_runs, 3)
                                    for n, s in sorted(store_s[(ranking, path)].items())},
            "store_calls_per_search": {n: round(c / n_runs, 3)
                                       for n, c in sorted(store_n[(ranking, path)].items())},
            # what is not a store call: ranking in Python, hits, the response
            "python_ms_per_search": round(float(t.mean())
                                          - sum(store_s[(ranking, path)].values()) * 1000
                                          / n_runs, 3),
        })  # fmt: skip
    p50 = {(r["ranking"], r["path"]): r["p50_ms"] for r in rows}
    mean = {(r["ranking"], r["path"]): r["mean_ms"] for r in rows}
    ratios = {
        f"default_over_dense_p50_{p}": round(p50[("default", p)] / p50[("dense", p)], 3)
        for p in PATHS
    } | {
        f"default_over_dense_mean_{p}": round(mean[("default", p)] / mean[("dense", p)], 3)
        for p in PATHS
    } | {
        f"lean_over_full_p50_{r}": round(p50[(r, "lean")] / p50[(r, "full")], 3) for r in RANKINGS
    }
    return {
        "queries": len(queries), "rounds": ns.rounds, "k": ns.k, "threads": ns.threads,
        "variants": rows, "ratios": ratios,
        "identical_hits": {r: f"{identical[r]}/{n_runs}" for r in RANKINGS},
        # of the queries whose default hits differed: in how many the two paths
        # fused different dense lists (the pool's query-language passages, one
        # HNSW search; Qdrant's prefetch, another, with a language filter)
        "differing_queries": len(differing), "differing_dense_lists": lists_differ,
        "fair_pool_query_ms": pool, "fused_query_ms": fused, "rank_map": rank_map,
        # lean path's hybrid fusions: from the candidates alone / with a dense query
        "fusions": dict(searcher.fusions),
    }  # fmt: skip


def dense_lists_differ(store: Any, name: str, vector: np.ndarray, lang: str) -> bool:
    """Whether the query-language passages of the default's pool (centred HNSW
    search, 200) are not the top of Qdrant's dense prefetch in that language (a
    filtered HNSW search): then the two fusions started from different lists, each
    as approximate as its graph search."""
    from xsearch.search import _FAIR_POOL
    from xsearch.store.base import CENTERED, DENSE, SearchFilter

    pool = store.query(name, vector, using=CENTERED, k=_FAIR_POOL, fields=("lang",))
    mine = [p.id for p in pool if p.payload.get("lang") == lang]
    theirs = [p.id for p in store.query(name, vector, using=DENSE, k=_FAIR_POOL,
                                        flt=SearchFilter(langs=[lang]), fields=())]  # fmt: skip
    return mine != theirs[: len(mine)]


def build_rank_map(store: Any, name: str) -> dict[str, Any]:
    """The embedded store's id -> (doc_id, lang) map (xsearch/store/rankmap.py): how
    long filling it takes (once per process and collection) and what it holds."""
    from xsearch.store import rankmap

    t0 = time.perf_counter()
    store.warm(name)
    seconds = time.perf_counter() - t0
    rmap = store._maps.get(name) if hasattr(store, "_maps") else None
    if not isinstance(rmap, rankmap.RankMap):
        return {"kept": False}
    size = rmap.memory_bytes()
    return {
        "kept": True, "points": len(rmap), "fill_s": round(seconds, 2),
        "memory_mb": round(size / 1e6, 1), "bytes_per_point": round(size / max(len(rmap), 1)),
    }  # fmt: skip


def pool_query(store: Any, name: str, vectors: np.ndarray, rounds: int) -> dict[str, float]:
    """The fair pool's store query alone (centred, 200 hits) by what it returns of each
    hit's payload, interleaved: mean ms. Says how much of the store call is reading
    payloads rather than searching the graph."""
    from xsearch.search import _FAIR_POOL, _RANK_FIELDS
    from xsearch.store.base import CENTERED

    kinds = {"whole": None, "doc_id+lang": _RANK_FIELDS, "none": ()}
    spent = dict.fromkeys(kinds, 0.0)
    for _ in range(rounds):
        for v in vectors:
            for kind, fields in kinds.items():
                t0 = time.perf_counter()
                store.query(name, v, using=CENTERED, k=_FAIR_POOL, fields=fields)
                spent[kind] += time.perf_counter() - t0
    return {k: round(s * 1000 / (rounds * len(vectors)), 3) for k, s in spent.items()}


def fused_query(
    searcher: Any, name: str, queries: list[str], vectors: np.ndarray, guesses: list[Any],
    rounds: int,
) -> dict[str, Any]:  # fmt: skip
    """The hybrid step's fused query (dense + lexical prefetches of 200 in the query's
    language, RRF in Qdrant) against its lexical prefetch alone (what a fusion done in
    Python over the pool's own dense order would still ask the store for), interleaved,
    mean ms over the queries that have a language in the collection and a word
    that is not a stop word: how much of the fused query is its dense prefetch."""
    from xsearch.ranking.lexical import query_vector
    from xsearch.search import _FAIR_POOL
    from xsearch.store.base import DENSE, SearchFilter

    store = searcher.store
    langs = set(searcher._language_counts(_Req(name)))
    stop = searcher._stop_words()
    todo = [(query_vector(q, stop), v, g.lang) for q, v, g in zip(queries, vectors, guesses,
                                                                   strict=True)]  # fmt: skip
    todo = [(sp, v, lang) for sp, v, lang in todo if sp[0] and lang in langs]
    spent = {"fused": 0.0, "lexical_only": 0.0}
    for _ in range(rounds):
        for sparse, v, lang in todo:
            flt = SearchFilter(langs=[lang])
            t0 = time.perf_counter()
            store.query_hybrid(name, v, sparse, using_dense=DENSE, k=_FAIR_POOL, flt=flt,
                               prefetch_k=_FAIR_POOL, weights=(1.0, 1.0), rrf_k=5,
                               fields=("doc_id", "lang"))  # fmt: skip
            t1 = time.perf_counter()
            store.query_lexical(name, sparse, k=_FAIR_POOL, flt=flt, fields=("doc_id", "lang"))
            t2 = time.perf_counter()
            spent["fused"] += t1 - t0
            spent["lexical_only"] += t2 - t1
    n = max(rounds * len(todo), 1)
    return {"queries": len(todo), **{k: round(s * 1000 / n, 3) for k, s in spent.items()}}


class _Req:
    """The two fields ``Searcher._language_counts`` reads of a request."""

    def __init__(self, collection: str) -> None:
        self.collection = collection
        self.langs = None
        self.exclude_langs = None


def parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.search_cost", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--passages", type=int, default=20_000, help="points in the collection")
    ap.add_argument("--base", type=int, default=600, help="real paragraphs encoded (cached)")
    ap.add_argument("--data", type=Path, default=DATA, help="folder with xquad/ and tatoeba/")
    ap.add_argument("--queries", type=int, default=100, help="Tatoeba queries")
    ap.add_argument("--rounds", type=int, default=3, help="passes over the queries")
    ap.add_argument("--k", type=int, default=10, help="hits per page")
    ap.add_argument("--threads", type=int, default=1, help="XSEARCH_THREADS (store search)")
    ap.add_argument("--bundle", default=None, help="bundle name or folder (default: default)")
    ap.add_argument("--home", type=Path, default=None, help="where the collection is (built "
                    "there unless it holds --passages points; default: a temporary folder)")
    ap.add_argument("--out", type=Path, default=RESULT, help="the JSON result file")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ns = parse(argv)
    from xsearch.provenance import write_result

    bundle = find_bundle(ns.bundle)
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="xsearch-search-cost-") as tmp:
        home = (ns.home or Path(tmp)).resolve()
        store = collection(home, bundle, ns)
        print(f"collection: {store}", file=sys.stderr, flush=True)
        results = {"passages": ns.passages, "store": store, **measure(home, bundle, ns)}
    results |= {"load_at_start": round(load_start, 2), "load_at_end": round(os.getloadavg()[0], 2)}
    write_result(ns.out, results, command=["python", "-m", "bench.search_cost", *argv])
    print(json.dumps(results, indent=1))
    print(f"written to {ns.out}", file=sys.stderr)
    return 0 if all(v.split("/")[0] == v.split("/")[1] for v in
                    results["identical_hits"].values()) else 1  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
