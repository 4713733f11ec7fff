"""Where a figure came from: the header every result file (bench, eval) carries.

A number in the README must be regenerable: the result file that holds it says
which command wrote it, from which commit, whether the tree had uncommitted
changes (``dirty``), on what machine and under what load. Written by committed
scripts only (``bench/``, ``xsearch eval``); the README tables are generated
from these files (``python -m bench.report --readme``).
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), or what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    """The machine and how busy it was when the run started (1/5/15-min load)."""
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count() or 0,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "load_at_start": load,
    }


def provenance(command: str | list[str] | None = None) -> dict[str, Any]:
    """The header of a result file. ``command`` defaults to this process's argv."""
    if command is None:
        command = [Path(sys.argv[0]).name, *sys.argv[1:]]
    if isinstance(command, list):
        command = shlex.join(command)
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "command": command,
        "commit": _git("rev-parse", "HEAD"),
        "dirty": None if status is None else bool(status),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
    }


def write_result(path: Path, results: Any, *, command: str | list[str] | None = None) -> Path:
    """Write ``{"provenance": ..., "results": ...}`` as JSON (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"provenance": provenance(command), "results": results}
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=False) + "\n")
    return path


def read_result(path: Path) -> dict[str, Any]:
    """A result file written by :func:`write_result` (``results`` and ``provenance``)."""
    doc = json.loads(path.read_text())
    if "provenance" not in doc or "results" not in doc:
        raise ValueError(f"{path} is not a result file (no provenance/results keys)")
    return doc
