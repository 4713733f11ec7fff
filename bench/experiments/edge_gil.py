"""Probe: does a Qdrant Edge query let other Python threads run (release the GIL)?

Why it matters (issue 14, throughput at c=32): the API runs searches on a
thread pool. Work that releases the GIL (onnxruntime, numpy products) runs on
both cores at once; work that holds it runs one thread at a time, so it caps the
server's throughput at 1 / (GIL-held ms per request) whatever the concurrency.

Two measures per kind of work, side by side in one run:

- ``spin kept``: a pure-Python counting thread's rate while the main thread
  does the work, over its rate alone. ~1 on 2 cores when the work releases the
  GIL; well under 1 when it holds it (the spinner only runs between calls).
- ``2-thread speed-up``: the same calls split over two threads against one
  thread. ~2 on 2 free cores when the GIL is released; ~1 when it is held.

Kinds: Qdrant Edge HNSW queries of the search path's pool (k=200, two payload
keys), Qdrant Edge sparse queries, and a control that releases the GIL on one
thread (hashlib's SHA-256 of 1 MB: CPython lets other threads run while it
hashes large buffers; numpy products would not do, their BLAS already uses
both cores). The collection is
synthetic (clustered unit vectors, a language and words per point), built in a
temporary folder through the store code the indexer uses.

    python -m bench.experiments.edge_gil
    python -m bench.experiments.edge_gil --points 5000 --queries 50 --no-write  # smoke

Writes bench/results/edge_gil.json.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import RESULTS, machine_info, print_table, save_experiment

DIM = 384
LANGS = ("en", "de", "fr", "es", "zh", "ar")


def build(root: Path, n: int, rng: np.random.Generator) -> tuple[Any, np.ndarray]:
    """An optimized Edge collection of ``n`` clustered points; returns (store, vectors)."""
    from xsearch.documents import point_id
    from xsearch.ranking.lexical import document_vector
    from xsearch.store.base import CollectionSpec, PointRecord
    from xsearch.store.edge import EdgeStore

    store = EdgeStore(root)
    store.create_collection(CollectionSpec("gil", DIM, "probe", "probe"))
    centres = rng.standard_normal((64, DIM)).astype(np.float32)
    vectors = centres[rng.integers(0, 64, n)] + 0.8 * rng.standard_normal((n, DIM)).astype(
        np.float32
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    words = [f"w{i}" for i in range(2000)]
    for lo in range(0, n, 2048):
        batch = []
        for i in range(lo, min(n, lo + 2048)):
            text = " ".join(words[j] for j in rng.zipf(1.5, 12) % len(words))
            payload = {"doc_id": f"d{i}", "lang": LANGS[i % len(LANGS)], "text": text}
            batch.append(
                PointRecord(
                    point_id(f"d{i}", 0),
                    {"dense": vectors[i]},
                    payload,
                    {"lexical": document_vector(text)},
                )  # fmt: skip
            )
        store.upsert("gil", batch)
    store.optimize("gil")
    return store, vectors


def spin_rate(work: Callable[[], None] | None, seconds: float) -> tuple[float, float]:
    """(pure-Python increments per second in a side thread, seconds ``work`` took)."""
    stop = threading.Event()
    count = [0]

    def spin() -> None:
        n = 0
        while not stop.is_set():
            n += 1
        count[0] = n

    t = threading.Thread(target=spin)
    t.start()
    started = time.perf_counter()
    if work is None:
        time.sleep(seconds)
    else:
        work()
    took = time.perf_counter() - started
    stop.set()
    t.join()
    return count[0] / took, took


def split_speedup(calls: list[Callable[[], Any]]) -> tuple[float, float]:
    """(seconds for ``calls`` on one thread, seconds split over two threads)."""
    started = time.perf_counter()
    for c in calls:
        c()
    one = time.perf_counter() - started

    def run(part: list[Callable[[], Any]]) -> None:
        for c in part:
            c()

    threads = [threading.Thread(target=run, args=(calls[i::2],)) for i in range(2)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return one, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--points", type=int, default=30_000, help="points in the collection")
    ap.add_argument("--queries", type=int, default=300, help="calls per measure")
    ap.add_argument("--out", type=Path, default=RESULTS / "edge_gil.json")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    from xsearch.ranking.lexical import query_vector

    rng = np.random.default_rng(0)
    sys.setswitchinterval(0.0005)  # let the spinner take the GIL as soon as it is free
    rows = []
    with tempfile.TemporaryDirectory(prefix="xsearch-edge-gil-") as tmp:
        t0 = time.perf_counter()
        store, vectors = build(Path(tmp) / "store", args.points, rng)
        build_s = time.perf_counter() - t0
        qs = vectors[rng.integers(0, len(vectors), args.queries)]
        qs = qs + 0.5 * rng.standard_normal(qs.shape).astype(np.float32) / DIM**0.5
        sparse = [query_vector(f"w{i % 50} w{(i * 7) % 300}") for i in range(args.queries)]
        blob = rng.bytes(1 << 20)
        kinds: dict[str, list[Callable[[], Any]]] = {
            "Qdrant Edge dense query (HNSW, k=200, 2 payload keys)": [
                lambda q=q: store.query("gil", q, k=200, fields=("doc_id", "lang")) for q in qs
            ],
            "Qdrant Edge sparse query (k=200, 2 payload keys)": [
                lambda s=s: store.query_lexical("gil", s, k=200, fields=("doc_id", "lang"))
                for s in sparse
            ],
            "control: SHA-256 of 1 MB (releases the GIL)": [
                lambda: hashlib.sha256(blob).digest() for _ in qs
            ],
        }
        alone, _ = spin_rate(None, 1.0)
        for name, calls in kinds.items():
            for c in calls[:20]:  # warm caches
                c()
            with_work, took = spin_rate(lambda calls=calls: [c() for c in calls], 0)
            one, two = split_speedup(calls)
            rows.append({
                "work": name,
                "ms_per_call": round(one * 1000 / len(calls), 3),
                "ms_per_call_beside_spinner": round(took * 1000 / len(calls), 3),
                "spin_kept": round(with_work / alone, 3),
                "two_thread_speedup": round(one / two, 3),
            })  # fmt: skip
        store.close()
    print_table(
        f"Does the work let another Python thread run? ({args.points} points)",
        ["work", "ms/call", "ms/call beside a spinner", "spin kept", "2-thread speed-up"],
        [[r["work"], r["ms_per_call"], r["ms_per_call_beside_spinner"], r["spin_kept"],
          r["two_thread_speedup"]] for r in rows],
    )  # fmt: skip
    out = {"points": args.points, "queries": args.queries, "build_s": round(build_s, 1),
           "rows": rows, "machine": machine_info(["qdrant-edge-py", "numpy"])}  # fmt: skip
    if not args.no_write:
        save_experiment(args.out, out, "bench.experiments.edge_gil", argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
