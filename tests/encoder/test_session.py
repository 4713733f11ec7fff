"""Variant and provider choice, and thread count (pure logic, no model needed)."""

from __future__ import annotations

import os

import pytest

from xsearch.encoder.session import CPU, CUDA, choose_variant, resolve_threads, session_options
from xsearch.errors import BundleNotFound, ConfigError

FULL = {"name": "m", "variants": {"fp32": "model.onnx", "int8": "m8.onnx", "fp16": "m16.onnx"}}
NO_FP16 = {"name": "m", "variants": {"fp32": "model.onnx", "int8": "m8.onnx"}}


def test_auto_on_cpu_is_int8() -> None:
    choice = choose_variant(FULL, "auto", providers=[CPU])
    assert (choice.variant, choice.filename, choice.providers) == ("int8", "m8.onnx", [CPU])


def test_auto_with_cuda_is_fp16_else_fp32() -> None:
    assert choose_variant(FULL, None, providers=[CUDA, CPU]).variant == "fp16"
    choice = choose_variant(NO_FP16, "auto", providers=[CUDA, CPU])
    assert choice.variant == "fp32" and choice.providers == [CUDA, CPU]


def test_int8_never_goes_to_cuda() -> None:
    # MatMulInteger has no CUDA kernel: int8 runs on the CPU provider.
    assert choose_variant(FULL, "int8", providers=[CUDA, CPU]).providers == [CPU]


def test_auto_falls_back_to_fp32_without_int8() -> None:
    manifest = {"name": "m", "variants": {"fp32": "model.onnx"}}
    assert choose_variant(manifest, "auto", providers=[CPU]).variant == "fp32"


def test_explicit_missing_variant_names_the_build_flag() -> None:
    with pytest.raises(BundleNotFound, match="xsearch model build --fp16"):
        choose_variant(NO_FP16, "fp16", providers=[CPU])


def test_unknown_variant_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="auto, fp32, int8, fp16"):
        choose_variant(FULL, "int4", providers=[CPU])


def test_threads_zero_means_every_usable_core() -> None:
    assert resolve_threads(0) == len(os.sched_getaffinity(0))
    assert resolve_threads(3) == 3
    opts = session_options(3)
    assert opts.intra_op_num_threads == 3 and opts.inter_op_num_threads == 1


def test_spinning_can_be_turned_off() -> None:
    key = "session.intra_op.allow_spinning"
    assert session_options(2, spin=False).get_session_config_entry(key) == "0"
    with pytest.raises(Exception, match="allow_spinning"):  # unset: onnxruntime's default
        session_options(2).get_session_config_entry(key)


def test_q4_only_when_asked() -> None:
    manifest = {"name": "m", "variants": {**FULL["variants"], "q4": "m4.onnx"}}
    assert choose_variant(manifest, "auto", providers=[CPU]).variant == "int8"
    assert choose_variant(manifest, "q4", providers=[CPU]).filename == "m4.onnx"
    with pytest.raises(BundleNotFound, match="xsearch model build --q4"):
        choose_variant(FULL, "q4", providers=[CPU])
