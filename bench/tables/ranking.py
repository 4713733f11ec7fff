"""README tables of the ranking settings on every corpus shape (issue 11).

Read from the result files that ``xsearch eval qa --layout all`` and ``xsearch eval
pool`` write with ``-o`` (``docs/eval/ranking_<variant>_qa.json`` and
``docs/eval/ranking_<variant>_pool.json``, provenance header included).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.tables._source import source_note
from xsearch.provenance import read_result

VARIANTS = ("int8", "fp32")
SHAPES = (  # (layout, metric, label)
    ("parallel", "map", "parallel mAP@100"),
    ("parallel", "same_share", "parallel own-lang top 10"),
    ("disjoint", "mrr_10", "disjoint MRR@10"),
    ("disjoint", "recall_10", "disjoint R@10"),
    ("skewed", "mrr_10", "skewed MRR@10"),
    ("skewed", "recall_1", "skewed R@1"),
    ("pool", "mrr_10", "pool MRR@10"),
    ("pool", "recall_1", "pool R@1"),
    ("pool", "same_share", "pool en in top 10"),
)
MAIN = {"parallel": "map", "disjoint": "mrr_10", "skewed": "mrr_10", "pool": "mrr_10"}


def _settings(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in doc["results"]["settings"] if s.get("supported")}


def _rows(root: Path, variant: str) -> tuple[dict[str, dict[str, dict[str, float]]], str]:
    """setting -> layout -> metrics, and a line saying where they came from."""
    qa = read_result(root / "docs" / "eval" / f"ranking_{variant}_qa.json")
    pool = read_result(root / "docs" / "eval" / f"ranking_{variant}_pool.json")
    rows: dict[str, dict[str, dict[str, float]]] = {}
    for doc in (qa, pool):
        for name, s in _settings(doc).items():
            rows.setdefault(name, {}).update(s.get("layouts") or {})
    for name, s in _settings(qa).items():
        diag = [row[x]["mrr_10"] for x, row in (s.get("matrix") or {}).items() if x in row]
        if diag:
            rows[name]["same_lang_mrr_10"] = {"value": sum(diag) / len(diag)}
    r = qa["results"]
    p = pool["results"]
    where = (
        f"_{variant}: XQuAD {r['n_paragraphs']} of 240 paragraphs × {len(r['langs'])} "
        f"languages, {r['n_questions']} questions in every language; pool: "
        f"{p['n_queries']} {p['pivot']} queries, answers in {len(p['langs'])} languages, "
        f"{p['n_distractors']} {p['pivot']} distractors. Bold: the best on the shape's main "
        "metric (mAP for parallel, MRR@10 for the others)._\n\n"
        + source_note(f"docs/eval/ranking_{variant}_qa.json", qa)
        + "\n\n"
        + source_note(f"docs/eval/ranking_{variant}_pool.json", pool)
    )
    return rows, where


def _fmt(metric: str, value: float | None) -> str:
    if value is None:
        return "–"
    return f"{100 * value:.1f}%" if metric == "same_share" else f"{value:.3f}"


def render(root: Path, variant: str) -> str:
    rows, where = _rows(root, variant)
    best = {
        layout: max(r[layout][metric] for r in rows.values() if layout in r)
        for layout, metric in MAIN.items()
    }
    head = ["setting", *(label for _, _, label in SHAPES), "same-lang MRR@10"]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for name, r in rows.items():
        cells = [f"**`{name}`**" if name == "default" else f"`{name}`"]
        for layout, metric, _ in SHAPES:
            v = r.get(layout, {}).get(metric)
            cell = _fmt(metric, v)
            if v is not None and MAIN[layout] == metric and v >= best[layout] - 1e-9:
                cell = f"**{cell}**"  # the best setting on this shape
            cells.append(cell)
        same = r.get("same_lang_mrr_10", {}).get("value")
        cells.append(_fmt("mrr_10", same))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(where)
    return "\n".join(lines)


def _table(variant: str) -> Callable[[Path], str]:
    return lambda root: render(root, variant)


TABLES: dict[str, Callable[[Path], str]] = {f"ranking-{v}": _table(v) for v in VARIANTS}
