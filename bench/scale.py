"""The shipped ranking at scale: a big collection of real-shaped points, over HTTP.

Builds an embedded collection of ``--passages`` points without encoding them all:
``--base`` real XQuAD paragraphs (12 languages) are encoded once with the bundle
(cached), and every point is a perturbed copy of one of them (its dense vector
plus noise, re-normalised; a random 80% of its words plus a few rare terms of
its own, so its lexical vector is its own). The points go through the same
code the indexer uses: ``RankingData.decorate`` (centred + lexical vectors),
``store.upsert``, ``RankingData.added`` (per-language means, re-centring), then
``store.optimize`` (HNSW).

Then ``xsearch serve`` answers real Tatoeba queries at each concurrency, for
the default ranking (the server's settings) and the plain dense path
(``balance=none&mode=dense``) side by side: at each level they take turns in
``--slices`` slices (ABBA order), so that load from elsewhere on the machine
hits both alike (measured one after the other, the ratio was at the mercy of
whatever started in between). The store is checked for
recall@10 of HNSW against exact search on the dense and centred vectors.

    python -m bench.scale --passages 300000            # the issue's size
    python -m bench.scale --passages 5000 --duration 3 # a smoke run
    python -m bench.scale --passages 100000 --home DIR --reuse   # measure again, no rebuild
    python -m bench.scale --passages 300000 --home DIR --build-only  # build (and record) only

``--reuse``: the collection already in ``--home`` with ``--passages`` points is
measured as it is (recall re-checked); its build and optimize times are those
its build recorded in ``DIR/scale-build.json`` (reported with that build's
commit and load), since they do not depend on the search code.

Writes bench/results/scale.json (xsearch.provenance header);
bench/tables/scale.py renders the README table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np

from bench.api_load import (
    _load,
    free_port,
    process_cpu_seconds,
    scrape,
    sentences,
    start_server,
    stop_server,
    wait_ready,
)
from bench.common import DATA, ROOT, find_bundle, link_bundle

COLLECTION = "scale"
BUILD_RECORD = "scale-build.json"  # in --home: what the build of the collection there measured
RESULT = ROOT / "bench" / "results" / "scale.json"
NOISE = 0.35  # norm of the perturbation before re-normalising: cos to the base ~0.94
PER_DOC = 4


def base_passages(data: Path, count: int, bundle: Path, cache: Path) -> dict[str, Any]:
    """``count`` XQuAD paragraphs (languages in turn) and their passage vectors, cached."""
    from xsearch.bundle.manifest import read_manifest

    fp = read_manifest(bundle)["fingerprint"]
    path = cache / f"scale-base-{fp}-{count}.npz"
    if path.is_file():
        z = np.load(path, allow_pickle=False)
        return {"vectors": z["vectors"], "langs": list(z["langs"]), "texts": list(z["texts"])}
    rows = [json.loads(x) for x in (data / "xquad" / "parallel_paragraphs.jsonl").open()]
    langs, texts = [], []
    for row in rows:
        for lang, text in sorted(row["context"].items()):
            langs.append(lang)
            texts.append(text)
    langs, texts = langs[:count], texts[:count]
    from xsearch.encoder import Encoder

    print(f"encoding {len(texts)} base paragraphs (once, cached in {path})", file=sys.stderr)
    vectors = Encoder.load(bundle).encode(texts, "passage")
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, vectors=vectors, langs=np.array(langs), texts=np.array(texts))
    return {"vectors": vectors, "langs": langs, "texts": texts}


def build(home: Path, bundle: Path, base: dict[str, Any], n: int, seed: int) -> dict[str, float]:
    """Write ``n`` perturbed points through the indexer's store code; time build and optimize."""
    from xsearch.bundle.manifest import read_manifest
    from xsearch.documents import point_id
    from xsearch.ranking.maintain import RankingData
    from xsearch.settings import Settings
    from xsearch.store import CollectionSpec, PointRecord, open_store
    from xsearch.store.base import DENSE

    m = read_manifest(bundle)
    dim = int(m["dimension"])
    commit = _commit()  # the code that builds: taken now, the tree may move meanwhile
    rng = np.random.default_rng(seed)
    words = [t.split() for t in base["texts"]]
    settings = Settings(_env_file=None, home=home, qdrant_url=None)
    with open_store(settings) as store:
        if COLLECTION in store.list_collections():
            store.delete_collection(COLLECTION)
        store.create_collection(CollectionSpec(COLLECTION, dim, m["fingerprint"], m["name"]))
        ranking = RankingData(store, dim)
        t0 = time.perf_counter()
        for lo in range(0, n, 2048):
            idx = np.arange(lo, min(n, lo + 2048))
            src = rng.integers(0, len(base["langs"]), len(idx))
            noise = rng.standard_normal((len(idx), dim)).astype(np.float32)
            noise *= NOISE / np.linalg.norm(noise, axis=1, keepdims=True)
            vecs = base["vectors"][src] + noise
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            points, texts = [], []
            for i, j, v in zip(idx, src, vecs, strict=True):
                ws = words[j]
                keep = [w for w in ws if rng.random() < 0.8] or ws[:1]
                rare = [f"term{int(rng.zipf(1.3)) % 200_000}" for _ in range(3)]
                text = " ".join(keep + rare)
                doc, number = divmod(int(i), PER_DOC)
                payload = {
                    "doc_id": f"doc-{doc}", "passage": number, "n_passages": PER_DOC,
                    "lang": base["langs"][j], "lang_conf": 0.99, "title": f"Document {doc}",
                    "url": f"https://example.org/{doc}", "text": text, "start": 0,
                    "end": len(text), "meta": {"year": 2000 + doc % 25},
                    "content_hash": f"{doc:064x}",
                }  # fmt: skip
                points.append(PointRecord(point_id(f"doc-{doc}", number), {DENSE: v}, payload))
                texts.append(text)
            ranking.decorate(COLLECTION, points, texts)
            store.upsert(COLLECTION, points)
            ranking.added(COLLECTION, points)
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        store.optimize(COLLECTION)
        optimize_s = time.perf_counter() - t0
        stats = store.stats(COLLECTION)
        recall = recall_at_10(store, base, dim, rng)
    record = {
        "build_s": round(build_s, 1), "optimize_s": round(optimize_s, 1), "passages": n,
        "base_paragraphs": len(base["langs"]), "seed": seed,
        "load_at_end": round(os.getloadavg()[0], 2), "commit": commit,
    }  # fmt: skip
    (home / BUILD_RECORD).write_text(json.dumps(record, indent=1), encoding="utf-8")
    return {
        "build_s": record["build_s"], "optimize_s": record["optimize_s"],
        "points": stats.points, "disk_mb": round((stats.disk_bytes or 0) / 1e6, 1),
        "indexed": stats.indexed, **recall,
    }  # fmt: skip


