"""Probe: where the int8 encoder's time goes, per operator type (onnxruntime's
own profiler), at the batch shapes the token budget makes.

One session of the bundle's int8 graph (2 threads, no spinning, as shipped);
for each shape (batch x tokens) random token ids, two warm-up runs, then
``--runs`` profiled runs. Reports each operator type's share of the kernel
time and the groups the README quotes: the int8 GEMMs (DynamicQuantizeMatMul,
MatMulIntegerToFloat) against the fp32 attention path (MatMul, FusedMatMul,
Softmax, Add, Transpose, Where) and the rest (layer norms, GELU, ...).

    python -m bench.experiments.encoder_profile --shapes 32x256 2x256 64x20

Writes bench/results/encoder_profile.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import RESULTS, find_bundle, machine_info
from xsearch.provenance import write_result

GEMM = ("DynamicQuantizeMatMul", "MatMulIntegerToFloat", "MatMulInteger")
ATTENTION = ("MatMul", "FusedMatMul", "Softmax", "Add", "Transpose", "Where")


def profile(graph: Path, batch: int, width: int, runs: int, tmp: Path) -> dict[str, Any]:
    from xsearch.encoder.session import onnxruntime, session_options

    ort = onnxruntime()
    opts = session_options(2, spin=False)
    opts.enable_profiling = True
    opts.profile_file_prefix = str(tmp / f"p{batch}x{width}")
    session = ort.InferenceSession(str(graph), sess_options=opts,
                                   providers=["CPUExecutionProvider"])  # fmt: skip
    rng = np.random.default_rng(0)
    ids = rng.integers(1000, 200_000, size=(batch, width)).astype(np.int64)
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    for _ in range(2 + runs):
        session.run(None, feed)
    events = json.loads(Path(session.end_profiling()).read_text())
    by_op: Counter[str] = Counter()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            by_op[e["args"]["op_name"]] += e["dur"]
    total = sum(by_op.values())
    share = {op: round(us / total, 4) for op, us in by_op.most_common()}
    groups = {
        "int8 GEMMs": sum(v for k, v in share.items() if k in GEMM),
        "fp32 attention path": sum(v for k, v in share.items() if k in ATTENTION),
    }
    groups["rest"] = 1.0 - sum(groups.values())
    return {"shape": f"{batch}x{width}", "share_by_op": share,
            "groups": {k: round(v, 4) for k, v in groups.items()}}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--shapes", nargs="+", default=["32x256", "2x256", "64x20"])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bundle", default=None)
    ap.add_argument("--out", type=Path, default=RESULTS / "encoder_profile.json")
    args = ap.parse_args(argv)
    info = machine_info(["onnxruntime"])
    graph = find_bundle(args.bundle) / "model.int8.onnx"
    with tempfile.TemporaryDirectory(prefix="xsearch-profile-") as tmp:
        rows = []
        for shape in args.shapes:
            batch, width = (int(x) for x in shape.split("x"))
            rows.append(profile(graph, batch, width, args.runs, Path(tmp)))
            print(shape, rows[-1]["groups"], file=sys.stderr)
    argv = sys.argv[1:] if argv is None else argv
    write_result(args.out, {"graph": graph.name, "threads": 2, "rows": rows, "machine": info},
                 command=["python", "-m", "bench.experiments.encoder_profile", *argv])  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
