"""Load test of the query API: requests/s and p50/p99 latency at concurrency 1, 8, 32.

``xsearch serve`` runs on loopback over an embedded collection of 100k passages
(synthetic clustered vectors written straight into the store with the bundle's
fingerprint, realistic payloads; HNSW built). The query path is the real one:
every request carries a distinct real sentence (Tatoeba, 8 languages, when
../shared/data is present) that the server detects, encodes with the real
bundle (micro-batched) and searches.

Two servers are measured in the same run: micro-batching on (the settings'
defaults) and off (XSEARCH_MICROBATCH_MAX=1, one encoder call per query), so
the batching gain is a ratio measured side by side. The load generator is a
small closed-loop asyncio HTTP/1.1 client (keep-alive, one connection per
simulated user), light enough to share the machine with the server.

    python -m bench.api_load                       # full run, writes bench/results/api_load.json
    python -m bench.api_load --passages 20000 --duration 4 --concurrency 1 8

The result file carries the figures and the provenance header (command, commit,
dirty flag, machine, load); the README's API table is generated from it
(bench/tables/api_load.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

from bench.common import link_bundle
from xsearch.provenance import write_result

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data"
RESULTS = ROOT / "bench" / "results"
COLLECTION = "bench"
LANGS = ["en", "es", "de", "fr", "ru", "ar", "ja", "zh", "hi"]
FALLBACK_QUERIES = [
    "When does the next train to the airport leave?",
    "¿Dónde está la estación de tren?",
    "Wie backe ich Brot zu Hause?",
    "Le volcan est entré en éruption",
    "Когда начинается матч?",
    "ما هو أفضل مطعم في المدينة؟",
    "明日の天気はどうですか",
    "这个博物馆几点开门？",
    "How do I reset my password?",
    "Quels sont les horaires de la bibliothèque ?",
]


def log(msg: str) -> None:
    print(f"[api_load] {msg}", flush=True)


# --- corpus -------------------------------------------------------------------------
def sentences(data: Path = DATA) -> list[tuple[str, str]]:
    """(lang, sentence) pairs: Tatoeba when the shared data is there, else a short list."""
    out: list[tuple[str, str]] = []
    codes = {
        "ara": "ar",
        "cmn": "zh",
        "deu": "de",
        "fra": "fr",
        "hin": "hi",
        "jpn": "ja",
        "rus": "ru",
        "spa": "es",
    }
    for path in sorted((data / "tatoeba").glob("*-eng.tsv")) if data.is_dir() else []:
        lang = codes.get(path.name.split("-")[0], "und")
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) >= 2:
                out += [(lang, parts[0].strip()), ("en", parts[1].strip())]
    if not out:
        out = [("und", q) for q in FALLBACK_QUERIES]
    return [(lang, s) for lang, s in out if s]


def synthetic_vectors(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Clustered, anisotropic unit vectors: closer to real embeddings than uniform noise."""
    centers = rng.standard_normal((512, dim)).astype(np.float32)
    scale = np.linspace(2.0, 0.2, dim, dtype=np.float32)  # a few strong directions
    centers *= scale
    assign = rng.integers(0, len(centers), n)
    x = centers[assign] + 0.6 * rng.standard_normal((n, dim)).astype(np.float32) * scale
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def build_collection(home: Path, manifest: dict, n: int, pool: list[tuple[str, str]]) -> None:
    """Write ``n`` passages (4 per document) with realistic payloads, then build HNSW."""
    from xsearch.documents import point_id
    from xsearch.settings import Settings
    from xsearch.store import CollectionSpec, PointRecord, open_store

    settings = Settings(_env_file=None, home=home, qdrant_url=None)
    rng = np.random.default_rng(7)
    with open_store(settings) as store:
        if COLLECTION in store.list_collections():
            if store.count(COLLECTION) == n:
                log(f"reusing the {n}-passage collection in {home}")
                return
            store.delete_collection(COLLECTION)
        store.create_collection(
            CollectionSpec(
                COLLECTION, int(manifest["dimension"]), manifest["fingerprint"], manifest["name"]
            )
        )
        t0 = time.perf_counter()
        vectors = synthetic_vectors(n, int(manifest["dimension"]), rng)
        per_doc = 4
        batch: list = []
        for i in range(n):
            doc, number = divmod(i, per_doc)
            lang, _ = pool[doc % len(pool)]
            text = " ".join(pool[(i * 3 + j) % len(pool)][1] for j in range(3))
            payload = {
                "doc_id": f"doc-{doc}",
                "passage": number,
                "n_passages": per_doc,
                "lang": LANGS[doc % len(LANGS)] if lang == "und" else lang,
                "lang_conf": 0.99,
                "title": f"Document {doc}",
                "url": f"https://example.org/docs/{doc}",
                "text": text,
                "start": number * 400,
                "end": number * 400 + len(text),
                "meta": {"source": ["wiki", "news", "forum"][doc % 3], "year": 2000 + doc % 25},
                "content_hash": f"{doc:064x}",
            }
            pid = point_id(f"doc-{doc}", number)
            batch.append(PointRecord(pid, {"dense": vectors[i]}, payload))
            if len(batch) == 4096:
                store.upsert(COLLECTION, batch)
                batch = []
        if batch:
            store.upsert(COLLECTION, batch)
        log(f"wrote {n} passages in {time.perf_counter() - t0:.1f}s; building the HNSW index")
        t0 = time.perf_counter()
        store.optimize(COLLECTION)
        log(f"index built in {time.perf_counter() - t0:.1f}s")


