"""The export parity gate: ONNX variants against the sentence-transformers reference.

The reference is the model run by sentence-transformers on torch (its own
tokenizer, its own modules). Each ONNX variant is run the way the runtime runs
it: tokenised by `tokenizers` from the bundle's tokenizer.json, truncated to
max_seq_length, padded, fed to onnxruntime. So the gate checks the graph AND
that tokenizer.json tokenises like the reference's tokenizer.

The fp32 graph is also run one text at a time on part of the set: a graph
traced with padding-dependent shortcuts would pass batched and fail alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from xsearch.errors import ParityError

BATCH = 8
SINGLES = 12  # probes also run one by one through the fp32 graph


@dataclass(frozen=True)
class Gate:
    """Thresholds on cosine(reference, variant) over the probe set."""

    fp32_min: float = 0.9999
    int8_mean: float = 0.99
    fp16_min: float = 0.999
    q4_mean: float = 0.99


def reference_embeddings(st_model: Any, texts: Sequence[str], prompt: str) -> np.ndarray:
    vecs = st_model.encode(
        list(texts), prompt=prompt or None, batch_size=BATCH, convert_to_numpy=True,
        show_progress_bar=False,
    )  # fmt: skip
    return np.asarray(vecs, dtype=np.float32)


def onnx_embeddings(
    model_path: Path,
    tokenizer_json: str,
    texts: Sequence[str],
    *,
    prompt: str,
    max_seq_length: int,
    inputs: list[str],
    pad_id: int,
    batch: int = BATCH,
) -> np.ndarray:
    """Encode with onnxruntime alone, in batches of `batch` (mixed lengths, padded)."""
    from xsearch.encoder.session import onnxruntime

    ort = onnxruntime()  # telemetry off
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(tokenizer_json)
    tok.enable_truncation(max_length=max_seq_length)
    tok.enable_padding(pad_id=pad_id)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    session = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
    out = []
    for start in range(0, len(texts), batch):
        enc = tok.encode_batch([prompt + t for t in texts[start : start + batch]])
        arrays = {
            "input_ids": np.array([e.ids for e in enc], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
            "token_type_ids": np.zeros((len(enc), len(enc[0].ids)), dtype=np.int64),
        }
        (vecs,) = session.run(["sentence_embedding"], {n: arrays[n] for n in inputs})
        out.append(np.asarray(vecs, dtype=np.float32))
    return np.concatenate(out)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    return np.sum(a * b, axis=1) / np.maximum(na * nb, 1e-12)


def figures(cos: np.ndarray) -> dict[str, float]:
    return {"min_cos": round(float(cos.min()), 6), "mean_cos": round(float(cos.mean()), 6)}


def check_variant(variant: str, cos: np.ndarray, gate: Gate) -> str | None:
    """None when the variant passes, else a sentence that says why it failed."""
    f = figures(cos)
    if variant == "fp32" and f["min_cos"] < gate.fp32_min:
        return f"fp32 min cosine {f['min_cos']:.6f} < {gate.fp32_min}"
    if variant == "int8" and f["mean_cos"] < gate.int8_mean:
        return f"int8 mean cosine {f['mean_cos']:.6f} < {gate.int8_mean}"
    if variant == "fp16" and f["min_cos"] < gate.fp16_min:
        return f"fp16 min cosine {f['min_cos']:.6f} < {gate.fp16_min}"
    if variant == "q4" and f["mean_cos"] < gate.q4_mean:
        return f"q4 mean cosine {f['mean_cos']:.6f} < {gate.q4_mean}"
    return None


def run_gate(
    reference: np.ndarray,
    variants: dict[str, Path],
    tokenizer_json: str,
    texts: Sequence[str],
    *,
    prompt: str,
    max_seq_length: int,
    inputs: list[str],
    pad_id: int,
    gate: Gate,
) -> dict[str, dict[str, float]]:
    """Figures per variant; raises ParityError naming every variant that failed."""
    kwargs = dict(prompt=prompt, max_seq_length=max_seq_length, inputs=inputs, pad_id=pad_id)
    results: dict[str, dict[str, float]] = {}
    failures: list[str] = []
    for variant, path in variants.items():
        vecs = onnx_embeddings(path, tokenizer_json, texts, **kwargs)
        cos = cosines(reference, vecs)
        if variant == "fp32":
            singles = onnx_embeddings(path, tokenizer_json, texts[:SINGLES], batch=1, **kwargs)
            cos = np.concatenate([cos, cosines(reference[:SINGLES], singles)])
        results[variant] = figures(cos)
        if (why := check_variant(variant, cos, gate)) is not None:
            failures.append(why)
    if failures:
        raise ParityError(
            "the exported model does not reproduce the reference: " + "; ".join(failures),
            fix="no bundle was written; check that the source model loads and runs with "
            "sentence-transformers, and report the model name if it does",
        )
    return results
