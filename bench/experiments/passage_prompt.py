"""Should passages be encoded with e5's query prompt too? (issue 11, not adopted)

e5 is trained with ``query: `` / ``passage: `` prefixes; its model card asks for
``query: `` on both sides of symmetric tasks (bitext). On Tatoeba the default
bundle aligns languages better with the query prompt (README, "Evaluation":
90.19 vs 88.07 int8), and on the demo the Japanese cherry-blossom article rose
from 3rd to 2nd for the German question with it. This runs the product's own
evaluations (``xsearch eval qa --layout all`` and ``xsearch eval pool``) side by
side for the bundle as built and for a copy whose manifest gives passages the
query prompt (same ONNX files, fingerprint recomputed), and tables the main
metric of each shape:

    python -m bench.experiments.passage_prompt --xquad ../shared/data/xquad \
        --tatoeba ../shared/data/tatoeba --variant int8

Embeddings are cached under ``--home`` (a temporary folder unless given).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import RESULTS, find_bundle, machine_info, print_table, save_experiment

SUFFIX = "-query-prompt-passages"


def symmetric_copy(bundle: Path, models: Path) -> str:
    """A copy of ``bundle`` (files linked) whose passages get the query prompt."""
    from xsearch.bundle.manifest import fingerprint

    name = bundle.name + SUFFIX
    out = models / name
    out.mkdir(parents=True, exist_ok=True)
    for f in bundle.iterdir():
        if f.is_file() and f.name != "manifest.json" and not (out / f.name).exists():
            (out / f.name).symlink_to(f.resolve())
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    manifest["name"] = name
    manifest["prompts"] = {**manifest["prompts"], "passage": manifest["prompts"]["query"]}
    manifest["fingerprint"] = fingerprint(manifest)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return name


def run_eval(home: Path, args: list[str]) -> dict[str, Any]:
    env = {**os.environ, "XSEARCH_HOME": str(home)}
    cmd = [sys.executable, "-m", "xsearch.cli.main", "eval", *args, "--json"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def main_metrics(qa: dict[str, Any], pool: dict[str, Any]) -> dict[str, dict[str, float]]:
    """setting -> parallel mAP, disjoint/skewed/pool MRR@10, same-language MRR@10."""
    out: dict[str, dict[str, float]] = {}
    for s in qa["settings"]:
        lay = s["layouts"]
        diag = [row[x]["mrr_10"] for x, row in s["matrix"].items() if x in row]
        out[s["name"]] = {
            "parallel_map": lay["parallel"]["map"],
            "disjoint_mrr_10": lay["disjoint"]["mrr_10"],
            "skewed_mrr_10": lay["skewed"]["mrr_10"],
            "same_lang_mrr_10": sum(diag) / len(diag),
        }
    for s in pool["settings"]:
        out.setdefault(s["name"], {})["pool_mrr_10"] = s["layouts"]["pool"]["mrr_10"]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--xquad", type=Path, required=True)
    p.add_argument("--tatoeba", type=Path, required=True)
    p.add_argument("--bundle", default=None, help="bundle name or folder (default: the default)")
    p.add_argument("--variant", default="int8")
    p.add_argument("--max-paragraphs", type=int, default=120)
    p.add_argument("--max-questions", type=int, default=100)
    p.add_argument("--settings", default="default,dense,centered,fair")
    p.add_argument("--home", type=Path, default=None, help="keeps the embedding cache")
    p.add_argument("--out", type=Path, default=RESULTS / "passage_prompt.json")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)

    bundle = find_bundle(args.bundle)
    with tempfile.TemporaryDirectory(prefix="xsearch-prompt-") as tmp:
        home = args.home or Path(tmp)
        models = home / "models"
        models.mkdir(parents=True, exist_ok=True)
        if not (models / bundle.name).exists():
            (models / bundle.name).symlink_to(bundle, target_is_directory=True)
        names = {"passage prompt": bundle.name, "query prompt": symmetric_copy(bundle, models)}
        common = ["--variant", args.variant, "--settings", args.settings]
        results: dict[str, dict[str, dict[str, float]]] = {}
        for label, name in names.items():
            print(f"{label}: {name}", file=sys.stderr)
            qa = run_eval(home, ["qa", str(args.xquad), "-b", name, *common,
                                 "--max-paragraphs", str(args.max_paragraphs),
                                 "--max-questions", str(args.max_questions),
                                 "--layout", "all", "--matrix", "diagonal"])  # fmt: skip
            pool = run_eval(home, ["pool", str(args.tatoeba), "-b", name, *common])
            results[label] = main_metrics(qa, pool)

    keys = ["parallel_map", "disjoint_mrr_10", "skewed_mrr_10", "pool_mrr_10", "same_lang_mrr_10"]
    rows = [[label, setting, *(f"{m[k]:.3f}" for k in keys)]
            for label, per in results.items() for setting, m in per.items()]  # fmt: skip
    print_table(
        f"Passages encoded with e5's passage vs query prompt ({args.variant})",
        ["passages", "setting", "parallel mAP@100", "disjoint MRR@10", "skewed MRR@10",
         "pool MRR@10", "same-lang MRR@10"],
        rows,
    )  # fmt: skip
    out = {"bundle": bundle.name, "variant": args.variant, "max_paragraphs": args.max_paragraphs,
           "max_questions": args.max_questions, "results": results,
           "machine": machine_info(["onnxruntime"])}  # fmt: skip
    if not args.no_write:
        save_experiment(args.out, out, "bench.experiments.passage_prompt", argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
