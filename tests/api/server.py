"""Run ``xsearch serve`` as a real process on loopback (for the uvicorn and browser tests)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def home_with_bundle(home: Path, bundle: Path) -> Path:
    """A fresh XSEARCH_HOME whose models/ holds ``bundle`` (a symlink, no copy)."""
    (home / "models").mkdir(parents=True, exist_ok=True)
    link = home / "models" / bundle.name
    if not link.exists():
        link.symlink_to(bundle.resolve(), target_is_directory=True)
    return home


def serve_env(home: Path, bundle_name: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XSEARCH_")}
    env.update(
        XSEARCH_HOME=str(home),
        XSEARCH_DEFAULT_BUNDLE=bundle_name,
        PYTHONPATH=str(REPO),
        **extra,
    )
    return env


@contextmanager
def running_server(
    env: dict[str, str],
    *,
    timeout_s: float = 90.0,
    args: tuple[str, ...] = (),
    log_level: str = "warning",
) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    cmd = [sys.executable, "-m", "xsearch.cli.main", "serve", "--host", "127.0.0.1",
           "--port", str(port), "--log-level", log_level, *args]
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, timeout_s)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(url: str, proc: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            raise RuntimeError(f"xsearch serve exited with {proc.returncode}:\n{out}")
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"xsearch serve not ready after {timeout_s}s")
