"""Assemble a sentence-transformers folder from a Hugging Face model folder."""

from __future__ import annotations

from pathlib import Path


def save_st_folder(
    hf_dir: Path,
    out: Path,
    *,
    pooling: str,
    prompts: dict[str, str] | None,
    max_seq_length: int,
    dense_out: int | None = None,
) -> None:
    """Assemble Transformer + Pooling [+ Dense] + Normalize over an HF folder and save it."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import (
        Dense,
        Normalize,
        Pooling,
        Transformer,
    )

    transformer = Transformer(str(hf_dir), max_seq_length=max_seq_length)
    dim = transformer.get_embedding_dimension()
    modules = [transformer, Pooling(dim, pooling)]
    if dense_out is not None:
        modules.append(Dense(dim, dense_out))
    modules.append(Normalize())
    SentenceTransformer(modules=modules, prompts=prompts, device="cpu").save(str(out))
