"""sentence-transformers model -> one ONNX graph (fp32), then int8 and fp16 variants.

Every module of the model (Transformer, Pooling, Dense..., Normalize) runs inside
the graph: the exported function is the model's own forward, so nothing is
re-implemented by hand at run time. The legacy TorchScript exporter
(`dynamo=False`) is used: with torch 2.13 and transformers 5 it traces BERT-style
encoders reliably, while the dynamo exporter needs per-model fixes.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

OPSET = 17
OUTPUT = "sentence_embedding"


def model_inputs(st_model: Any) -> list[str]:
    """The graph inputs: what the model's tokenizer feeds, in a fixed order.

    token_type_ids only when the tokenizer produces them (BERT-style models);
    the runtime then feeds zeros, as the tokenizer does for one sentence.
    """
    tokenizer = st_model[0].tokenizer
    names = getattr(tokenizer, "model_input_names", None) or []
    return ["input_ids", "attention_mask"] + (
        ["token_type_ids"] if "token_type_ids" in names else []
    )


def _wrapper(st_model: Any, inputs: list[str]) -> Any:
    import torch

    class Embed(torch.nn.Module):
        """forward(input_ids, attention_mask[, token_type_ids]) -> sentence_embedding."""

        def __init__(self) -> None:
            super().__init__()
            self.model = st_model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            features = dict(zip(inputs, tensors, strict=True))
            return self.model(features)[OUTPUT]

    return Embed().eval()


def export_fp32(st_model: Any, tokenizer_json: str, out: Path, inputs: list[str]) -> None:
    """Trace the whole model into `out` (opset 17, dynamic batch and sequence axes)."""
    import torch
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(tokenizer_json)
    tok.enable_padding(pad_id=_pad_id(st_model), pad_token=st_model[0].tokenizer.pad_token or "")
    # Two texts of different lengths: the traced batch must contain padding, or
    # mask handling that depends on "is there any padding?" would be baked out.
    batch = tok.encode_batch(["an example sentence to trace the graph with", "short"])
    arrays = {
        "input_ids": [e.ids for e in batch],
        "attention_mask": [e.attention_mask for e in batch],
        "token_type_ids": [e.type_ids for e in batch],
    }
    args = tuple(torch.tensor(arrays[name], dtype=torch.long) for name in inputs)
    axes = {name: {0: "batch", 1: "sequence"} for name in inputs}
    axes[OUTPUT] = {0: "batch"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and deprecation chatter, not actionable
        torch.onnx.export(
            _wrapper(st_model, inputs),
            args,
            str(out),
            input_names=inputs,
            output_names=[OUTPUT],
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def _pad_id(st_model: Any) -> int:
    pad = st_model[0].tokenizer.pad_token_id
    return 0 if pad is None else int(pad)


def quantize_int8(src: Path, dst: Path) -> None:
    """Per-channel dynamic int8 (weights int8 per output channel, activations at run time)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_dynamic(
            str(src),
            str(dst),
            per_channel=True,
            weight_type=QuantType.QInt8,
            extra_options={"MatMulConstBOnly": True},
        )


def convert_fp16(src: Path, dst: Path) -> None:
    """fp16 weights and compute, float32 inputs/outputs (keep_io_types)."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = onnx.load(str(src))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        half = convert_float_to_float16(model, keep_io_types=True)
    onnx.save(half, str(dst))
