"""Query language on short text: candidate detectors side by side, in one run.

Queries are short: the texts are the first 2, 3 and 4 words of real questions
(XQuAD, 12 languages) and sentences (Tatoeba, 8 languages + English), the
whole questions, and XQuAD paragraphs (what indexing sees). For text without
spaces (Chinese, Japanese, Thai) a "word" is 2 characters. Every detector sees
every text, interleaved text by text in a rotating order, so a busy neighbour
slows all alike; the time is the mean wall time of one call in this process,
and on 3-word prefixes also the best of 5 batches of 300 (less sensitive to a
shared machine's load).

Each answer is right, wrong, or "und" (abstained: better than a wrong guess,
since the query language weights the ranking). Detectors:

- langdetect: langdetect 1.0.9 (seeded), its top answer, never abstaining;
- engine before: detect_language as of BEFORE (script + langdetect with a
  length cap), loaded from git; skipped when git has no such commit;
- py3langid: py3langid 0.4.0 as shipped (139 labels, top answer);
- py3langid, 54 langs: cut to langdetect's languages, no prior, no abstention;
- engine: detect_language now (script, then xsearch.text.shortid for short
  text: py3langid cut to 54 languages, speakers prior, abstention; langdetect
  for passages).

The short-text constants (shortid.PRIOR_WEIGHT, MIN_PROB) are calibrated on
Tatoeba 3-word prefixes (grid below: the most right answers with at most
MAX_WRONG wrong); XQuAD is the held-out set (py3langid's training data includes
Tatoeba, so Tatoeba flatters it).

    python -m bench.langid_short                 # writes bench/results/langid_short.json
    python -m bench.langid_short --n 300 --no-write
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import DATA, ROOT

RESULT = ROOT / "bench" / "results" / "langid_short.json"
BEFORE = "dfddb333b70a9a12d0f4f7e6a0e69a7c973e3bff"  # the last commit with the old detector
MAX_WRONG = 0.0025
LENGTHS: list[int | None] = [2, 3, 4, None]  # words; None: the whole question
TATOEBA = {"ara": "ar", "cmn": "zh", "deu": "de", "fra": "fr", "hin": "hi", "jpn": "ja",
           "rus": "ru", "spa": "es"}
Detector = Callable[[str], str]


# --- the texts -----------------------------------------------------------------------
def tatoeba(data: Path) -> list[tuple[str, str]]:
    """(lang, sentence): both columns, each English sentence once."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for path in sorted((data / "tatoeba").glob("*-eng.tsv")):
        lang = TATOEBA.get(path.name[:3])
        if lang is None:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            cols = line.split("\t")
            if len(cols) < 2:
                continue
            out.append((lang, cols[0]))
            if cols[1] not in seen:
                seen.add(cols[1])
                out.append(("en", cols[1]))
    return out


def xquad(data: Path, key: str) -> list[tuple[str, str]]:
    """(lang, text) of the questions (key "question") or paragraphs ("context")."""
    name = "parallel_questions.jsonl" if key == "question" else "parallel_paragraphs.jsonl"
    path = data / "xquad" / name
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    return [(lang, t) for line in lines if line.strip()
            for lang, t in json.loads(line)[key].items()]


def prefix(text: str, words: int | None) -> str:
    if words is None:
        return text
    from xsearch.text import scripts as S

    parts = text.split()
    counts = S.letter_scripts(text)
    spaceless = counts and max(counts, key=counts.__getitem__) in S.NO_SPACE_SCRIPTS
    if spaceless and len(parts) <= words:  # no spaces to cut at: 2 characters a word
        return text[: 2 * words]
    return " ".join(parts[:words])


def sample(items: list[tuple[str, str]], n: int, seed: int = 0) -> list[tuple[str, str]]:
    return random.Random(seed).sample(items, min(n, len(items)))


# --- the detectors -------------------------------------------------------------------
def detectors() -> dict[str, Detector]:
    from langdetect.lang_detect_exception import LangDetectException
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from xsearch.text import detect_language, fastdetect, shortid
    from xsearch.text.langid import _get_factory

    factory = _get_factory()
    full = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    cut = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    cut.set_languages(list(shortid.LANGS))
    shortid.warm_up()

    def langdetect(text: str) -> str:
        try:
            ranked = fastdetect.get_probabilities(factory, text)
        except LangDetectException:
            return "und"
        return ("zh" if ranked[0].lang.startswith("zh") else ranked[0].lang) if ranked else "und"

    out: dict[str, Detector] = {"langdetect": langdetect}
    before = _engine_before()
    if before is not None:
        out["engine before"] = lambda text: before.detect_language(text).lang
    out["py3langid"] = lambda text: str(full.classify(text)[0])
    out["py3langid, 54 langs"] = lambda text: str(cut.classify(text)[0])
    out["engine"] = lambda text: detect_language(text).lang
    return out


