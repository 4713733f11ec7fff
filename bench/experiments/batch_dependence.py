"""Does a query's ranking depend on the queries encoded with it?

The int8 bundle quantizes activations dynamically, one scale and zero point per
tensor, i.e. per encoder call: a text's vector depends (in the 3rd decimal) on
the other texts of its batch. The API micro-batches concurrent queries
(api/microbatch.py), so under load the same query can come back in another
order, and two pages of one query (offset) can be computed from two vectors.
This measures it on real questions (XQuAD, several languages) against a pool of
their paragraphs, for:

- the shipped int8 and fp32 variants;
- a per-token int8 graph built here from the shipped one (each token's
  activations get their own scale and zero point, so nothing depends on the
  batch): the remedy inside the graph, and what it costs without a fused kernel.

    python -m bench.experiments.batch_dependence --data ../shared/data

Per query: its vector encoded alone, and encoded as the first of a batch of
``--mates`` + 1 questions drawn at random; "same top 1 / top 10": the dense
ranking of the pool by either vector agrees at rank 1 / in the whole top 10 in
order. Times: one process, variants taking turns, best of ``--repeats``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import RESULTS, find_bundle, machine_info, print_table, save_experiment

LANGS = ("en", "de", "zh", "ar", "ru", "es")


def per_token_int8(src: Path, dst: Path) -> None:
    """Rewrite every DynamicQuantizeLinear (one scale per tensor) as per-token uint8
    quantization; MatMulInteger keeps a zero point of 0 and the product is
    corrected by zero point × the weight column sums (ONNX Runtime's CPU
    MatMulInteger takes only a scalar zero point for A)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(src))
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    consumers: dict[str, list[Any]] = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    extra = [
        numpy_helper.from_array(np.array(0.0, np.float32), "pt_zero"),
        numpy_helper.from_array(np.array(255.0, np.float32), "pt_255"),
        numpy_helper.from_array(np.array(1e-8, np.float32), "pt_eps"),
        numpy_helper.from_array(np.array(0, np.uint8), "pt_zero_u8"),
    ]
    nodes: list[Any] = []
    for n in g.node:
        if n.op_type != "DynamicQuantizeLinear":
            nodes.append(n)
            continue
        x, (q, s, _) = n.input[0], n.output
        p = x + "_pt"

        def op(kind: str, ins: list[str], out: str, **attrs: Any) -> str:
            nodes.append(helper.make_node(kind, ins, [out], **attrs))
            return out

        hi = op(
            "Max", [op("ReduceMax", [x], p + "_mx", axes=[-1], keepdims=1), "pt_zero"], p + "_hi"
        )
        lo = op(
            "Min", [op("ReduceMin", [x], p + "_mn", axes=[-1], keepdims=1), "pt_zero"], p + "_lo"
        )
        op("Max", [op("Div", [op("Sub", [hi, lo], p + "_rng"), "pt_255"], p + "_s0"), "pt_eps"], s)
        zp = op("Round", [op("Neg", [op("Div", [lo, s], p + "_lz")], p + "_nz")], p + "_zp")
        xq = op("Add", [op("Round", [op("Div", [x, s], p + "_xs")], p + "_xr"), zp], p + "_xz")
        op("Cast", [op("Clip", [xq, "pt_zero", "pt_255"], p + "_xc")], q, to=TensorProto.UINT8)
        for mm in consumers[q]:
            w = numpy_helper.to_array(inits[mm.input[1]]).astype(np.int64)
            wz = numpy_helper.to_array(inits[mm.input[3]]).astype(np.int64)
            cols = mm.output[0] + "_colsum"
            extra.append(numpy_helper.from_array((w - wz).sum(0).astype(np.float32), cols))
            mm.input[2] = "pt_zero_u8"
            cast = consumers[mm.output[0]][0]  # MatMulInteger -> Cast -> Mul(scales)
            old, fixed = cast.output[0], cast.output[0] + "_pt"
            for c in consumers[old]:
                c.input[:] = [fixed if i == old else i for i in c.input]
            op("Sub", [old, op("Mul", [zp, cols], old + "_zc")], fixed)
    g.initializer.extend(extra)
    del g.node[:]
    g.node.extend(
        _topological(nodes, {i.name for i in g.input} | set(inits) | {e.name for e in extra})
    )
    onnx.save(model, str(dst))


def _topological(nodes: list[Any], ready: set[str]) -> list[Any]:
    ready = set(ready) | {""}
    out: list[Any] = []
    while nodes:
        rest = [n for n in nodes if not all(i in ready for i in n.input)]
        for n in nodes:
            if n not in rest:
                out.append(n)
                ready.update(n.output)
        if len(rest) == len(nodes):
            raise ValueError("graph has a cycle")
        nodes = rest
    return out


