"""Indexing throughput three ways, side by side in one run: the encoder alone, the
bulk pipeline, and concurrent API writers through ``xsearch serve`` on loopback.

The same generated documents (bench.indexing.make_corpus: Tatoeba articles and
XQuAD paragraphs from ../shared/data, else a built-in list) go

1. through the encoder alone: every passage of every document (chunked as the
   indexer does), one encoder call, timed before and after the other two runs
   (two measurements show how much the machine's load moved meanwhile);
2. through the bulk pipeline (indexer/pipeline.py) into a fresh embedded store;
3. through ``POST /collections/{c}/documents`` of a fresh ``xsearch serve``: 20
   writers (threads, one keep-alive connection each) send 10-document batches
   from one shared queue until it is empty.

Documents/s of each and the ratios pipeline / encoder alone (goal >= 0.95) and
API writers / pipeline (goal >= 0.8). The machine is shared: only ratios
measured side by side mean anything, and the load average is recorded.

    python -m bench.api_writes --docs 600

Writes bench/results/api_writes.json (figures + provenance header); the README
table comes from it (bench/tables/api_writes.py).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.api_load import (
    free_port,
    process_cpu_seconds,
    start_server,
    stop_server,
    wait_ready,
)
from bench.common import DATA, RESULTS, find_bundle, machine_info
from bench.indexing import make_corpus, run_pipeline, write_corpus
from xsearch.provenance import write_result


def chunked_texts(engine: Any, docs: list[dict[str, Any]]) -> tuple[list[str], float]:
    """Every passage of ``docs`` as the indexer encodes it, and the CPU seconds of
    chunking + language detection (the share the pipeline hides beside the encoder)."""
    from xsearch.documents import Document

    svc = engine.indexer
    items = svc.planned([Document.from_dict(d) for d in docs])
    started = time.process_time()
    for item in items:
        svc.chunk(item)
    cpu = time.process_time() - started
    return [p.encode_text for item in items for p in item.passages], cpu


def encoder_alone(engine: Any, texts: list[str], n_docs: int) -> dict[str, float]:
    cpu = time.process_time()
    _, stats = engine.encoder.encode_with_stats(texts, "passage")
    return {
        "seconds": round(stats.seconds, 3),
        "documents_per_s": n_docs / stats.seconds,
        "cpu_ms_per_doc": (time.process_time() - cpu) / n_docs * 1000,
    }


def serve(
    home: Path, bundle: str, port: int, threads: int, code: Path | None, batch_tokens: int | None
) -> Any:
    """``xsearch serve`` of this checkout, or of the checkout at ``code`` (--baseline)."""
    extra = {"XSEARCH_THREADS": str(threads)}
    if batch_tokens is not None:
        extra["XSEARCH_BATCH_TOKENS"] = str(batch_tokens)
    if code is None:
        return start_server(home, bundle, port, extra)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XSEARCH_")}
    env.update(XSEARCH_HOME=str(home), XSEARCH_DEFAULT_BUNDLE=bundle, PYTHONPATH=str(code), **extra)
    cmd = [sys.executable, "-m", "xsearch.cli.main", "serve", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--log-level", "warning"]
    return subprocess.Popen(cmd, env=env, cwd=code)


def api_writers(
    bundle: Path,
    home: Path,
    docs: list[dict[str, Any]],
    writers: int,
    batch: int,
    threads: int,
    code: Path | None = None,
    batch_tokens: int | None = None,
) -> dict[str, Any]:
    import httpx

    (home / "models").mkdir(parents=True)
    (home / "models" / bundle.name).symlink_to(bundle)
    port = free_port()
    proc = serve(home, bundle.name, port, threads, code, batch_tokens)
    try:
        wait_ready(port, proc)
        url = f"http://127.0.0.1:{port}/collections/bench/documents"
        with httpx.Client(timeout=600) as c:  # warm: collection created, models loaded
            c.post(url, json={"documents": [{"id": "warm", "text": "warm up"}]}).raise_for_status()
        work: queue.Queue[list[dict[str, Any]]] = queue.Queue()
        for lo in range(0, len(docs), batch):
            work.put(docs[lo : lo + batch])
        counts = {"indexed": 0, "errors": 0}
        lock = threading.Lock()

        def writer() -> None:
            with httpx.Client(timeout=600) as client:
                while True:
                    try:
                        body = work.get_nowait()
                    except queue.Empty:
                        return
                    r = client.post(url, json={"documents": body})
                    with lock:
                        if r.status_code == 200:
                            counts["indexed"] += r.json()["indexed"]
                        else:
                            counts["errors"] += 1

        pool = [threading.Thread(target=writer) for _ in range(writers)]
        calls = _encoder_calls(port)
        cpu = process_cpu_seconds(proc.pid)
        started = time.perf_counter()
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        wall = time.perf_counter() - started
        cpu = process_cpu_seconds(proc.pid) - cpu  # the server's, all threads
        after = _encoder_calls(port)
    finally:
        stop_server(proc)
    n_calls, n_passages = after[0] - calls[0], after[1] - calls[1]
    return {
        "writers": writers,
        "batch": batch,
        "indexed": counts["indexed"],
        "errors": counts["errors"],
        "wall_s": round(wall, 2),
        "documents_per_s": counts["indexed"] / wall,
        "cpu_ms_per_doc": cpu / max(counts["indexed"], 1) * 1000,
        # the passage batcher's encoder calls (None: a server without those metrics)
        "encoder_calls": n_calls if after[0] >= 0 else None,
        "passages_per_encoder_call": (
            round(n_passages / n_calls, 1) if n_calls > 0 and after[0] >= 0 else None
        ),
    }


def _encoder_calls(port: int) -> tuple[int, int]:
    """(encoder calls, passages) of the server's passage batcher so far, from /metrics;
    (-1, -1) when it does not export them (a --baseline checkout before they existed)."""
    import httpx

    found = {}
    for line in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text.splitlines():
        for key in ("xsearch_write_encode_calls_total", "xsearch_write_encode_passages_total"):
            if line.startswith(key + " "):
                found[key] = int(float(line.split()[1]))
    if len(found) < 2:
        return -1, -1
    return found["xsearch_write_encode_calls_total"], found["xsearch_write_encode_passages_total"]


def _commit(path: Path) -> str:
    run = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True)
    return run.stdout.decode().strip()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--docs", type=int, default=600, help="documents to generate")
    ap.add_argument("--writers", type=int, default=20, help="concurrent API writers")
    ap.add_argument("--batch", type=int, default=10, help="documents per API request")
    ap.add_argument("--bundle", default=None, help="bundle name or folder (default: settings)")
    ap.add_argument("--unit-passages", type=int, default=512, help="pipeline encoder call size")
    ap.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0 = cores)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--batch-tokens", type=int, default=None,
        help="XSEARCH_BATCH_TOKENS of every run (default: the settings')",
    )
    ap.add_argument(
        "--baseline", type=Path, default=None,
        help="also run the API writers against the server code of this checkout (e.g. main)",
    )
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=RESULTS / "api_writes.json", help="result file")
    ap.add_argument("--no-write", action="store_true", help="do not write the result file")
    args = ap.parse_args(argv)

    from xsearch.runtime import Engine
    from xsearch.settings import get_settings

    info = machine_info(["onnxruntime", "qdrant-edge-py", "langdetect"])  # load at start
    docs, source = make_corpus(args.docs, args.seed, args.data)
    bundle = find_bundle(args.bundle)
    with tempfile.TemporaryDirectory(prefix="xsearch-bench-") as tmp:
        corpus = write_corpus(docs, Path(tmp))
        settings = get_settings().model_copy(
            update={"home": Path(tmp) / "home", "threads": args.threads}
            | ({"batch_tokens": args.batch_tokens} if args.batch_tokens else {})
        )
        with Engine.open(settings, bundle=str(bundle)) as engine:
            engine.encoder.encode(["warm-up"])  # session start-up is not indexing time
            chunked_texts(engine, docs[:5])  # loads the language profiles (~1 s) once
            texts, chunk_cpu = chunked_texts(engine, docs)
            print(f"{len(docs):,} documents, {len(texts):,} passages ({source})", file=sys.stderr)
            # The encoder alone is timed between every two runs, and each run is
            # compared with the encoder measured right before and right after it:
            # the machine's load moves by 2x within minutes (other engineers' jobs).
            alone = [encoder_alone(engine, texts, len(docs))]
            runs: dict[str, dict[str, Any]] = {}
            # the pipeline's encoder calls, counted (the API's come from its /metrics)
            calls: list[int] = []
            encode = engine.encoder.encode_with_stats

            def counted(texts: Any, *a: Any, **kw: Any) -> Any:
                calls.append(len(texts))
                return encode(texts, *a, **kw)

            engine.encoder.encode_with_stats = counted
            started, cpu = time.perf_counter(), time.process_time()
            stats = run_pipeline(engine, corpus, args.unit_passages)
            cpu = time.process_time() - cpu
            engine.encoder.encode_with_stats = encode
            runs["pipeline"] = {
                "indexed": stats.indexed,
                "errors": 0,
                "wall_s": round(time.perf_counter() - started, 2),
                "documents_per_s": stats.indexed / stats.wall_seconds,
                "outside_encoder_share": round(stats.outside_encoder, 4),
                "cpu_ms_per_doc": cpu / max(stats.indexed, 1) * 1000,
                "encoder_calls": len(calls),
                "passages_per_encoder_call": round(sum(calls) / max(len(calls), 1), 1),
            }
            alone.append(encoder_alone(engine, texts, len(docs)))
            runs["api"] = api_writers(
                bundle, Path(tmp) / "api", docs, args.writers, args.batch, args.threads,
                batch_tokens=args.batch_tokens,
            )
            alone.append(encoder_alone(engine, texts, len(docs)))
            if args.baseline is not None:
                runs["api_baseline"] = api_writers(
                    bundle, Path(tmp) / "base", docs, args.writers, args.batch, args.threads,
                    args.baseline.resolve(), args.batch_tokens,
                )
                runs["api_baseline"]["code"] = str(args.baseline)
                runs["api_baseline"]["commit"] = _commit(args.baseline)
                alone.append(encoder_alone(engine, texts, len(docs)))
            enc = engine.encoder
            bundle_info = {"name": enc.name, "variant": enc.variant, "threads": enc.threads}
    enc_cpu = sum(a["cpu_ms_per_doc"] for a in alone) / len(alone)
    for i, run in enumerate(runs.values()):
        around = (alone[i]["documents_per_s"] + alone[i + 1]["documents_per_s"]) / 2
        run["encoder_alone_docs_per_s"] = round(around, 2)
        run["over_encoder_alone"] = round(run["documents_per_s"] / around, 3)
        run["documents_per_s"] = round(run["documents_per_s"], 2)
        # CPU per document barely depends on the machine's load: the encoder alone's
        # CPU per document over the run's is a second, steadier view of its efficiency
        run["cpu_ms_per_doc"] = round(run["cpu_ms_per_doc"], 2)
        run["encoder_cpu_over_run_cpu"] = round(enc_cpu / run["cpu_ms_per_doc"], 3)
    pipe = runs["pipeline"]["over_encoder_alone"]
    out = {
        "corpus": source,
        "seed": args.seed,
        "bundle": bundle_info,
        "documents": len(docs),
        "passages": len(texts),
        "writers": args.writers,
        "batch": args.batch,
        "unit_passages": args.unit_passages,
        "batch_tokens": args.batch_tokens or settings.batch_tokens,
        "encoder_alone_docs_per_s": [round(a["documents_per_s"], 2) for a in alone],
        "encoder_alone_cpu_ms_per_doc": round(enc_cpu, 2),
        "runs": runs,
        # each run against the encoder alone around it; API against the pipeline so
        "pipeline_over_encoder_alone": pipe,
        "api_over_pipeline": round(runs["api"]["over_encoder_alone"] / pipe, 3),
        "api_baseline_over_pipeline": (
            round(runs["api_baseline"]["over_encoder_alone"] / pipe, 3)
            if "api_baseline" in runs else None
        ),
        "chunk_langid_cpu_ms_per_doc": round(chunk_cpu / len(docs) * 1000, 3),
        # chunking + detection CPU against the encoder's time for the same documents
        "chunk_langid_share_of_encoder": round(chunk_cpu / alone[0]["seconds"], 4),
        "load_at_start": float(info["load average (1 min) now"]),
        "machine": info,
    }
    print(json.dumps(out, indent=1, ensure_ascii=False), file=sys.stderr)
    if not args.no_write:
        argv = sys.argv[1:] if argv is None else argv
        path = write_result(args.out, out, command=["python", "-m", "bench.api_writes", *argv])
        print(f"written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
