"""Probe: the encoder's token budget per batch (XSEARCH_BATCH_TOKENS) against its
cost per passage, on the indexing benchmark's passages (issue 14 #2).

Found while measuring API writes: request-sized encoder calls (~10 passages)
cost less CPU per passage than the pipeline's large ones. One engine per
budget in one process, the same passages (every passage of the generated
documents, in one encoder call each, which the encoder sorts by length and
cuts by the budget), budgets in rotating order, ``--rounds`` times: CPU ms per
passage (steady on a shared machine) and wall ms per passage.

    python -m bench.experiments.batch_tokens --docs 300

Writes bench/results/batch_tokens.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.api_writes import chunked_texts
from bench.common import DATA, RESULTS, find_bundle, machine_info
from bench.indexing import make_corpus
from xsearch.provenance import write_result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--docs", type=int, default=300)
    ap.add_argument("--budgets", type=int, nargs="+", default=[8192, 2048, 1024, 512, 256])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--bundle", default=None)
    ap.add_argument("--out", type=Path, default=RESULTS / "batch_tokens.json")
    args = ap.parse_args(argv)

    from xsearch.runtime import Engine
    from xsearch.settings import get_settings

    info = machine_info(["onnxruntime"])
    docs, source = make_corpus(args.docs, 0, DATA)
    bundle = str(find_bundle(args.bundle))
    samples: dict[int, dict[str, list[float]]] = {b: {"cpu": [], "wall": []} for b in args.budgets}
    with tempfile.TemporaryDirectory(prefix="xsearch-bench-") as tmp:
        engines: dict[int, Any] = {}
        try:
            for b in args.budgets:
                s = get_settings().model_copy(
                    update={"home": Path(tmp) / str(b), "batch_tokens": b}
                )
                engines[b] = Engine.open(s, bundle=bundle)
                engines[b].encoder.encode(["warm-up"])
            texts, _ = chunked_texts(engines[args.budgets[0]], docs)
            for r in range(args.rounds):
                k = r % len(args.budgets)
                order = args.budgets[k:] + args.budgets[:k]
                for b in order:
                    cpu, wall = time.process_time(), time.perf_counter()
                    engines[b].encoder.encode(texts, "passage")
                    samples[b]["cpu"].append((time.process_time() - cpu) / len(texts) * 1000)
                    samples[b]["wall"].append((time.perf_counter() - wall) / len(texts) * 1000)
                    print(b, samples[b]["cpu"][-1], samples[b]["wall"][-1], file=sys.stderr)
        finally:
            for e in engines.values():
                e.close()
    base = args.budgets[0]
    base_cpu = sum(samples[base]["cpu"]) / args.rounds
    rows = {
        str(b): {
            "cpu_ms_per_passage": round(sum(v["cpu"]) / args.rounds, 2),
            "wall_ms_per_passage": round(sum(v["wall"]) / args.rounds, 2),
            "cpu_over_first": round(sum(v["cpu"]) / args.rounds / base_cpu, 3),
        }
        for b, v in samples.items()
    }
    out = {"corpus": source, "documents": len(docs), "passages": len(texts), "rounds": args.rounds,
           "budgets": rows, "machine": info}  # fmt: skip
    print(rows)
    argv = sys.argv[1:] if argv is None else argv
    write_result(args.out, out, command=["python", "-m", "bench.experiments.batch_tokens", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