def reused(home: Path, base: dict[str, Any], n: int, seed: int) -> dict[str, Any] | None:
    """The collection already in ``home`` (None unless it holds ``n`` points from a
    recorded build of this base): its stats now, recall re-checked, and the build
    and optimize times its build recorded."""
    from xsearch.settings import Settings
    from xsearch.store import open_store

    path = home / BUILD_RECORD
    if not path.is_file():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    if record.get("passages") != n or record.get("base_paragraphs") != len(base["langs"]):
        return None
    settings = Settings(_env_file=None, home=home, qdrant_url=None)
    with open_store(settings) as store:
        if COLLECTION not in store.list_collections() or store.count(COLLECTION) != n:
            return None
        stats = store.stats(COLLECTION)
        dim = int(store.get_meta(COLLECTION)["dimension"])
        recall = recall_at_10(store, base, dim, np.random.default_rng(seed + 1))
    return {
        "build_s": record["build_s"], "optimize_s": record["optimize_s"],
        "points": stats.points, "disk_mb": round((stats.disk_bytes or 0) / 1e6, 1),
        "indexed": stats.indexed, **recall, "reused": True, "build_record": record,
    }  # fmt: skip


def _commit() -> str | None:
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, check=True)  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def recall_at_10(store: Any, base: dict[str, Any], dim: int, rng: np.random.Generator) -> dict:
    """recall@10 of the HNSW search against exact search, dense and centred vectors,
    for 100 queries near real paragraphs (another perturbation of a base vector)."""
    from xsearch.ranking.centering import LanguageMeans
    from xsearch.store.base import CENTERED, DENSE

    means = LanguageMeans.from_meta(store.get_meta(COLLECTION), dim)
    out: dict[str, float] = {}
    picks = rng.integers(0, len(base["langs"]), 100)
    for using in (DENSE, CENTERED):
        hits = 0
        for j in picks:
            q = base["vectors"][j] + NOISE * rng.standard_normal(dim).astype(np.float32) / dim**0.5
            q /= np.linalg.norm(q)
            if using == CENTERED:
                q = means.centred(base["langs"][j], q)
            approx = {p.id for p in store.query(COLLECTION, q, using=using, k=10)}
            exact = {p.id for p in store.query(COLLECTION, q, using=using, k=10, exact=True)}
            hits += len(approx & exact)
        out[f"recall10_{using}"] = round(hits / (10 * len(picks)), 4)
    return out