def _engine_before() -> Any:
    """xsearch/text/langid.py as of BEFORE, as a module (it imports only what still exists)."""
    try:
        source = subprocess.run(
            ["git", "show", f"{BEFORE}:xsearch/text/langid.py"],
            cwd=ROOT, capture_output=True, text=True, check=True, timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    module = types.ModuleType("langid_before")
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    exec(compile(source, "langid_before.py", "exec"), module.__dict__)  # noqa: S102
    module._get_factory()
    return module


# --- the measurement -----------------------------------------------------------------
def measure(items: list[tuple[str, str]], dets: dict[str, Detector]) -> dict[str, dict[str, Any]]:
    names = list(dets)
    counts = {name: {"right": 0, "und": 0, "wrong": 0, "seconds": 0.0} for name in names}
    for k, (lang, text) in enumerate(items):
        shift = k % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            got = dets[name](text)
            counts[name]["seconds"] += time.perf_counter() - started
            key = "und" if got == "und" else "right" if got == lang else "wrong"
            counts[name][key] += 1
    n = max(len(items), 1)
    return {
        name: {
            "n": len(items),
            "right": round(c["right"] / n, 4),
            "und": round(c["und"] / n, 4),
            "wrong": round(c["wrong"] / n, 4),
            "us_per_text": round(c["seconds"] / n * 1e6, 1),
        }
        for name, c in counts.items()
    }


def best_times(texts: list[str], dets: dict[str, Detector], repeats: int = 5) -> dict[str, float]:
    """us per text of each detector on ``texts``: the best of ``repeats`` batches, the
    detectors taking turns batch by batch, so a burst of load on a shared machine
    lands in one batch of one detector and the minimum drops it."""
    best = dict.fromkeys(dets, float("inf"))
    names = list(dets)
    for r in range(repeats):
        for name in names[r % len(names):] + names[: r % len(names)]:
            fn = dets[name]
            started = time.perf_counter()
            for text in texts:
                fn(text)
            best[name] = min(best[name], time.perf_counter() - started)
    return {name: round(t / max(len(texts), 1) * 1e6, 1) for name, t in best.items()}


def calibrate(items: list[tuple[str, str]]) -> dict[str, Any]:
    """The engine on ``items`` for each (prior weight, min prob); the best within MAX_WRONG."""
    from xsearch.text import detect_language, shortid

    shipped = (shortid.PRIOR_WEIGHT, shortid.MIN_PROB)
    grid = []
    try:
        for weight in (0.0, 0.25, 0.5, 0.75, 1.0):
            for min_prob in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
                shortid.PRIOR_WEIGHT, shortid.MIN_PROB = weight, min_prob
                got = [(lang, detect_language(text).lang) for lang, text in items]
                n = max(len(got), 1)
                grid.append({
                    "prior_weight": weight,
                    "min_prob": min_prob,
                    "right": round(sum(lang == g for lang, g in got) / n, 4),
                    "wrong": round(sum(g not in (lang, "und") for lang, g in got) / n, 4),
                })
    finally:
        shortid.PRIOR_WEIGHT, shortid.MIN_PROB = shipped
    ok = [g for g in grid if g["wrong"] <= MAX_WRONG] or grid
    best = max(ok, key=lambda g: (g["right"], -g["wrong"]))
    return {
        "on": "Tatoeba, 3-word prefixes",
        "max_wrong": MAX_WRONG,
        "chosen": {"prior_weight": best["prior_weight"], "min_prob": best["min_prob"]},
        "shipped": {"prior_weight": shipped[0], "min_prob": shipped[1]},
        "grid": grid,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="texts per set and length")
    ap.add_argument("--paragraphs", type=int, default=240, help="XQuAD paragraphs")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    sets = {"Tatoeba": tatoeba(args.data), "XQuAD": xquad(args.data, "question")}
    if not all(sets.values()):
        print(f"no Tatoeba/XQuAD under {args.data}: nothing to measure", file=sys.stderr)
        return 1
    dets = detectors()
    rows: list[dict[str, Any]] = []
    for set_name, items in sets.items():
        chosen = sample(items, args.n)
        for words in LENGTHS:
            texts = [(lang, prefix(text, words)) for lang, text in chosen]
            label = "whole" if words is None else f"{words} words"
            print(f"{set_name}, {label}: {len(texts)} texts", file=sys.stderr)
            best = best_times([t for _, t in texts[:300]], dets) if words == 3 else {}
            for name, figures in measure(texts, dets).items():
                if name in best:
                    figures["us_best_of_5"] = best[name]
                rows.append({"set": set_name, "length": label, "detector": name, **figures})
    paragraphs = [(lang, text[:1000]) for lang, text in
                  sample(xquad(args.data, "context"), args.paragraphs)]
    print(f"XQuAD paragraphs: {len(paragraphs)}", file=sys.stderr)
    for name, figures in measure(paragraphs, dets).items():
        rows.append({"set": "XQuAD", "length": "paragraph", "detector": name, **figures})
    calib = calibrate([(lang, prefix(text, 3)) for lang, text in sample(sets["Tatoeba"], args.n)])
    results = {
        "sets": {"Tatoeba": "8 languages + English, sentences (calibration set)",
                 "XQuAD": "12 languages, questions and paragraphs (held out)"},
        "versions": _versions(),
        "rows": rows,
        "calibration": calib,
    }
    for r in rows:
        print(f"{r['set']:8} {r['length']:10} {r['detector']:20} right {r['right']:.3f} "
              f"und {r['und']:.3f} wrong {r['wrong']:.3f} {r['us_per_text']:8.1f} us")
    print(f"calibration: chosen {calib['chosen']}, shipped {calib['shipped']}")
    if not args.no_write:
        from xsearch.provenance import write_result

        cmd = ["python", "-m", "bench.langid_short", *(argv if argv is not None else sys.argv[1:])]
        print(f"written to {write_result(RESULT, results, command=cmd)}", file=sys.stderr)
    return 0


def _versions() -> dict[str, str]:
    from importlib import metadata

    return {name: metadata.version(name) for name in ("langdetect", "py3langid")}


if __name__ == "__main__":
    sys.exit(main())
