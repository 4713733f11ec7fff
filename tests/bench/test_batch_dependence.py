"""The per-token int8 rewrite of bench.experiments.batch_dependence, on a real graph:
every text's vector is the same alone or in a batch (the batch dependence of the
shipped per-tensor int8 is measured on the real model by the experiment), and
it stays the model: close to fp32."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.experiments.batch_dependence import per_token_bundle
from xsearch.encoder import Encoder

TEXTS = [
    "Wann blühen die Kirschbäume in Tokio?",
    "東京の桜が今日、満開になった",
    "A much longer sentence that pads the batch and has larger activations " * 3,
    "¿Dónde nació un bebé panda?",
]


def test_per_token_int8_is_batch_independent(tiny_bundle: Path, tmp_path: Path) -> None:
    import onnx

    folder = per_token_bundle(tiny_bundle, tmp_path / tiny_bundle.name)
    ops = {n.op_type for n in onnx.load(str(folder / "model.int8.onnx")).graph.node}
    assert "DynamicQuantizeLinear" not in ops and "MatMulInteger" in ops  # still int8 products
    rewritten = Encoder.load(folder, variant="int8", verify=False)
    fp32 = Encoder.load(tiny_bundle, variant="fp32").encode(TEXTS, "query")
    alone = np.stack([rewritten.encode([t], "query")[0] for t in TEXTS])
    batched = rewritten.encode(TEXTS, "query")  # one call: one tensor for all four
    np.testing.assert_allclose(alone, batched, atol=1e-6)
    assert float((alone * fp32).sum(1).min()) > 0.98  # still the model, quantized