def load_query_recall(
    home: Path, bundle: Path, base: dict[str, Any], data: Path, n: int = 100
) -> dict[str, Any]:
    """HNSW against exact search for real queries: recall@10 and how much lower the
    10th score found is than the exact 10th, for the dense and the centred
    vectors, the default ranking's pool (centred, k=200) and a search in the
    query's language (dense, language filter). Two query sets: the load's own
    (Tatoeba sentences, unrelated to the collection's paragraphs) and XQuAD
    questions about the base paragraphs (languages in turn).

    The recall of ``recall_at_10`` (a perturbed paragraph vector as the query) is
    the easy case. Real queries meet flatter neighbourhoods, the more so here as
    every base paragraph has hundreds of near-copies (and, in the centred space,
    its translations join them): a graph search misses more of the exact top 10
    there, but misses by little (the score gap says how little).
    """
    from xsearch.encoder import Encoder
    from xsearch.settings import Settings
    from xsearch.store import open_store
    from xsearch.store.base import CENTERED, DENSE
    from xsearch.text import detect_language

    tatoeba = [s for _, s in sentences() if 3 <= len(s) <= 200]
    random.Random(3).shuffle(tatoeba)
    texts = set(base["texts"])
    rows = [json.loads(x) for x in (data / "xquad" / "parallel_paragraphs.jsonl").open()]
    pids = {r["pid"] for r in rows if any(t in texts for t in r["context"].values())}
    asked = [json.loads(x) for x in (data / "xquad" / "parallel_questions.jsonl").open()]
    asked = [q for q in asked if q["pid"] in pids]
    random.Random(3).shuffle(asked)
    langs_all = sorted(set(base["langs"]))
    questions = [q["question"][langs_all[i % len(langs_all)]] for i, q in enumerate(asked[:n])]
    encoder = Encoder.load(bundle)
    sets = {name: qs for name, qs in (("tatoeba", tatoeba[:n]), ("xquad_questions", questions))
            if qs}  # fmt: skip
    cases = {
        "dense_k10": (DENSE, 10, False),
        "centered_k10": (CENTERED, 10, False),
        "pool_centered_k200": (CENTERED, 200, False),
        "dense_k10_query_language": (DENSE, 10, True),
    }
    out: dict[str, Any] = {}
    settings = Settings(_env_file=None, home=home, qdrant_url=None)
    with open_store(settings) as store:
        for set_name, queries in sets.items():
            vectors = encoder.encode(queries, kind="query")
            langs = [detect_language(q).lang for q in queries]
            out[set_name] = {"queries": len(queries)} | {
                name: _recall(store, vectors, langs, using, k, by_lang)
                for name, (using, k, by_lang) in cases.items()
            }
    return out