# --- server -------------------------------------------------------------------------
def find_bundle(arg: str | None) -> Path:
    from xsearch.settings import get_settings

    settings = get_settings()
    candidates = [Path(arg)] if arg and Path(arg).is_dir() else []
    candidates += [
        settings.bundle_dir(arg),
        ROOT / ".xsearch-test" / "models" / (arg or settings.default_bundle),
    ]
    for path in candidates:
        if (path / "manifest.json").is_file():
            return path.resolve()
    sys.exit(
        f"error: no model bundle found (looked in {', '.join(map(str, candidates))}): "
        "build one with `xsearch model build`"
    )


def start_server(home: Path, bundle: str, port: int, extra_env: dict[str, str]) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XSEARCH_")}
    # No query-vector cache: these benchmarks measure a request's whole cost, and
    # their query lists come round again (slices, concurrency levels), which a
    # cache would answer without encoding (runs before it existed compare as is).
    env.update(
        XSEARCH_HOME=str(home), XSEARCH_DEFAULT_BUNDLE=bundle, PYTHONPATH=str(ROOT),
        XSEARCH_QUERY_CACHE_SIZE="0",
    )
    env.update(extra_env)
    cmd = [
        sys.executable,
        "-m",
        "xsearch.cli.main",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(cmd, env=env, cwd=ROOT)


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"error: xsearch serve exited with status {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    sys.exit("error: xsearch serve did not become ready")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- load generator -------------------------------------------------------------------
async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str
) -> tuple[int, bytes]:
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n".encode(
            "ascii"
        )
    )
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    m = re.search(rb"(?i)content-length:\s*(\d+)", head)
    if not m:
        raise RuntimeError(f"response without Content-Length: {head[:200]!r}")
    return status, await reader.readexactly(int(m.group(1)))


def _empty(body: bytes) -> bool:
    # A search that found nothing did not exercise the store: count it as a failure.
    return b'"hits":[]' in body


@dataclass
class Level:
    mode: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    mean_batch: float
    encode_ms: float  # server: mean encoder call per batch
    search_ms: float  # server: mean store + ranking per query
    cpu_ms: float  # server process CPU time (all threads) per request; nan if unknown

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


