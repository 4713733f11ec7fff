"""README table: Tatoeba accuracy@1 of the default bundle, from the result files
that ``xsearch eval bitext ../shared/data/tatoeba --variant V --kind K -o
docs/eval/tatoeba_V_K.json`` writes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.tables._source import load, source_note

RUNS = [("fp32", "query"), ("fp32", "passage"), ("int8", "query"), ("int8", "passage")]


def file_of(variant: str, kind: str) -> str:
    return f"docs/eval/tatoeba_{variant}_{kind}.json"


def bitext(root: Path) -> str:
    docs = {run: load(root, file_of(*run)) for run in RUNS}
    langs = [p["src_lang"] for p in docs[RUNS[0]]["results"]["pairs"]]
    lines = [
        "| variant (prompt) | " + " | ".join(langs) + " | mean | published |",
        "|---|" + "---:|" * (len(langs) + 2),
    ]
    for (variant, kind), doc in docs.items():
        r = doc["results"]
        by = {p["src_lang"]: p["src_to_tgt"] for p in r["pairs"]}
        ref = r.get("mean_reference")
        lines.append(
            f"| {variant} ({kind}) | "
            + " | ".join(f"{by[lg]:.1f}" for lg in langs)
            + f" | **{r['mean_src_to_tgt']:.2f}** | {'—' if ref is None else f'{ref:.2f}'} |"
        )
    pairs = docs[RUNS[0]]["results"]["pairs"]
    return "\n".join(
        [
            *lines,
            "",
            f"accuracy@1 xx→en, {pairs[0]['pairs']} pairs per language; published: "
            f"{docs[RUNS[0]]['results'].get('reference_model')} from `reference.json`.",
            "",
            *["- " + source_note(file_of(*run), doc) for run, doc in docs.items()],
        ]
    )


TABLES: dict[str, Callable[[Path], str]] = {"bitext": bitext}