def _recall(
    store: Any, vectors: np.ndarray, langs: list[str], using: str, k: int, by_lang: bool
) -> dict[str, Any]:
    """recall@10 of HNSW against exact, and the mean gap of the 10th scores."""
    from xsearch.store.base import SearchFilter

    hits = total = 0
    gaps = []
    for v, lang in zip(vectors, langs, strict=True):
        flt = SearchFilter(langs=[lang]) if by_lang else None
        got = store.query(COLLECTION, v, using=using, k=k, flt=flt, fields=())
        exact = store.query(COLLECTION, v, using=using, k=k, flt=flt, exact=True, fields=())
        if len(exact) < 10:
            continue
        hits += len({p.id for p in got[:10]} & {p.id for p in exact[:10]})
        total += 10
        gaps.append(exact[9].score - got[9].score)
    gap = round(float(np.mean(gaps)), 4) if gaps else None
    return {"recall10": round(hits / max(total, 1), 3), "tenth_score_gap": gap}


def serve_and_load(home: Path, bundle: Path, ns: argparse.Namespace) -> list[dict[str, Any]]:
    """Both rankings at every concurrency, one server. At each level the two take
    turns in ``ns.slices`` slices of ``duration / slices`` seconds each (ABBA order),
    so a change of machine load during the level hits both alike: measured one
    after the other, a neighbour that started in between decided the ratio."""
    import httpx

    pool = sentences()
    queries = [s for _, s in pool if 3 <= len(s) <= 200]
    random.Random(3).shuffle(queries)
    modes = {
        "default": {},
        "dense": {"balance": "none", "mode": "dense"},
    }
    paths = {
        m: ["/search?" + urlencode({"q": q, "collection": COLLECTION, "k": 10, **p})
            for q in queries]
        for m, p in modes.items()
    }  # fmt: skip
    port = free_port()
    proc = start_server(home, bundle.name, port, {"XSEARCH_THREADS": str(ns.threads)})
    rows = []
    try:
        wait_ready(port, proc)
        httpx.get(f"http://127.0.0.1:{port}/ready", timeout=10)
        for i, c in enumerate(ns.concurrency):
            for k, mode in enumerate(modes):  # warm-up, unmeasured
                asyncio.run(_load(port, paths[mode], (2 * i + k) * 10**6, c, ns.warmup, None))
            sums = {m: _Sums() for m in modes}
            for sl, mode in turns(list(modes), ns.slices):
                start = (2 * i + list(modes).index(mode)) * 10**6 + 100_000 + sl * 10_000
                sums[mode].add(port, proc.pid, paths[mode], start, c, ns.duration / ns.slices)
            for mode in modes:
                rows.append(sums[mode].row(mode, c, _rss_mb(proc.pid)))
                print(f"{mode} c={c}: {rows[-1]}", file=sys.stderr, flush=True)
    finally:
        stop_server(proc)
    return rows


def turns(modes: list[str], slices: int) -> list[tuple[int, str]]:
    """(slice, mode) in measuring order: ABBA ABBA..., so that a load trend over the
    level costs each mode the same on average."""
    return [(sl, m) for sl in range(slices) for m in (modes if sl % 2 == 0 else modes[::-1])]