async def _load(
    port: int, paths: list[str], start: int, c: int, seconds: float, latencies: list[float] | None
) -> tuple[int, int, float]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    counter = iter(range(start, start + 10**9))
    done = errors = 0

    async def user() -> None:
        nonlocal done, errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while loop.time() < deadline:
                path = paths[next(counter) % len(paths)]  # a distinct query per request
                t0 = time.perf_counter()
                status, body = await _request(reader, writer, path)
                if latencies is not None:
                    latencies.append(time.perf_counter() - t0)
                done += 1
                errors += status != 200 or _empty(body)
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(c)))
    return done, errors, time.perf_counter() - t0


def scrape(port: int) -> dict[str, float]:
    import httpx

    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    out = {}
    for name in (
        "xsearch_encode_batch_size_sum",
        "xsearch_encode_batch_size_count",
        "xsearch_encode_seconds_sum",
        "xsearch_search_seconds_sum",
        "xsearch_search_seconds_count",
    ):
        m = re.search(rf"^{name} (\S+)$", text, re.M)
        out[name] = float(m.group(1)) if m else 0.0
    return out


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all threads (Linux /proc; nan elsewhere).

    Unlike requests/s this barely depends on what else runs on the machine, so
    it compares server configurations even on a shared machine.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    port: int,
    pid: int,
    mode: str,
    c: int,
    paths: list[str],
    args: argparse.Namespace,
    offset: int,
) -> Level:
    asyncio.run(_load(port, paths, offset, c, args.warmup, None))
    before = scrape(port)
    cpu_before = process_cpu_seconds(pid)
    latencies: list[float] = []
    done, errors, seconds = asyncio.run(
        _load(port, paths, offset + 100_000, c, args.duration, latencies)
    )
    cpu = process_cpu_seconds(pid) - cpu_before
    after = scrape(port)
    d = {k: after[k] - before[k] for k in after}
    batches = max(d["xsearch_encode_batch_size_count"], 1)
    lat = np.array(latencies) * 1000
    return Level(
        mode=mode,
        concurrency=c,
        requests=done,
        errors=errors,
        seconds=seconds,
        p50_ms=float(np.percentile(lat, 50)),
        p99_ms=float(np.percentile(lat, 99)),
        mean_batch=d["xsearch_encode_batch_size_sum"] / batches,
        encode_ms=1000 * d["xsearch_encode_seconds_sum"] / batches,
        search_ms=1000
        * d["xsearch_search_seconds_sum"]
        / max(d["xsearch_search_seconds_count"], 1),
        cpu_ms=1000 * cpu / max(done, 1),
    )


# --- report ---------------------------------------------------------------------------------
def results(levels: list[Level], args: argparse.Namespace, manifest: dict, setup: dict) -> dict:
    """The figures as the result file holds them (the README table reads these)."""
    return {
        "passages": args.passages,
        "bundle": manifest["name"],
        "variant": setup.get("variant"),
        "provider": setup.get("provider"),
        "threads": args.threads,
        "cores": os.cpu_count(),
        "balance": args.balance,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "queries_in_pool": setup["queries"],
        "query_source": setup["query_source"],
        "load_at_start": setup["load_start"],
        "load_at_end": round(os.getloadavg()[0], 2),
        "levels": [
            {
                **{k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(lv).items()},
                "rps": round(lv.rps, 2),
            }
            for lv in levels
        ],
    }


