"""Token counters for chunking tests that behave like an encoder's, without a model.

Both count what an encoder sees: a "passage: " prompt and two special tokens
around the text, so ``count("")`` is not 0.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

# one token per word, per CJK/kana/Thai character, per punctuation mark
_SIMPLE = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]|\w+|[^\w\s]")


def simple_count(text: str) -> int:
    return 4 + len(_SIMPLE.findall(text))  # <s> passage : ... </s>


def bpe_counter(corpus: Iterable[str], vocab_size: int = 2000) -> Callable[[str], int]:
    """A SentencePiece-like BPE (Metaspace, like XLM-R) trained on ``corpus``."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False
    )
    tok.train_from_iterator(list(corpus), trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 1), ("</s>", 2)]
    )

    def count(text: str) -> int:
        return len(tok.encode("passage: " + text).ids)

    return count


class Recording:
    """Wraps a counter and records how much text it was asked to count."""

    def __init__(self, count: Callable[[str], int]) -> None:
        self.count = count
        self.calls = 0
        self.chars = 0

    def __call__(self, text: str) -> int:
        self.calls += 1
        self.chars += len(text)
        return self.count(text)
