"""Token-budget batching: every index once, budget respected, longest first."""

from __future__ import annotations

import numpy as np

from xsearch.encoder.batching import pack, padded_length, plan_batches


def test_batches_cover_every_index_once_and_respect_the_budget() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 200, size=500).tolist()
    batches = plan_batches(lengths, batch_tokens=1024, max_batch_size=16, pad_multiple=8, cap=512)
    seen = np.concatenate(batches)
    assert sorted(seen.tolist()) == list(range(500))
    for batch in batches:
        width = padded_length(max(lengths[i] for i in batch), 8, 512)
        assert len(batch) <= 16
        assert len(batch) * width <= 1024
    # Longest first: the padded width never grows from one batch to the next.
    firsts = [lengths[b[0]] for b in batches]
    assert firsts == sorted(firsts, reverse=True)


def test_text_longer_than_the_budget_gets_its_own_batch() -> None:
    batches = plan_batches([600, 5, 5], batch_tokens=512, max_batch_size=8)
    assert [b.tolist() for b in batches] == [[0], [1, 2]]


def test_empty_input_gives_no_batch() -> None:
    assert plan_batches([], batch_tokens=512, max_batch_size=8) == []


def test_padding_rounds_up_but_never_past_the_cap() -> None:
    assert padded_length(9, 8, 512) == 16
    assert padded_length(16, 8, 512) == 16
    assert padded_length(510, 8, 510) == 510
    assert padded_length(7, 1, 512) == 7


def test_pack_pads_right_with_the_pad_id() -> None:
    ids, mask = pack([[0, 5, 2], [0, 2]], pad_id=1, width=4)
    assert ids.tolist() == [[0, 5, 2, 1], [0, 2, 1, 1]]
    assert mask.tolist() == [[1, 1, 1, 0], [1, 1, 0, 0]]
    assert ids.dtype == np.int64 and mask.dtype == np.int64
