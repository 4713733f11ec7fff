"""bench.experiments.gemm_peak: the graphs compute real products, and the file is written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bench.experiments import gemm_peak


def test_both_graphs_compute_the_product() -> None:
    rng = np.random.default_rng(3)
    for kind in ("int8", "fp32"):
        sess, weight = gemm_peak.session(kind, 8, 16, 4)
        if kind == "int8":
            a = rng.integers(0, 256, (8, 16)).astype(np.uint8)
            expected = a.astype(np.int64) @ weight.astype(np.int64)
        else:
            a = rng.standard_normal((8, 16)).astype(np.float32)
            expected = a @ weight
        (y,) = sess.run(None, {"A": a})
        np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-4)


def test_writes_one_row_per_shape(tmp_path: Path) -> None:
    out = tmp_path / "gemm.json"
    assert gemm_peak.main(["--repeat", "1", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    rows = doc["results"]["rows"]
    assert [r["shape_mkn"] for r in rows] == [list(s) for s in gemm_peak.SHAPES]
    assert all(r["int8_gmac_per_s"] > 0 and r["fp32_gmac_per_s"] > 0 for r in rows)
    assert doc["provenance"]["command"].startswith("python -m bench.experiments.gemm_peak")
