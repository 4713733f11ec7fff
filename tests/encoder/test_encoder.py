"""The runtime encoder on the tiny random bundle: mechanics, not quality."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from xsearch.encoder import Encoder
from xsearch.errors import BundleCorrupt, BundleNotFound, InputError
from xsearch.settings import Settings

TEXTS = [
    "Hello world.",
    "",
    "Der schnelle braune Fuchs springt über den faulen Hund, und dann noch einmal.",
    "Быстрая коричневая лиса",
    "東京は日本の首都です。",
    "مرحبا بالعالم",
    "a",
    "Le chat dort sur le canapé pendant que la pluie tombe doucement dehors.",
]


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(home=tmp_path_factory.mktemp("home"), threads=1)


@pytest.fixture(scope="module")
def enc(tiny_bundle: Path, settings: Settings) -> Encoder:
    return Encoder.load(tiny_bundle, settings=settings)


@pytest.fixture(scope="module")
def enc32(tiny_bundle: Path, settings: Settings) -> Encoder:
    return Encoder.load(tiny_bundle, settings=settings, variant="fp32")


def test_load_reads_the_manifest_and_picks_int8_on_cpu(enc: Encoder, tiny_bundle: Path) -> None:
    manifest = json.loads((tiny_bundle / "manifest.json").read_text())
    assert enc.name == manifest["name"] == "tiny"
    assert enc.fingerprint == manifest["fingerprint"]
    assert enc.dimension == manifest["dimension"]
    assert enc.max_seq_length == manifest["max_seq_length"]
    assert enc.variant == "int8"
    assert enc.provider == "CPUExecutionProvider"


def test_load_by_name_under_the_models_dir(tiny_bundle: Path) -> None:
    settings = Settings(home=tiny_bundle.parent.parent)
    assert Encoder.load("tiny", settings=settings).bundle_dir == tiny_bundle


def test_encode_returns_float32_unit_rows(enc: Encoder) -> None:
    vectors = enc.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), enc.dimension)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(vectors).all()
    # Different texts, different vectors (a constant output would pass the norm check).
    assert np.unique(vectors.round(5), axis=0).shape[0] == len(TEXTS)


def test_sorted_batching_keeps_input_order(enc32: Encoder) -> None:
    texts = [t * k for k in (1, 3, 2) for t in TEXTS if t]
    one_by_one = np.stack([enc32.encode([t])[0] for t in texts])
    enc32.batch_tokens = 96  # several batches of different widths
    try:
        batched = enc32.encode(texts)
    finally:
        enc32.batch_tokens = 8192
    np.testing.assert_allclose(batched, one_by_one, atol=2e-5)


def test_int8_batched_matches_one_by_one_closely(enc: Encoder) -> None:
    # Dynamic int8 quantises activations per batch tensor, so rows are not
    # bit-identical across batch mixes; they must still be near-equal.
    one_by_one = np.stack([enc.encode([t])[0] for t in TEXTS])
    cos = np.sum(enc.encode(TEXTS) * one_by_one, axis=1)
    assert cos.min() > 0.98


def test_progress_counts_every_text(enc: Encoder) -> None:
    done: list[int] = []
    enc.encode(TEXTS * 5, progress=done.append)
    assert sum(done) == len(TEXTS) * 5


def test_empty_list_gives_an_empty_matrix(enc: Encoder) -> None:
    vectors, stats = enc.encode_with_stats([])
    assert vectors.shape == (0, enc.dimension) and vectors.dtype == np.float32
    assert stats.texts == 0 and stats.truncated == 0 and enc.last_truncated == 0


def test_empty_string_encodes_the_prompt_alone(enc32: Encoder) -> None:
    # Defined behaviour: "" is encoded as the prompt plus the special tokens,
    # a valid unit vector, different for queries and passages.
    q, p = enc32.encode([""], "query")[0], enc32.encode([""], "passage")[0]
    assert abs(np.linalg.norm(q) - 1) < 1e-5 and abs(np.linalg.norm(p) - 1) < 1e-5
    assert float(q @ p) < 0.9999
    prompt_tokens = len(enc32.token_offsets(enc32.prompts["passage"]))
    assert prompt_tokens > 0
    assert enc32.count_tokens("", "passage") == prompt_tokens + 2  # <s> prompt </s>


def test_query_and_passage_prompts_differ(enc32: Encoder) -> None:
    assert enc32.prompts["query"] != enc32.prompts["passage"]
    q = enc32.encode(TEXTS, "query")
    p = enc32.encode(TEXTS, "passage")
    assert np.sum(q * p, axis=1).max() < 0.9999
    with pytest.raises(InputError, match="query"):
        enc32.encode(TEXTS, "document")  # type: ignore[arg-type]


def test_over_long_input_is_truncated_counted_and_reported(
    enc32: Encoder, caplog: pytest.LogCaptureFixture
) -> None:
    long = "Der schnelle braune Fuchs springt über den faulen Hund. " * 40
    assert enc32.count_tokens(long) > enc32.max_seq_length
    with caplog.at_level(logging.WARNING, logger="xsearch.encoder"):
        vectors, stats = enc32.encode_with_stats(["short", long, long + " und noch mehr"])
    assert stats.truncated == 2 and enc32.last_truncated == 2
    assert "2 of 3 texts" in caplog.text and str(enc32.max_seq_length) in caplog.text
    # Both long texts are cut at the same token, so they encode identically.
    np.testing.assert_allclose(vectors[1], vectors[2], atol=1e-6)
    enc32.encode(["short"])
    assert enc32.last_truncated == 0


def test_count_tokens_and_offsets(enc: Encoder) -> None:
    text = "Bonjour le monde, 東京"
    offsets = enc.token_offsets(text)
    assert offsets and all(0 <= a <= b <= len(text) for a, b in offsets)
    assert offsets[-1][1] == len(text)
    # prompt + 2 specials on top of the content tokens
    n_prompt = enc.count_tokens("", "passage") - 2
    assert enc.count_tokens(text, "passage") >= len(offsets) + 2
    assert n_prompt > 0


def test_non_string_input_is_refused(enc: Encoder) -> None:
    with pytest.raises(InputError, match="#1"):
        enc.encode(["ok", None])  # type: ignore[list-item]
    with pytest.raises(InputError):
        enc.encode("one string")


def test_missing_bundle_names_the_build_command(tmp_path: Path) -> None:
    with pytest.raises(BundleNotFound, match="xsearch model build"):
        Encoder.load("nothing-here", settings=Settings(home=tmp_path))


def test_missing_variant_names_the_build_flag(tiny_bundle: Path, settings: Settings) -> None:
    with pytest.raises(BundleNotFound, match="--fp16"):
        Encoder.load(tiny_bundle, settings=settings, variant="fp16")


def test_corrupted_file_is_refused(tiny_bundle: Path, tmp_path: Path, settings: Settings) -> None:
    copy = tmp_path / "tiny"
    shutil.copytree(tiny_bundle, copy)
    model = copy / "model.int8.onnx"
    data = bytearray(model.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4] = bytes(b ^ 0xFF for b in data[middle : middle + 4])
    model.write_bytes(bytes(data))
    with pytest.raises(BundleCorrupt, match="model.int8.onnx") as err:
        Encoder.load(copy, settings=settings)
    assert "xsearch model build" in str(err.value)
    # The fp32 file is intact: that variant still loads.
    assert Encoder.load(copy, settings=settings, variant="fp32").variant == "fp32"


def test_corrupted_tokenizer_is_refused(
    tiny_bundle: Path, tmp_path: Path, settings: Settings
) -> None:
    copy = tmp_path / "tiny"
    shutil.copytree(tiny_bundle, copy)
    (copy / "tokenizer.json").write_text("{}")
    with pytest.raises(BundleCorrupt, match="tokenizer.json"):
        Encoder.load(copy, settings=settings)


def test_a_hand_edited_manifest_is_refused(
    tiny_bundle: Path, tmp_path: Path, settings: Settings
) -> None:
    """Prompts changed by hand keep the old fingerprint, which ties collections to
    the bundle: loading must refuse it (unverified loads are the caller's choice)."""
    copy = tmp_path / "tiny"
    shutil.copytree(tiny_bundle, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["prompts"]["passage"] = manifest["prompts"]["query"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleCorrupt, match="edited after the bundle was built") as err:
        Encoder.load(copy, settings=settings)
    assert "xsearch model build" in str(err.value)
    assert Encoder.load(copy, settings=settings, verify=False).prompts["passage"] == "query: "


def test_truncation_matches_the_tokenizers_own(enc32: Encoder) -> None:
    # The encoder truncates ids itself (one tokenizer instance instead of two);
    # the result must be what tokenizers' truncation would give: the head of
    # the text, then the closing special token.
    from tokenizers import Tokenizer

    reference = Tokenizer.from_file(str(enc32.bundle_dir / "tokenizer.json"))
    reference.enable_truncation(max_length=enc32.max_seq_length)
    text = "passage: " + "Ein langer Satz über den Fuchs und den Hund. " * 40
    full = enc32._tok.encode(text).ids
    assert len(full) > enc32.max_seq_length
    assert enc32._truncate(full) == reference.encode(text).ids
