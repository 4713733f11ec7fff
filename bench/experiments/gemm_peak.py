"""Probe: how fast onnxruntime's int8 and fp32 matrix products run here, alone
(issue 14 #3: where the encoder's time goes once its matmuls are int8).

One single-node graph per (kind, shape), one intra-op thread, the weight a
constant initializer (pre-packed by onnxruntime, as in the bundle): int8 is
``MatMulInteger`` (uint8 activations, int8 weights: the bundle's dynamic
quantization), fp32 is ``MatMul``. Shapes are me5-small's (hidden 384, FFN
1536) at 64-4,096 tokens a call. Best of ``--repeat`` runs each (the machine is
shared: the best run is the least disturbed one); the ratio int8 / fp32 on the
same shape is what the README may quote.

onnxruntime's MLAS dispatches U8S8 products to AMX-INT8 kernels where the
CPU has them and the OS grants the tile state (both hold on the machine the
results come from; whether a given shape takes them is not visible from
Python), else to AVX-512 VNNI. Where int8 products run several times faster
than fp32 ones, the int8 encoder's remaining time is in its fp32 parts
(attention products, softmax, layer norms, GELU, quantize/dequantize), which
no int8 setting speeds up.

    python -m bench.experiments.gemm_peak

Writes bench/results/gemm_peak.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import RESULTS, machine_info, print_table, save_experiment

SHAPES = [(64, 384, 1536), (256, 384, 384), (1024, 384, 1536), (1024, 1536, 384)]


def session(kind: str, m: int, k: int, n: int) -> tuple[Any, np.ndarray]:
    """A one-node graph computing ``A @ weight`` on one thread, and its weight."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    if kind == "int8":
        weight = rng.integers(-127, 128, (k, n)).astype(np.int8)
        node, a_type, y_type = "MatMulInteger", TensorProto.UINT8, TensorProto.INT32
    else:
        weight = rng.standard_normal((k, n)).astype(np.float32)
        node, a_type, y_type = "MatMul", TensorProto.FLOAT, TensorProto.FLOAT
    graph = helper.make_graph(
        [helper.make_node(node, ["A", "B"], ["Y"])],
        "gemm",
        [helper.make_tensor_value_info("A", a_type, [m, k])],
        [helper.make_tensor_value_info("Y", y_type, [m, n])],
        [numpy_helper.from_array(weight, "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    providers = ["CPUExecutionProvider"]
    return ort.InferenceSession(model.SerializeToString(), opts, providers=providers), weight


def best_seconds(kind: str, m: int, k: int, n: int, repeat: int) -> float:
    sess, _ = session(kind, m, k, n)
    rng = np.random.default_rng(1)
    if kind == "int8":
        a = rng.integers(0, 256, (m, k)).astype(np.uint8)
    else:
        a = rng.standard_normal((m, k)).astype(np.float32)
    for _ in range(3):
        sess.run(None, {"A": a})
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        sess.run(None, {"A": a})
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeat", type=int, default=20, help="runs per shape (best is kept)")
    ap.add_argument("--out", type=Path, default=RESULTS / "gemm_peak.json")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    info = machine_info(["onnxruntime"])
    rows = []
    for m, k, n in SHAPES:
        macs = m * k * n
        int8 = best_seconds("int8", m, k, n, args.repeat)
        fp32 = best_seconds("fp32", m, k, n, args.repeat)
        rows.append({
            "shape_mkn": [m, k, n],
            "int8_gmac_per_s": round(macs / int8 / 1e9, 1),
            "fp32_gmac_per_s": round(macs / fp32 / 1e9, 1),
            "int8_over_fp32": round(fp32 / int8, 2),
        })  # fmt: skip
    print_table(
        "one-thread matrix products (best of runs)",
        ["M x K x N", "int8 GMAC/s", "fp32 GMAC/s", "int8 / fp32"],
        [["x".join(map(str, r["shape_mkn"])), r["int8_gmac_per_s"], r["fp32_gmac_per_s"],
          r["int8_over_fp32"]] for r in rows],
    )  # fmt: skip
    out = {"threads": 1, "repeat": args.repeat, "rows": rows, "machine": info}
    if not args.no_write:
        save_experiment(args.out, out, "bench.experiments.gemm_peak", argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
