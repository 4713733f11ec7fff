"""One entry point for every benchmark: ``python -m bench`` (or ``make bench``).

Runs each benchmark module (bench/encoder.py, bench/store.py, bench/indexing.py,
bench/api_load.py) in its own subprocess, so their memory figures and thread
settings do not leak into each other, streams their output, and gathers the
Markdown each one writes (``bench/results/<name>.md``, else its stdout) into
``bench/results/REPORT.md`` with the date, the command and the machine.

Examples:
    python -m bench                       # everything
    python -m bench encoder store         # a subset, in that order
    python -m bench --args "encoder=--sentences 500" --timeout 600
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BENCHES = ["encoder", "store", "indexing", "api_load"]


@dataclass
class Outcome:
    name: str
    status: str  # "ok" | "failed (exit N)" | "timed out after Ns" | "missing"
    seconds: float
    markdown: str


def machine() -> dict[str, str]:
    """Cores, CPU model, memory: what a reader needs to weigh the figures."""
    model = "unknown"
    mem = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass  # not Linux: the fields stay "unknown", which the report shows
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cores": f"{usable} usable ({os.cpu_count()} online)",
        "cpu": model,
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "commit": _git_commit(),
    }


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if out.returncode:
        return "unknown"
    return out.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def run_one(name: str, extra: list[str], timeout: float) -> Outcome:
    script = ROOT / "bench" / f"{name}.py"
    if not script.is_file():
        return Outcome(name, "missing", 0.0, f"`{script.relative_to(ROOT)}` does not exist.")
    result_file = RESULTS / f"{name}.md"
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
    fresh = result_file.is_file() and result_file.stat().st_mtime >= started
    if status == "ok" and fresh:
        markdown = result_file.read_text(encoding="utf-8").strip()
    else:
        # No fresh result file: keep the end of the output so a failure is readable.
        tail = "".join(lines[-40:]).strip()
        markdown = f"```\n{tail}\n```" if tail else "(no output)"
    return Outcome(name, status, seconds, markdown)


def write_report(outcomes: list[Outcome], command: str) -> Path:
    info = machine()
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "# xsearch benchmarks",
        "",
        f"- date: {when}",
        f"- command: `{command}`",
        *[f"- {k}: {v}" for k, v in info.items()],
        "",
        "Each benchmark ran in its own process; figures are ratios measured side by side "
        "in one run on this machine.",
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
