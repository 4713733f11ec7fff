"""The runtime encoder: a model bundle run by onnxruntime, tokenised by tokenizers.

No torch, no transformers: every sentence-transformers module (pooling, dense,
normalisation) is inside the ONNX graph, so the runtime only tokenises, batches
and runs it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import numpy as np

from xsearch.bundle.manifest import check_fingerprint
from xsearch.encoder.batching import pack, padded_length, plan_batches
from xsearch.encoder.bundle_io import (
    REBUILD_FIX,
    load_manifest,
    resolve_bundle_dir,
    verify_files,
)
from xsearch.encoder.session import open_session, resolve_threads
from xsearch.errors import BundleCorrupt, InputError
from xsearch.schemas import Kind
from xsearch.settings import Settings, get_settings

log = logging.getLogger(__name__)

KINDS: tuple[str, ...] = get_args(Kind)
OUTPUT = "sentence_embedding"
# Texts tokenised and sorted together. Bounds the memory held in tokenizer
# encodings on huge inputs; 4096 is wide enough that sorting inside a window
# wastes almost no padding compared with sorting everything.
WINDOW = 4096


@dataclass(frozen=True)
class EncodeStats:
    texts: int
    truncated: int  # texts cut to max_seq_length (prompt and special tokens included)
    tokens: int  # real (non-padding) tokens fed to the model
    seconds: float
    padded_tokens: int = 0  # tokens computed including padding


class Encoder:
    """Encode texts into float32 unit vectors with a model bundle.

    Build with :meth:`Encoder.load`. ``encode`` is thread-safe (onnxruntime
    sessions and tokenizers are); ``last_truncated`` then reflects whichever
    call finished last.
    """

    def __init__(
        self,
        *,
        bundle_dir: Path,
        manifest: dict[str, Any],
        session: Any,
        provider: str,
        variant: str,
        tokenizer: Any,
        settings: Settings,
        threads: int,
    ) -> None:
        self.bundle_dir = bundle_dir
        self.manifest = manifest
        self.name: str = manifest["name"]
        self.fingerprint: str = manifest["fingerprint"]
        self.dimension: int = int(manifest["dimension"])
        self.max_seq_length: int = int(manifest["max_seq_length"])
        self.prompts: dict[str, str] = dict(manifest.get("prompts") or {})
        self.pad_token_id: int = int(manifest.get("pad_token_id", 0))
        self.variant = variant
        self.provider = provider
        self.threads = threads
        self.batch_tokens = settings.batch_tokens
        self.max_batch_size = settings.max_batch_size
        # Measured with bench/encoder.py when batching was written: rounding widths up
        # to a multiple of 8 only added padding (-25% texts/s on short
        # sentences); cutting a batch where a text would fill < 80% of its
        # width removes most of the padding of a long-tailed length mix.
        self.pad_multiple = 1
        self.min_fill = 0.8
        self.last_truncated = 0
        self._session = session
        self._input_names = [i.name for i in session.get_inputs()]
        # ONE tokenizer, without truncation: a 250k-piece vocabulary costs ~300 MB
        # per instance, so truncation is done here on the ids instead of by a
        # second, truncating copy. Special tokens the post-processor appends
        # (</s>, [SEP]) are kept at the end, as tokenizers' own truncation does.
        self._tok = tokenizer
        probe = tokenizer.encode("probe")
        self._suffix = _trailing_specials(probe.special_tokens_mask)

    # --- construction ----------------------------------------------------------
    @classmethod
    def load(
        cls,
        name_or_path: str | Path | None = None,
        *,
        settings: Settings | None = None,
        variant: str | None = None,
        verify: bool = True,
    ) -> Encoder:
        """Load a bundle by name (under ``settings.models_dir``) or folder path.

        Raises BundleNotFound (no bundle / no such variant) and BundleCorrupt
        (a file differs from the manifest's sha256, when ``verify``).
        """
        settings = settings or get_settings()
        bundle_dir = resolve_bundle_dir(name_or_path, settings)
        manifest = load_manifest(bundle_dir)
        threads = resolve_threads(settings.threads)
        check = (lambda names: verify_files(bundle_dir, manifest, names)) if verify else None
        if check is not None:
            check_fingerprint(bundle_dir, manifest)
            check(["tokenizer.json"])
        tokenizer = _load_tokenizer(bundle_dir / "tokenizer.json")
        session, provider, choice = open_session(
            bundle_dir, manifest, variant or settings.variant, threads, check,
            spin=settings.encoder_spin,
        )  # fmt: skip
        encoder = cls(
            bundle_dir=bundle_dir,
            manifest=manifest,
            session=session,
            provider=provider,
            variant=choice.variant,
            tokenizer=tokenizer,
            settings=settings,
            threads=threads,
        )
        encoder._check_graph()
        return encoder

    def _check_graph(self) -> None:
        """Fail at load time, not on the first request, if the graph does not fit."""
        unknown = set(self._input_names) - {"input_ids", "attention_mask", "token_type_ids"}
        outputs = [o.name for o in self._session.get_outputs()]
        if unknown or OUTPUT not in outputs:
            raise BundleCorrupt(
                f"{self.bundle_dir}: graph inputs {self._input_names} / outputs {outputs} "
                f"do not follow the bundle contract (input_ids, attention_mask -> {OUTPUT})",
                fix=REBUILD_FIX,
            )
        ids = self._tok.encode("probe").ids
        probe = self._run([ids], len(ids))
        if probe.shape != (1, self.dimension):
            raise BundleCorrupt(
                f"{self.bundle_dir}: graph returns {probe.shape[1:]} vectors, "
                f"manifest says dimension {self.dimension}",
                fix=REBUILD_FIX,
            )

    # --- encoding ----------------------------------------------------------------
    def encode(
        self,
        texts: Sequence[str],
        kind: Kind = "passage",
        *,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """float32 [len(texts), dimension] unit vectors, in input order.

        ``progress`` is called with the number of texts finished by each batch.
        """
        return self.encode_with_stats(texts, kind, progress=progress)[0]

    def encode_with_stats(
        self,
        texts: Sequence[str],
        kind: Kind = "passage",
        *,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, EncodeStats]:
        prefix = self._prompt(kind)
        _check_texts(texts)
        started = time.perf_counter()
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        truncated = tokens = padded = 0
        for lo in range(0, len(texts), WINDOW):
            chunk = [prefix + t for t in texts[lo : lo + WINDOW]]
            t, n, p = self._encode_window(chunk, out[lo : lo + len(chunk)], progress)
            truncated, tokens, padded = truncated + t, tokens + n, padded + p
        self.last_truncated = truncated
        if truncated:
            log.warning(
                "%d of %d texts were longer than %d tokens and were truncated",
                truncated,
                len(texts),
                self.max_seq_length,
            )
        stats = EncodeStats(
            texts=len(texts),
            truncated=truncated,
            tokens=tokens,
            seconds=time.perf_counter() - started,
            padded_tokens=padded,
        )
        return out, stats

    def _encode_window(
        self, texts: list[str], out: np.ndarray, progress: Callable[[int], None] | None
    ) -> tuple[int, int, int]:
        """Encode texts (prompt included) into ``out``; returns (truncated, tokens, padded)."""
        rows = [e.ids for e in self._tok.encode_batch_fast(texts)]
        long = [i for i, r in enumerate(rows) if len(r) > self.max_seq_length]
        for i in long:
            rows[i] = self._truncate(rows[i])
        lengths = [len(r) for r in rows]
        padded = 0
        for batch in plan_batches(
            lengths,
            self.batch_tokens,
            self.max_batch_size,
            pad_multiple=self.pad_multiple,
            cap=self.max_seq_length,
            min_fill=self.min_fill,
        ):
            # Sorted longest first: the batch's first text sets its width.
            width = padded_length(lengths[batch[0]], self.pad_multiple, self.max_seq_length)
            out[batch] = self._run([rows[i] for i in batch], width)
            padded += len(batch) * width
            if progress is not None:
                progress(len(batch))
        return len(long), sum(lengths), padded

    def _truncate(self, ids: list[int]) -> list[int]:
        keep = self.max_seq_length - self._suffix
        return ids[:keep] + ids[len(ids) - self._suffix :] if self._suffix else ids[:keep]

    def _run(self, rows: Sequence[Sequence[int]], width: int) -> np.ndarray:
        ids, mask = pack(rows, self.pad_token_id, width)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feed["token_type_ids"] = np.zeros_like(ids)
        vectors = self._session.run([OUTPUT], feed)[0].astype(np.float32, copy=False)
        # The graph normalises already; re-normalising in float32 makes fp16
        # outputs exact unit vectors too and costs nothing next to the model.
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    # --- tokens ------------------------------------------------------------------
    def count_tokens(self, text: str, kind: Kind = "passage") -> int:
        """Tokens the model would see for ``text`` (prompt and specials included),
        before truncation."""
        return count_tokens(self._tok, self._prompt(kind), text)

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        """(start, end) character offsets of the content tokens of ``text``
        (no prompt, no special tokens), for token-aware chunking."""
        return content_offsets(self._tok, text)

    def _prompt(self, kind: str) -> str:
        if kind not in KINDS:
            raise InputError(f"unknown text kind {kind!r}", fix="use 'query' or 'passage'")
        return self.prompts.get(kind, "")

    def __repr__(self) -> str:
        return (
            f"Encoder(name={self.name!r}, variant={self.variant!r}, "
            f"provider={self.provider!r}, dimension={self.dimension}, threads={self.threads})"
        )


def count_tokens(tokenizer: Any, prompt: str, text: str) -> int:
    """Tokens the model sees for ``text`` after ``prompt`` (specials included),
    before truncation. A function of the tokenizer alone, so that a chunking
    worker process (text.chunk_pool) counts exactly as the encoder does."""
    return len(tokenizer.encode(prompt + text).ids)


def content_offsets(tokenizer: Any, text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of the content tokens of ``text`` (no
    special tokens)."""
    enc = tokenizer.encode(text)
    return [
        off
        for off, special in zip(enc.offsets, enc.special_tokens_mask, strict=True)
        if not special
    ]


def _load_tokenizer(path: Path) -> Any:
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises plain Exception on bad JSON
        raise BundleCorrupt(f"cannot read {path} ({exc})", fix=REBUILD_FIX) from exc
    tokenizer.no_truncation()  # the bundle's file should bake in none; make sure
    tokenizer.no_padding()
    return tokenizer


def _trailing_specials(mask: Sequence[int]) -> int:
    """How many special tokens the post-processor puts after the text."""
    count = 0
    for flag in reversed(mask):
        if not flag:
            break
        count += 1
    return count


def _check_texts(texts: Sequence[str]) -> None:
    if isinstance(texts, str):
        raise InputError("encode() got one string, not a list of texts", fix="pass [text]")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise InputError(
                f"text #{i} is {type(text).__name__}, not str", fix="pass strings only"
            )