def print_table(levels: list[Level]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        for lv in levels:
            print(lv)
        return
    t = Table(title="GET /search under load")
    for col in ("mode", "c", "req/s", "p50 ms", "p99 ms", "batch", "CPU ms/req", "errors"):
        t.add_column(col, justify="right" if col != "mode" else "left")
    for lv in levels:
        t.add_row(
            lv.mode,
            str(lv.concurrency),
            f"{lv.rps:.0f}",
            f"{lv.p50_ms:.1f}",
            f"{lv.p99_ms:.1f}",
            f"{lv.mean_batch:.1f}",
            f"{lv.cpu_ms:.1f}",
            str(lv.errors),
        )
    Console().print(t)


def parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m bench.api_load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--passages", type=int, default=100_000)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--duration", type=float, default=10.0, help="measured seconds per level")
    ap.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per level")
    ap.add_argument("--bundle", default=None, help="bundle name or folder (default: settings)")
    ap.add_argument("--threads", type=int, default=0, help="XSEARCH_THREADS of the server")
    ap.add_argument(
        "--balance",
        default="none",
        help="balance= of every request ('default': the server's setting). The "
        "synthetic collection has raw vectors only, so 'none' (plain dense) is the "
        "default",
    )
    ap.add_argument(
        "--home",
        type=Path,
        default=None,
        help="keep the collection here and reuse it next time (default: a temp dir)",
    )
    ap.add_argument(
        "--no-baseline", action="store_true", help="skip the server without micro-batching"
    )
    ap.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra settings for every server, e.g. XSEARCH_ENCODER_SPIN=false (repeatable)",
    )
    ap.add_argument("--data", type=Path, default=DATA, help="folder holding tatoeba/ (queries)")
    ap.add_argument("--out", type=Path, default=RESULTS / "api_load.json", help="result file")
    ns = ap.parse_args(argv)
    bad = [e for e in ns.server_env if "=" not in e]
    if bad:
        ap.error(f"--server-env wants KEY=VALUE, got {bad[0]!r}")
    ns.argv = argv
    return ns


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    bundle = find_bundle(args.bundle)
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    pool = sentences(args.data)
    rng = random.Random(3)
    queries = [s for _, s in pool if 3 <= len(s) <= 200]
    rng.shuffle(queries)
    params: dict[str, str | int] = {"collection": COLLECTION, "k": 10}
    if args.balance != "default":
        params["balance"] = args.balance
        params["mode"] = "dense"  # the synthetic points carry no lexical vectors
    paths = ["/search?" + urlencode({"q": q, **params}) for q in queries]
    with tempfile.TemporaryDirectory(prefix="xsearch-api-load-") as tmp:
        home = (args.home or Path(tmp)).resolve()
        link_bundle(home, bundle)
        build_collection(home, manifest, args.passages, pool)
        modes = [("micro-batching", {})]
        if not args.no_baseline:
            modes.append(("one query per call", {"XSEARCH_MICROBATCH_MAX": "1"}))
        levels: list[Level] = []
        setup = {
            "queries": len(paths),
            "query_source": "Tatoeba" if pool[0][0] != "und" else "built-in list",
            "load_start": round(os.getloadavg()[0], 2),
        }
        for mode, env in modes:
            port = free_port()
            extra = dict(e.split("=", 1) for e in args.server_env)
            proc = start_server(
                home, bundle.name, port, {"XSEARCH_THREADS": str(args.threads), **extra, **env}
            )
            try:
                wait_ready(port, proc)
                import httpx

                info = httpx.get(f"http://127.0.0.1:{port}/info", timeout=10).json()
                setup.update(variant=info["variant"], provider=info["provider"])
                for i, c in enumerate(args.concurrency):
                    lv = measure(port, proc.pid, mode, c, paths, args, offset=i * 1_000_000)
                    log(
                        f"{mode}, c={c}: {lv.rps:.0f} req/s, p50 {lv.p50_ms:.1f} ms, "
                        f"p99 {lv.p99_ms:.1f} ms, batch {lv.mean_batch:.1f}, "
                        f"server CPU {lv.cpu_ms:.1f} ms/req, errors {lv.errors}"
                    )
                    levels.append(lv)
            finally:
                stop_server(proc)
    print_table(levels)
    out = results(levels, args, manifest, setup)
    write_result(args.out, out, command=["python", "-m", "bench.api_load", *args.argv])
    print(json.dumps(out))
    log(f"written to {args.out}")
    return 1 if any(lv.errors for lv in levels) else 0


if __name__ == "__main__":
    sys.exit(main())