class _Sums:
    """One ranking's requests, latencies, server CPU and server timings over its slices."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.done = self.errors = 0
        self.seconds = self.cpu = 0.0
        self.metrics: dict[str, float] = {}

    def add(self, port: int, pid: int, paths: list[str], start: int, c: int, secs: float) -> None:
        before, cpu0 = scrape(port), process_cpu_seconds(pid)
        done, errors, seconds = asyncio.run(_load(port, paths, start, c, secs, self.latencies))
        self.cpu += process_cpu_seconds(pid) - cpu0
        after = scrape(port)
        for k in after:
            self.metrics[k] = self.metrics.get(k, 0.0) + after[k] - before[k]
        self.done += done
        self.errors += errors
        self.seconds += seconds

    def row(self, mode: str, c: int, rss_mb: float) -> dict[str, Any]:
        lat = np.asarray(self.latencies) * 1000
        d = self.metrics
        return {
            "ranking": mode, "concurrency": c, "requests": self.done, "errors": self.errors,
            "req_per_s": round(self.done / self.seconds, 1),
            "p50_ms": round(float(np.percentile(lat, 50)), 2),
            "p99_ms": round(float(np.percentile(lat, 99)), 2),
            "server_cpu_ms_per_req": round(1000 * self.cpu / max(self.done, 1), 2),
            "search_ms": round(1000 * d["xsearch_search_seconds_sum"]
                               / max(d["xsearch_search_seconds_count"], 1), 2),
            "encode_ms": round(1000 * d["xsearch_encode_seconds_sum"]
                               / max(d["xsearch_encode_batch_size_count"], 1), 2),
            "server_rss_mb": round(rss_mb),
        }  # fmt: skip


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return float("nan")


def parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--passages", type=int, default=300_000, help="points in the collection")
    ap.add_argument("--base", type=int, default=1200, help="real paragraphs encoded (cached)")
    ap.add_argument("--data", type=Path, default=DATA, help="folder with xquad/ and tatoeba/")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--duration", type=float, default=10.0, help="measured seconds per level")
    ap.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per level")
    ap.add_argument("--slices", type=int, default=4, help="turns each ranking takes per "
                    "level (ABBA order; each measures duration/slices seconds)")  # fmt: skip
    ap.add_argument("--threads", type=int, default=0, help="XSEARCH_THREADS of the server")
    ap.add_argument("--bundle", default=None, help="bundle name or folder (default: default)")
    ap.add_argument("--home", type=Path, default=None, help="where the collection is built "
                    "(default: a temporary folder, removed after)")  # fmt: skip
    ap.add_argument("--reuse", action="store_true", help="measure the collection already "
                    f"in --home (recorded in {BUILD_RECORD}), not building it again")  # fmt: skip
    ap.add_argument("--build-only", action="store_true", help="build the collection in --home "
                    f"and record its build in {BUILD_RECORD}; measure nothing")  # fmt: skip
    ap.add_argument("--out", type=Path, default=RESULT, help="the JSON result file")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ns = parse(argv)
    from xsearch.provenance import write_result
    from xsearch.settings import get_settings

    bundle = find_bundle(ns.bundle)
    base = base_passages(ns.data, ns.base, bundle, get_settings().home / "cache")
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="xsearch-scale-") as tmp:
        home = (ns.home or Path(tmp)).resolve()
        link_bundle(home, bundle)
        store = reused(home, base, ns.passages, seed=7) if ns.reuse else None
        if store is None:
            store = build(home, bundle, base, ns.passages, seed=7)
        print(f"collection: {store}", file=sys.stderr, flush=True)
        if ns.build_only:
            return 0
        store["load_query_recall"] = load_query_recall(home, bundle, base, ns.data)
        print(f"load queries: {store['load_query_recall']}", file=sys.stderr, flush=True)
        levels = serve_and_load(home, bundle, ns)
    results = {
        "passages": ns.passages, "base_paragraphs": len(base["langs"]),
        "languages": sorted(set(base["langs"])), "noise": NOISE, "store": store,
        "levels": levels, "load_at_start": round(load_start, 2),
        "load_at_end": round(os.getloadavg()[0], 2), "duration_s": ns.duration,
        "slices": ns.slices,
    }  # fmt: skip
    write_result(ns.out, results, command=["python", "-m", "bench.scale", *argv])
    print(json.dumps(results, indent=1))
    print(f"written to {ns.out}", file=sys.stderr)
    return 1 if any(lv["errors"] for lv in levels) else 0


if __name__ == "__main__":
    sys.exit(main())
