"""Serving needs no torch: encode in a process where importing torch fails."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys
    # None in sys.modules makes `import torch` raise ImportError.
    for name in ("torch", "transformers", "sentence_transformers"):
        sys.modules[name] = None
    from xsearch.encoder import Encoder
    from xsearch.cli.main import app  # the CLI entry must not need torch either
    enc = Encoder.load(sys.argv[1])
    v = enc.encode(["hello", "", "Привет, мир"], "query")
    assert v.shape == (3, enc.dimension), v.shape
    loaded = [m for m in ("torch", "transformers", "sentence_transformers")
              if sys.modules.get(m) is not None]
    assert not loaded, loaded
    print("OK", enc.variant, v.shape)
    """
)


def test_encoding_works_where_torch_cannot_be_imported(tiny_bundle: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tiny_bundle)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("OK int8")


def test_the_guard_really_blocks_torch() -> None:
    # Proves the mechanism the test above relies on.
    code = "import sys; sys.modules['torch'] = None; import torch"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode != 0 and "import of torch halted" in proc.stderr
