"""bench/encoder.py's workloads and accuracy, and the README table it feeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from bench.encoder import PASSAGE_TOKENS, accuracy, load_passages, load_sentences
from bench.tables.encoder import TABLES
from xsearch.provenance import write_result

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def test_accuracy_counts_the_translation_ranked_first() -> None:
    # 2 languages x 2 pairs: lang a finds both, lang b swaps its two.
    e = np.eye(4, dtype=np.float32)
    vecs = np.stack([e[0], e[1], e[0], e[1], e[2], e[3], e[3], e[2]])
    assert accuracy(vecs, ["a", "b"], 2) == {"a": 100.0, "b": 0.0}


def test_passages_are_exactly_the_token_budget(tiny_bundle: Path, tmp_path: Path) -> None:
    tok_path = tiny_bundle / "tokenizer.json"
    texts = load_passages(tmp_path, 5, tok_path, "passage: ")  # no data: built-in text
    tok = Tokenizer.from_file(str(tok_path))
    lengths = [len(tok.encode("passage: " + t).ids) for t in texts]
    assert len(texts) == 5 and all(PASSAGE_TOKENS - 2 <= n <= PASSAGE_TOKENS for n in lengths)


@pytest.mark.skipif(not (DATA / "tatoeba").is_dir(), reason="needs ../shared/data")
def test_sentences_keep_pairs_aligned_per_language() -> None:
    data = load_sentences(DATA, 160)
    assert data["pairs"] == 10 and len(data["texts"]) == 160 and len(data["langs"]) == 8


def test_readme_table_renders_from_the_result_file(tmp_path: Path) -> None:
    row = {
        "candidate": "int8", "label": "ONNX int8", "sentences_per_s": 600.0,
        "sentences_x_torch": 4.1, "passages_per_s": 12.5, "passages_x_torch": 3.2,
        "sentences_x_int8": 1.0, "passages_x_int8": 1.0, "tatoeba_acc": 90.1,
        "tatoeba_delta_vs_fp32": -0.56, "model_mb": 118.3, "peak_rss_mb": 640,
        "sentences_cpu_x_torch": 5.2, "passages_cpu_x_torch": 4.05,
    }  # fmt: skip
    results = {"rows": [row], "load_at_end": 3.5, "default_batch_tokens": 512,
               "workloads": {"sentences": "2000 Tatoeba", "passages": "100 XQuAD"}}  # fmt: skip
    write_result(tmp_path / "bench/results/encoder.json", results, command="python -m bench.x")
    table = TABLES["encoder"](tmp_path)
    line = (
        "| ONNX int8 | 600.0 | 4.10× | 5.20× | 12.50 | 3.20× | 4.05× | 1.00× / 1.00× | 90.10 "
        "| -0.56 | 118 |"
    )
    assert line in table and "XSEARCH_BATCH_TOKENS=512" in table
    assert "`python -m bench.x`" in table and "2000 Tatoeba" in table


def test_candidate_names_carry_a_token_budget() -> None:
    from bench.encoder import label, split_name

    assert split_name("int8-b512") == ("int8", 512)
    assert split_name("int8-fused") == ("int8-fused", None)
    assert split_name("int8-static-b1024") == ("int8-static", 1024)
    assert label("int8-b2048").endswith("batches of ≤ 2,048 tokens")
    with pytest.raises(SystemExit, match="unknown candidate"):
        label("int9-b512")
