"""Issue 12 #9: onnxruntime wrote telemetry (a device id, process info) under
``~/.cache/Microsoft/DeveloperTools/``; loading an xsearch encoder must not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

LOAD = """
import sys
from xsearch.encoder import Encoder
enc = Encoder.load(sys.argv[1])
print("DIM", enc.encode(["hello"], "query").shape[1])
"""


def _run(home: Path, bundle: Path, **env: str) -> subprocess.CompletedProcess:
    # as on a user's machine: onnxruntime writes no telemetry when CI is set
    # (seen: CI=true alone kept the folder away, so the control below failed)
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ORT_", "XSEARCH_")) and k != "CI"
    }
    base.update(HOME=str(home), PYTHONPATH=str(REPO), **env)
    return subprocess.run(
        [sys.executable, "-c", LOAD, str(bundle)],
        env=base, cwd=REPO, capture_output=True, text=True, timeout=120,
    )


def test_encoder_writes_no_telemetry(tiny_bundle: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    out = _run(home, tiny_bundle)
    assert out.returncode == 0 and "DIM" in out.stdout, out.stderr
    written = [str(p.relative_to(home)) for p in home.rglob("*")]
    assert not any("Microsoft" in p for p in written), written


def test_the_check_can_fail(tiny_bundle: Path, tmp_path: Path) -> None:
    """The same run with telemetry explicitly left on writes the folder: the test
    above would see it (a user's explicit setting is respected)."""
    home = tmp_path / "home"
    home.mkdir()
    out = _run(home, tiny_bundle, ORT_DISABLE_TELEMETRY="0", ORT_TELEMETRY_DISABLED="0")
    assert out.returncode == 0, out.stderr
    assert (home / ".cache" / "Microsoft" / "DeveloperTools").is_dir()
