"""One entry point for every benchmark: ``python -m bench`` (or ``make bench``).

Runs each benchmark module (bench/encoder.py, bench/store.py, bench/indexing.py,
bench/api_load.py, and bench/parity.py, which copies the bundle's parity gate
figures) in its own subprocess, so their memory figures and thread
settings do not leak into each other, and streams their output. Each benchmark
writes its figures with their provenance (command, commit, dirty flag, machine,
load) to ``bench/results/<name>.json``; the runner then writes
``bench/results/REPORT.md``: one line per benchmark (ok, failed, timed out) and,
for each, the tables that ``bench/tables/<name>.py`` renders from its fresh
result file (the same tables ``python -m bench.report --readme`` puts in the
README), else the tail of its output.

Examples:
    python -m bench                       # everything
    python -m bench encoder store         # a subset, in that order
    python -m bench --args "encoder=--sentences 500" --timeout 600
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from xsearch.provenance import machine

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BENCHES = ["encoder", "store", "indexing", "api_load", "parity"]


@dataclass
class Outcome:
    name: str
    status: str  # "ok" | "failed (exit N)" | "timed out after Ns" | "missing"
    seconds: float
    markdown: str


def run_one(name: str, extra: list[str], timeout: float) -> Outcome:
    script = ROOT / "bench" / f"{name}.py"
    if not script.is_file():
        return Outcome(name, "missing", 0.0, f"`{script.relative_to(ROOT)}` does not exist.")
    cmd = [sys.executable, "-m", f"bench.{name}", *extra]
    print(f"\n=== bench {name}: {shlex.join(cmd)}", flush=True)
    started = time.time()
    lines: list[str] = []
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    # A watchdog, not a check between lines: a benchmark that hangs silently
    # prints no line that could trigger the check.
    killed: list[bool] = []
    timer = threading.Timer(timeout, lambda: (killed.append(True), proc.kill()))
    timer.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # stream: long benches show their progress live
            sys.stdout.write(line)
            lines.append(line)
        proc.wait()
    finally:
        timer.cancel()
    if killed:
        status = f"timed out after {timeout:.0f}s"
    elif proc.returncode:
        status = f"failed (exit {proc.returncode})"
    else:
        status = "ok"
    seconds = time.time() - started
    markdown = fresh_result(name, started) if status == "ok" else None
    if markdown is None:
        # No fresh result file: keep the end of the output so a failure is readable.
        tail = "".join(lines[-40:]).strip()
        markdown = f"```\n{tail}\n```" if tail else "(no output)"
    return Outcome(name, status, seconds, markdown)


def fresh_result(name: str, started: float) -> str | None:
    """The benchmark's result file written by this run, as Markdown; None if there is none."""
    path = RESULTS / f"{name}.json"
    if not (path.is_file() and path.stat().st_mtime >= started):
        legacy = RESULTS / f"{name}.md"  # a benchmark that still writes Markdown itself
        if legacy.is_file() and legacy.stat().st_mtime >= started:
            return legacy.read_text(encoding="utf-8").strip()
        return None
    from xsearch.provenance import read_result

    doc = read_result(path)
    prov = doc["provenance"]
    head = (
        f"`{path.relative_to(ROOT)}`: `{prov.get('command')}`, commit "
        f"`{(prov.get('commit') or '?')[:10]}`"
        + (" (uncommitted changes)" if prov.get("dirty") else "")
    )
    try:
        module = importlib.import_module(f"bench.tables.{name}")
    except ModuleNotFoundError:
        module = None
    tables = getattr(module, "TABLES", {})
    try:
        if tables:
            return "\n\n".join([head, *(fn(ROOT).strip() for fn in tables.values())])
        note = "no renderer in bench/tables/"
    except (KeyError, ValueError, TypeError, IndexError) as err:
        note = f"bench/tables/{name}.py could not render it ({type(err).__name__}: {err})"
    body = json.dumps(doc["results"], indent=1, ensure_ascii=False)
    return f"{head} — {note}; the figures:\n\n```json\n{body}\n```"


def write_report(outcomes: list[Outcome], command: str) -> Path:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    m = machine()
    parts = [
        "# xsearch benchmarks",
        "",
        f"- date: {when}",
        f"- command: `{command}`",
        f"- machine: {m['cpu']}, {m['cores']} cores, load average {m['load_at_start']} "
        "(1/5/15 min) at the end",
        "",
        "Each benchmark ran in its own process; figures are ratios measured side by side "
        "in one run on this machine. Generated from the result files: the figures and "
        "their provenance live in `bench/results/<name>.json`.",
        "",
        "| benchmark | status | seconds |",
        "|---|---|---:|",
        *[f"| {o.name} | {o.status} | {o.seconds:.0f} |" for o in outcomes],
    ]
    for o in outcomes:
        parts += ["", f"## {o.name}", "", o.markdown]
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "REPORT.md"
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path


def parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("names", nargs="*", help=f"benchmarks to run (default: {' '.join(BENCHES)})")
    ap.add_argument(
        "--timeout",
        type=float,
        default=1800,
        help="seconds allowed to each benchmark (default 1800)",
    )
    ap.add_argument(
        "--args",
        action="append",
        default=[],
        metavar="NAME=ARGS",
        help='extra arguments for one benchmark, e.g. "encoder=--sentences 500"',
    )
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ns = parse(argv)
    unknown = [n for n in ns.names if n not in BENCHES]
    if unknown:
        print(
            f"error: unknown benchmark(s) {', '.join(unknown)}: choose from {', '.join(BENCHES)}",
            file=sys.stderr,
        )
        return 2
    extra: dict[str, list[str]] = {}
    for item in ns.args:
        name, sep, args = item.partition("=")
        if not sep or name not in BENCHES:
            print(
                f"error: --args {item!r}: write NAME=ARGS with NAME one of {', '.join(BENCHES)}",
                file=sys.stderr,
            )
            return 2
        extra[name] = shlex.split(args)
    outcomes = [run_one(n, extra.get(n, []), ns.timeout) for n in (ns.names or BENCHES)]
    path = write_report(outcomes, shlex.join(["python", "-m", "bench", *argv]))
    print(f"\nreport written to {path.relative_to(ROOT)}")
    for o in outcomes:
        print(f"  {o.name:10s} {o.status} ({o.seconds:.0f}s)")
    return 0 if all(o.status == "ok" for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
