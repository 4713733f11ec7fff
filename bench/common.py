"""Small helpers shared by the benchmarks: machine info, child processes with
their peak memory, and tables printed with rich and written as Markdown.

Generic on purpose (xsearch imported only for its provenance helpers and, lazily,
the bundle lookup): any bench/*.py may use it.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from xsearch.provenance import cpu_model  # one reader of /proc/cpuinfo

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DATA = ROOT / ".." / "shared" / "data"


# --- the machine ---------------------------------------------------------------------
def cpu_flags(wanted: Sequence[str] = ("avx2", "avx512f", "avx512_vnni", "amx_int8")) -> list[str]:
    """Which of the SIMD features that matter for int8/fp32 kernels this CPU has."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                return [f for f in wanted if f in have]
    except OSError:
        pass
    return []


def usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def package_version(name: str) -> str:
    """Version without importing the package (importing torch costs seconds)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info(packages: Sequence[str] = ()) -> dict[str, str]:
    """What a reader needs to weigh the figures, load average included: on a
    shared machine a busy neighbour moves absolute numbers, less so ratios."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    info = {
        "cpu": cpu_model(),
        "cores": f"{usable_cores()} usable ({os.cpu_count()} online)",
        "simd": ", ".join(cpu_flags()) or "none detected",
        "load average (1 min) now": f"{load[0]:.2f}",
        "python": platform.python_version(),
    }
    for name in packages:
        info[name] = package_version(name)
    return info


# --- child processes -----------------------------------------------------------------
@dataclass
class ChildResult:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float  # ru_maxrss of the child alone

    def json(self) -> Any:
        """The last stdout line that parses as JSON (children print their result last)."""
        for line in reversed(self.stdout.strip().splitlines()):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
        raise ValueError(f"child printed no JSON line; stderr tail:\n{self.stderr[-2000:]}")


def run_child(
    cmd: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    timeout: float | None = None,
) -> ChildResult:
    """Run ``cmd`` and measure its own peak resident memory.

    Neither ``getrusage(RUSAGE_CHILDREN)`` (the maximum over every child so
    far) nor ``wait4``'s ``ru_maxrss`` will do: Linux carries the high-water
    mark of the memory image the child had *before* exec (a copy of this
    process) into it. ``VmHWM`` in /proc/PID/status belongs to the image after
    exec; it is a high-water mark, so polling it loses nothing but a peak
    reached in the last poll interval.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), stdout=out, stderr=err, cwd=cwd, env={**os.environ, **(env or {})}
        )
        deadline = None if timeout is None else started + timeout
        hwm_kib = 0
        while True:
            hwm_kib = max(hwm_kib, _vm_hwm_kib(proc.pid))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if not hwm_kib:  # no /proc (not Linux): the rusage figure, an upper bound
            hwm_kib = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss // 1024
        return ChildResult(proc.returncode, out.read(), err.read(), seconds, hwm_kib / 1024)


def _vm_hwm_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def peak_rss_mb() -> float:
    """Peak resident memory of the calling process so far."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage / 1024 if sys.platform != "darwin" else usage / 1024 / 1024


# --- tables ---------------------------------------------------------------------------
def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub Markdown table; numbers right-aligned."""

    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|")

    numeric = [
        all(isinstance(r[i], int | float) or _looks_numeric(r[i]) for r in rows) and bool(rows)
        for i in range(len(columns))
    ]
    lines = [
        "| " + " | ".join(cell(c) for c in columns) + " |",
        "|" + "|".join("---:" if n else "---" for n in numeric) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _looks_numeric(value: Any) -> bool:
    text = str(value).rstrip("x%× ").replace(",", "")
    try:
        float(text)
    except ValueError:
        return False
    return True


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A rich table on stderr (stdout stays for the Markdown)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for i, col in enumerate(columns):
        numeric = bool(rows) and all(_looks_numeric(r[i]) for r in rows)
        table.add_column(str(col), justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(str(v) for v in row))
    Console(stderr=True).print(table)


def write_result(name: str, markdown: str) -> Path:
    """bench/results/<name>.md, gathered by ``python -m bench`` into REPORT.md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    path.write_text(markdown.rstrip() + "\n", encoding="utf-8")
    return path


def save_experiment(path: Path, results: dict[str, Any], module: str,
                    argv: Sequence[str] | None) -> None:  # fmt: skip
    """Write a probe's JSON result (provenance header: the command that ran it)."""
    from xsearch.provenance import write_result as write_json

    args = sys.argv[1:] if argv is None else list(argv)
    written = write_json(path, results, command=["python", "-m", module, *args])
    print(f"written to {written}", file=sys.stderr)


def find_bundle(given: str | None) -> Path:
    """--bundle (a name or a folder), else the default bundle of XSEARCH_HOME, else
    the test suite's copy (.xsearch-test, built by the slow tests)."""
    from xsearch.encoder.bundle_io import resolve_bundle_dir
    from xsearch.settings import get_settings

    settings = get_settings()
    path = resolve_bundle_dir(given, settings)
    test_copy = ROOT / ".xsearch-test" / "models" / settings.default_bundle
    if given is None and not (path / "manifest.json").is_file() and test_copy.is_dir():
        path = test_copy
    if not (path / "manifest.json").is_file():
        sys.exit(f"error: no model bundle at {path}: run `xsearch model build` first")
    return path.resolve()


def link_bundle(home: Path, bundle: Path) -> None:
    """Make ``bundle`` a model of ``home`` (a symlink; kept if ``home`` has it already)."""
    (home / "models").mkdir(parents=True, exist_ok=True)
    link = home / "models" / bundle.name
    if not link.exists():
        link.symlink_to(bundle, target_is_directory=True)
