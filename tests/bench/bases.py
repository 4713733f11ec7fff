"""Shared pieces of the benchmark tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from xsearch.bundle.manifest import read_manifest


def random_base(bundle: Path, seed: int, text: str) -> dict[str, Any]:
    """Six unit "paragraph" vectors of the bundle's dimension in three languages:
    the base a bench.scale collection is built from, without encoding."""
    dim = int(read_manifest(bundle)["dimension"])
    vecs = np.random.default_rng(seed).standard_normal((6, dim)).astype(np.float32)
    return {
        "vectors": vecs / np.linalg.norm(vecs, axis=1, keepdims=True),
        "langs": ["en", "de", "fr"] * 2,
        "texts": [text.format(i) for i in range(6)],
    }
