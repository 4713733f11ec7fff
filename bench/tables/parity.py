"""README table: the parity gate of the default bundle, from
``bench/results/parity.json`` (``python -m bench.parity``, copied from the
manifest that ``xsearch model build`` wrote)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.tables._source import load, source_note

FILE = "bench/results/parity.json"


def parity(root: Path) -> str:
    doc = load(root, FILE)
    r = doc["results"]
    p = r["parity"]
    variants = [v for v in ("fp32", "int8", "fp16") if v in p]
    return "\n".join(
        [
            "| variant | min cosine | mean cosine |",
            "|---|---:|---:|",
            *[f"| {v} | {p[v]['min_cos']:.4f} | {p[v]['mean_cos']:.4f} |" for v in variants],
            "",
            f"Against sentence-transformers on {p['probe_sentences']} probe sentences "
            f"({p['languages']} languages, {p['scripts']} scripts); bundle {r['name']} "
            f"(fingerprint {str(r['fingerprint'])[:16]}), built {str(r['created'])[:10]}.",
            "",
            source_note(FILE, doc),
        ]
    )


TABLES: dict[str, Callable[[Path], str]] = {"parity": parity}
