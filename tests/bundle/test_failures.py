"""A failing parity gate leaves no bundle; corrupted bundles are named with the fix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from tests.bundle.tiny_model import build_tiny_st_model
from xsearch.bundle import build_bundle, read_manifest, verify_bundle
from xsearch.bundle.parity import Gate, run_gate
from xsearch.bundle.probes import probe_texts
from xsearch.errors import BundleCorrupt, ParityError


@pytest.fixture()
def bundle_copy(tiny_bundle: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "tiny"
    shutil.copytree(tiny_bundle, dst)
    return dst


def _damage_weights(src: Path, dst: Path) -> None:
    """Negate the largest initializer of a real graph (a plausible silent export bug)."""
    model = onnx.load(str(src))
    biggest = max(model.graph.initializer, key=lambda t: int(np.prod(t.dims)))
    array = numpy_helper.to_array(biggest)
    biggest.CopyFrom(numpy_helper.from_array(-array, biggest.name))
    onnx.save(model, str(dst))


def test_gate_rejects_a_damaged_graph(tiny_bundle: Path, tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    from xsearch.bundle.parity import reference_embeddings

    m = read_manifest(tiny_bundle)
    broken = tmp_path / "broken.onnx"
    _damage_weights(tiny_bundle / "model.onnx", broken)
    texts = probe_texts()[:24]
    src_dir = Path(m["source"])
    reference = reference_embeddings(SentenceTransformer(str(src_dir), device="cpu"), texts,
                                     "passage: ")  # fmt: skip
    tok = (tiny_bundle / "tokenizer.json").read_text(encoding="utf-8")
    kwargs = dict(prompt="passage: ", max_seq_length=m["max_seq_length"], inputs=m["inputs"],
                  pad_id=m["pad_token_id"], gate=Gate())  # fmt: skip
    good = run_gate(reference, {"fp32": tiny_bundle / "model.onnx"}, tok, texts, **kwargs)
    assert good["fp32"]["min_cos"] >= 0.9999
    with pytest.raises(ParityError, match=r"fp32 min cosine .* < 0\.9999") as info:
        run_gate(reference, {"fp32": broken}, tok, texts, **kwargs)
    assert "no bundle was written" in str(info.value)


def test_failing_gate_leaves_no_bundle(tmp_path: Path) -> None:
    # Pooling that skips the prompt tokens needs the prompt length, which the
    # graph's inputs cannot carry: the export cannot reproduce the reference.
    src = build_tiny_st_model(tmp_path / "src")
    pooling = src / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    pooling.write_text(json.dumps({**config, "include_prompt": False}))
    home = tmp_path / "home"
    with pytest.raises(ParityError, match="fp32 min cosine"):
        build_bundle(str(src), name="skip-prompt", home=home)
    assert list((home / "models").iterdir()) == [], "no bundle and no temporary folder left"


def test_strict_gate_refuses_an_otherwise_fine_model(
    tiny_st_model_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(ParityError, match="int8 mean cosine"):
        build_bundle(str(tiny_st_model_dir), name="x", home=tmp_path, gate=Gate(int8_mean=1.01))
    assert not (tmp_path / "models" / "x").exists()


def test_corrupted_file_is_named(bundle_copy: Path) -> None:
    path = bundle_copy / "model.int8.onnx"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(BundleCorrupt, match="model.int8.onnx") as info:
        verify_bundle(bundle_copy)
    assert "xsearch model build --force" in str(info.value)


def test_missing_file_is_named(bundle_copy: Path) -> None:
    (bundle_copy / "tokenizer.json").unlink()
    with pytest.raises(BundleCorrupt, match="lacks tokenizer.json"):
        verify_bundle(bundle_copy)


def test_edited_manifest_breaks_the_fingerprint(bundle_copy: Path) -> None:
    path = bundle_copy / "manifest.json"
    m = json.loads(path.read_text())
    m["dimension"] = 999
    path.write_text(json.dumps(m))
    with pytest.raises(BundleCorrupt, match="fingerprint"):
        verify_bundle(bundle_copy)


def test_unreadable_manifest(bundle_copy: Path) -> None:
    (bundle_copy / "manifest.json").write_text("{not json")
    with pytest.raises(BundleCorrupt, match="not valid JSON"):
        read_manifest(bundle_copy)


def test_killed_builds_leave_no_work_folders_behind(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    import time

    from xsearch.bundle.build import sweep_stale_work

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid = int(done.stdout)  # that process has exited
    folders = {}
    for label, owner in (("dead", str(dead_pid)), ("live", str(os.getpid())), ("fresh", None),
                         ("old", None), ("garbled", "not-a-pid")):  # fmt: skip
        folders[label] = tmp_path / f"m.tmp-{label}"
        folders[label].mkdir()
        (folders[label] / "model.onnx").write_bytes(b"partial")
        if owner is not None:
            (folders[label] / "owner.pid").write_text(owner)
    week_ago = time.time() - 7 * 24 * 3600
    os.utime(folders["old"], (week_ago, week_ago))
    # today's builds name their owner in the folder's name (empty folder: killed
    # right after mkdtemp, before any file was written)
    (tmp_path / f"m.tmp-{dead_pid}-abc").mkdir()
    (tmp_path / f"m.tmp-{os.getpid()}-def").mkdir()
    (tmp_path / "m").mkdir()  # a finished bundle is never touched
    removed = sweep_stale_work(tmp_path)
    assert sorted(p.name for p in removed) == sorted(
        ["m.tmp-dead", "m.tmp-old", f"m.tmp-{dead_pid}-abc"]
    )
    assert (tmp_path / f"m.tmp-{os.getpid()}-def").is_dir()
    assert all(folders[k].exists() for k in ("live", "fresh", "garbled"))
    assert (tmp_path / "m").is_dir()