def per_token_bundle(bundle: Path, folder: Path) -> Path:
    """A bundle folder whose int8 file is the per-token rewrite (loaded unverified)."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in bundle.iterdir():
        if f.is_file() and f.name != "model.int8.onnx":
            (folder / f.name).symlink_to(f.resolve())
    per_token_int8(bundle / "model.int8.onnx", folder / "model.int8.onnx")
    return folder


def measure(enc: Any, queries: list[str], pool: np.ndarray, mates: int, fp32: np.ndarray
            ) -> dict[str, float]:  # fmt: skip
    rng = random.Random(0)
    alone = np.stack([enc.encode([q], "query")[0] for q in queries])
    batched = np.stack([enc.encode([q, *rng.sample(queries, mates)], "query")[0] for q in queries])
    cos = (alone * batched).sum(1)
    top1 = top10 = 0
    for a, b in zip(alone, batched, strict=True):
        ra, rb = np.argsort(-(pool @ a))[:10], np.argsort(-(pool @ b))[:10]
        top1 += int(ra[0] == rb[0])
        top10 += int(list(ra) == list(rb))
    return {
        "min_cos_alone_vs_batched": float(cos.min()),
        "max_abs_diff": float(np.abs(alone - batched).max()),
        "same_top1": top1 / len(queries),
        "same_top10": top10 / len(queries),
        "mean_cos_to_fp32": float((alone * fp32).sum(1).mean()),
    }


def timings(encs: dict[str, Any], queries: list[str], passages: list[str], repeats: int
            ) -> dict[str, dict[str, float]]:  # fmt: skip
    best: dict[str, dict[str, float]] = {n: {} for n in encs}
    for _ in range(repeats):
        for name, enc in encs.items():  # variants take turns: load hits all alike
            for key, fn in (
                ("queries_batched_ms", lambda e=enc: e.encode(queries, "query")),
                ("queries_alone_ms", lambda e=enc: [e.encode([q], "query") for q in queries]),
                ("passages_ms", lambda e=enc: e.encode(passages, "passage")),
            ):
                t = time.perf_counter()
                fn()
                ms = (time.perf_counter() - t) * 1000 / (len(passages) if key == "passages_ms"
                                                         else len(queries))  # fmt: skip
                best[name][key] = min(best[name].get(key, float("inf")), ms)
    return best


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True, help="the folder holding xquad/")
    p.add_argument("--bundle", default=None)
    p.add_argument("--queries", type=int, default=300)
    p.add_argument("--paragraphs", type=int, default=60, help="pool: these in every language")
    p.add_argument("--mates", type=int, default=15)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", type=Path, default=RESULTS / "batch_dependence.json")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)

    from xsearch.encoder import Encoder

    xquad = args.data / "xquad"
    paras = [json.loads(x) for x in (xquad / "parallel_paragraphs.jsonl").open(encoding="utf-8")]
    paras = paras[: args.paragraphs]
    keep = {x["pid"] for x in paras}
    rows = [json.loads(x) for x in (xquad / "parallel_questions.jsonl").open(encoding="utf-8")]
    queries = [q["question"][lang] for q in rows if q["pid"] in keep for lang in LANGS]
    queries = random.Random(1).sample(queries, min(args.queries, len(queries)))
    passages = [x["context"][lang] for x in paras for lang in LANGS]

    bundle = find_bundle(args.bundle)
    with tempfile.TemporaryDirectory(prefix="xsearch-pertoken-") as tmp:
        encs = {
            "int8 (shipped)": Encoder.load(bundle, variant="int8"),
            "fp32": Encoder.load(bundle, variant="fp32"),
            "int8 per-token (not shipped)": Encoder.load(
                per_token_bundle(bundle, Path(tmp) / bundle.name), variant="int8", verify=False
            ),
        }
        fp32 = encs["fp32"]
        pool = fp32.encode(passages, "passage")  # one pool for all: only the query side varies
        ref = np.stack([fp32.encode([q], "query")[0] for q in queries])
        results = {name: measure(enc, queries, pool, args.mates, ref) for name, enc in encs.items()}
        times = timings(encs, queries[:64], passages[:32], args.repeats)
    base = times["int8 (shipped)"]
    for name, r in results.items():
        r.update(times[name])
        r["queries_batched_vs_int8"] = (
            times[name]["queries_batched_ms"] / base["queries_batched_ms"]
        )
        r["passages_vs_int8"] = times[name]["passages_ms"] / base["passages_ms"]
    print_table(
        f"{len(queries)} XQuAD questions alone vs in a batch of {args.mates + 1}; "
        f"pool {len(passages)} paragraphs",
        ["variant", "min cos", "same top 1", "same top 10", "cos to fp32", "ms/query batched",
         "ms/query alone", "ms/passage"],
        [[n, f"{r['min_cos_alone_vs_batched']:.4f}", f"{r['same_top1']:.3f}",
          f"{r['same_top10']:.3f}", f"{r['mean_cos_to_fp32']:.4f}",
          f"{r['queries_batched_ms']:.2f}", f"{r['queries_alone_ms']:.2f}",
          f"{r['passages_ms']:.1f}"] for n, r in results.items()],
    )  # fmt: skip
    out = {"bundle": bundle.name, "queries": len(queries), "passages": len(passages),
           "mates": args.mates, "langs": list(LANGS), "results": results,
           "machine": machine_info(["onnxruntime"])}  # fmt: skip
    if not args.no_write:
        save_experiment(args.out, out, "bench.experiments.batch_dependence", argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
