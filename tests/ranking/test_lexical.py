"""Lexical terms, BM25 weights and the margin that weights hybrid fusion."""

from __future__ import annotations

import pytest

from xsearch.ranking.lexical import (
    document_vector,
    lexical_margin,
    query_vector,
    term_id,
    terms,
)


def test_words_are_casefolded_and_normalised() -> None:
    assert terms("The PUMP, the pump!") == ["the", "pump", "the", "pump"]
    assert terms("ＡＢＣ ½") == ["abc", "1", "2"]  # NFKC: full-width letters, fractions
    assert terms("Straße") == ["strasse"]  # casefold, not lower
    assert terms("E-4821 costs 12.50") == ["e", "4821", "costs", "12", "50"]


def test_scripts_without_spaces_become_character_bigrams() -> None:
    assert terms("東京都") == ["東京", "京都"]
    assert terms("東") == ["東"]  # a run of one character stays a unigram
    assert terms("iPhone東京") == ["iphone", "東京"]  # Latin run split from Han
    # Thai: combining vowel/tone marks stay on their consonant
    assert terms("ภาษาไทย") == ["ภา", "าษ", "ษา", "าไ", "ไท", "ทย"]
    assert terms("ที่นี่") == ["ที่นี่"]  # tone marks stay on their consonant: one bigram


def test_long_tokens_are_cut() -> None:
    assert terms("a" * 100) == ["a" * 40]


def test_document_weights_saturate_and_normalise_length() -> None:
    idx, val = document_vector("pump pump pump valve")
    w = dict(zip(idx, val, strict=True))
    assert w[term_id("pump")] > w[term_id("valve")]
    assert w[term_id("pump")] < 3 * w[term_id("valve")]  # tf saturates (BM25)
    short = dict(zip(*document_vector("valve"), strict=True))[term_id("valve")]
    long_text = "valve " + " ".join(f"w{i}" for i in range(400))
    long = dict(zip(*document_vector(long_text), strict=True))[term_id("valve")]
    assert long < short  # one hit in a long passage counts less
    assert document_vector("   ...  ") == ([], [])


def test_query_vector_counts_each_term_once() -> None:
    idx, val = query_vector("pump pump valve")
    assert sorted(idx) == sorted({term_id("pump"), term_id("valve")})
    assert val == [1.0, 1.0] and idx == sorted(idx)


@pytest.mark.parametrize(
    ("scores", "want"),
    [
        ([], 0.0),
        ([0.0, 0.0], 0.0),
        ([3.2], 1.0),  # one match: nothing competes
        ([4.0, 4.0, 1.0], 0.0),  # a tie: the words do not tell documents apart
        ([4.0, 3.0], 0.25),
        ([10.0, 1.0, 0.5], 0.9),
    ],
)
def test_lexical_margin(scores: list[float], want: float) -> None:
    assert lexical_margin(scores) == pytest.approx(want)


# -- stop words from the bundle's tokenizer (issue 11) ----------------------------------
def _unigram(path, vocab: list[tuple[str, float]], kind: str = "Unigram"):  # noqa: ANN001, ANN202
    import json

    path.write_text(json.dumps({"model": {"type": kind, "vocab": [list(v) for v in vocab]}}))
    return path


def test_frequent_words_are_the_most_probable_whole_word_pieces(tmp_path) -> None:  # noqa: ANN001
    from xsearch.ranking.lexical import frequent_words

    vocab = [("<s>", 0.0), ("▁de", -3.0), ("▁Die", -3.5), ("s", -2.0), ("▁2018", -4.0),
             ("▁un", -4.5), ("▁panda", -12.0), ("▁la", -3.2)]  # fmt: skip
    words = frequent_words(_unigram(tmp_path / "t.json", vocab), top=4)
    # pieces without the word marker and words with digits are not stop words;
    # casefolded; the least probable word ("panda") is left out at top=4
    assert words == {"de", "die", "la", "un"}
    assert frequent_words(_unigram(tmp_path / "w.json", vocab, "WordPiece")) == frozenset()
    assert frequent_words(tmp_path / "missing.json") == frozenset()


def test_query_vector_drops_stop_words() -> None:
    stop = frozenset({"un", "die", "in"})
    idx, _ = query_vector("¿Dónde nació un bebé panda?", stop)
    assert term_id("un") not in idx and term_id("panda") in idx and len(idx) == 4
    assert query_vector("die in", stop) == ([], [])  # only stop words: no lexical vote


def test_stop_words_are_kept_beside_the_tokenizer_and_follow_it(tmp_path) -> None:  # noqa: ANN001
    """A one-shot process reads the kept list instead of the whole tokenizer.json;
    a changed tokenizer is read again; a folder it cannot write to still works."""
    import json
    import os

    from xsearch.bundle.manifest import STOP_WORDS_CACHE
    from xsearch.ranking.lexical import frequent_words

    vocab = [("▁de", -3.0), ("▁la", -3.2), ("▁un", -4.5), ("▁panda", -12.0)]
    tok = _unigram(tmp_path / "tokenizer.json", vocab)
    frequent_words.cache_clear()
    assert frequent_words(tok, top=3) == {"de", "la", "un"}
    kept = json.loads((tmp_path / STOP_WORDS_CACHE).read_text())
    assert kept["words"] == ["de", "la", "un"] and kept["tokenizer"]["top"] == 3
    # the kept list is what a new process reads (proved by a list only the file has)
    kept["words"] = ["kept"]
    (tmp_path / STOP_WORDS_CACHE).write_text(json.dumps(kept))
    frequent_words.cache_clear()
    assert frequent_words(tok, top=3) == {"kept"}
    assert frequent_words(tok, top=2) == {"de", "la"}  # another size: computed
    # the tokenizer changes: computed again, and kept again
    _unigram(tok, [("▁der", -2.0), *vocab])
    os.utime(tok, ns=(1, 1))
    frequent_words.cache_clear()
    assert frequent_words(tok, top=3) == {"der", "de", "la"}
    # a damaged kept file is ignored
    (tmp_path / STOP_WORDS_CACHE).write_text("{not json")
    frequent_words.cache_clear()
    assert frequent_words(tok, top=3) == {"der", "de", "la"}
    # a read-only folder: computed each time, no error
    ro = tmp_path / "ro"
    ro.mkdir()
    tok2 = _unigram(ro / "tokenizer.json", vocab)
    ro.chmod(0o555)
    try:
        frequent_words.cache_clear()
        assert frequent_words(tok2, top=3) == {"de", "la", "un"}
        if os.geteuid() != 0:  # root writes anyway
            assert not (ro / STOP_WORDS_CACHE).exists()
    finally:
        ro.chmod(0o755)
    frequent_words.cache_clear()


def test_the_kept_stop_words_are_not_part_of_the_bundle(tiny_bundle) -> None:  # noqa: ANN001
    """Written into a bundle folder, the list is left out of its files: the bundle still
    verifies, and a manifest computed again does not list it."""
    from xsearch.bundle.manifest import STOP_WORDS_CACHE, bundle_files, verify_bundle
    from xsearch.ranking.lexical import frequent_words

    frequent_words.cache_clear()
    frequent_words(tiny_bundle / "tokenizer.json")
    frequent_words.cache_clear()
    assert (tiny_bundle / STOP_WORDS_CACHE).is_file()
    verify_bundle(tiny_bundle)
    assert STOP_WORDS_CACHE not in bundle_files(tiny_bundle)
