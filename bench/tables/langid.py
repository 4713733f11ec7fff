"""README tables: query language detectors on short text (bench/results/langid_short.json).

Written by ``python -m bench.langid_short``; one table per set, a row per
detector, a cell per text length: right / und / wrong (%), and the mean time
of one call on 3-word prefixes, measured side by side in the same run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from xsearch.provenance import read_result

RESULT = Path("bench") / "results" / "langid_short.json"
LENGTHS = ["2 words", "3 words", "4 words", "whole", "paragraph"]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _table(root: Path, set_name: str) -> str:
    doc = read_result(root / RESULT)
    rows: list[dict[str, Any]] = [r for r in doc["results"]["rows"] if r["set"] == set_name]
    lengths = [n for n in LENGTHS if any(r["length"] == n for r in rows)]
    detectors = list(dict.fromkeys(r["detector"] for r in rows))
    cell = {(r["detector"], r["length"]): r for r in rows}
    base = cell.get(("langdetect", "3 words"))
    head = ["detector", *[f"{n}: right / und / wrong %" for n in lengths],
            "µs per 3-word query (mean; best of 5 batches)", "time vs langdetect"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for det in detectors:
        cells = [det]
        for n in lengths:
            r = cell.get((det, n))
            cells.append("–" if r is None else
                         f"{_pct(r['right'])} / {_pct(r['und'])} / {_pct(r['wrong'])}")
        r3 = cell.get((det, "3 words"))
        cells.append("–" if r3 is None else f"{r3['us_per_text']:.0f}; "
                     f"{r3.get('us_best_of_5', float('nan')):.0f}")
        key = "us_best_of_5" if r3 is not None and "us_best_of_5" in r3 else "us_per_text"
        cells.append("–" if r3 is None or base is None else
                     f"{r3[key] / base[key]:.2f}×")
        if det == "engine":
            cells = [f"**{c}**" for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    prov = doc["provenance"]
    n = rows[0]["n"] if rows else 0
    load = prov["machine"].get("load_at_start")
    lines += ["", f"{set_name}: {n} texts per length, sampled at random (seed 0). "
              f"`{prov['command']}` at {str(prov['commit'])[:10]}"
              f"{' (dirty)' if prov.get('dirty') else ''}, {prov['machine']['cores']} cores, "
              f"load {load} at start: times are comparable within the table only."]
    return "\n".join(lines)


def _calibration(root: Path) -> str:
    calib = read_result(root / RESULT)["results"]["calibration"]
    grid = calib["grid"]
    weights = sorted({g["prior_weight"] for g in grid})
    probs = sorted({g["min_prob"] for g in grid})
    cell = {(g["prior_weight"], g["min_prob"]): g for g in grid}
    head = ["prior weight \\ min prob", *[f"{p:g}" for p in probs]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    chosen = (calib["chosen"]["prior_weight"], calib["chosen"]["min_prob"])
    for w in weights:
        cells = [f"{w:g}"]
        for p in probs:
            g = cell[(w, p)]
            text = f"{_pct(g['right'])} / {_pct(g['wrong'])}"
            cells.append(f"**{text}**" if (w, p) == chosen else text)
        lines.append("| " + " | ".join(cells) + " |")
    shipped = calib["shipped"]
    lines += ["", f"{calib['on']}: right / wrong % of the engine for each setting; bold: the "
              f"most right with at most {100 * calib['max_wrong']:g}% wrong (shipped: prior "
              f"weight {shipped['prior_weight']:g}, min prob {shipped['min_prob']:g})."]
    return "\n".join(lines)


TABLES: dict[str, Callable[[Path], str]] = {
    "langid-xquad": lambda root: _table(root, "XQuAD"),
    "langid-tatoeba": lambda root: _table(root, "Tatoeba"),
    "langid-calibration": _calibration,
}
