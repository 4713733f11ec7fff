"""A tiny randomly initialised sentence-transformers model for fast tests.

BertModel with 2 layers, hidden 64, a Unigram tokenizer trained on the probe
sentences (so every script of the probe set tokenises into real pieces), saved
as a sentence-transformers folder. Deterministic: fixed seeds, fixed corpus.
"""

from __future__ import annotations

import shutil
from pathlib import Path

HIDDEN = 64
MAX_SEQ = 128
DENSE_OUT = 24


def _tokenizer():
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from tokenizers.trainers import UnigramTrainer

    from xsearch.bundle.probes import PROBES

    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = UnigramTrainer(
        vocab_size=1500,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
        unk_token="<unk>",
        show_progress=False,
    )
    tok.train_from_iterator([p.text for p in PROBES] * 3, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    return tok


def build_tiny_st_model(out: Path, *, dense: bool = False, seed: int = 0) -> Path:
    """Write the tiny model to `out` (mean pooling, or CLS pooling + Dense when dense=True)."""
    import torch
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    from xsearch.bundle.st_folder import save_st_folder

    tok = _tokenizer()
    hf_dir = out.parent / (out.name + ".hf")
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", model_input_names=["input_ids", "attention_mask"]
    )
    hf.save_pretrained(str(hf_dir))
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=MAX_SEQ,
        # Wider than BERT's 0.02 so different sentences get clearly different
        # vectors: a gate on near-identical vectors would prove nothing.
        initializer_range=0.2,
        pad_token_id=1,
    )
    BertModel(config, add_pooling_layer=False).save_pretrained(str(hf_dir))
    torch.manual_seed(seed + 1)
    save_st_folder(
        hf_dir,
        out,
        pooling="cls" if dense else "mean",
        prompts=None if dense else {"query": "query: ", "passage": "passage: "},
        max_seq_length=MAX_SEQ,
        dense_out=DENSE_OUT if dense else None,
    )
    shutil.rmtree(hf_dir)
    return out
