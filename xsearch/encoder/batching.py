"""Token-budget batching: sort by length, cut batches, pack padded arrays.

Sorting by length keeps padding (wasted compute) small; the budget bounds the
activation memory of one run (batch * padded_len tokens), whatever the mix of
short queries and 512-token passages.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def padded_length(length: int, multiple: int, cap: int) -> int:
    """Round up to a multiple (friendlier GEMM shapes), never past ``cap``."""
    if multiple <= 1:
        return length
    return min(cap, -(-length // multiple) * multiple)


def plan_batches(
    lengths: Sequence[int],
    batch_tokens: int,
    max_batch_size: int,
    *,
    pad_multiple: int = 1,
    cap: int | None = None,
    min_fill: float = 0.0,
) -> list[np.ndarray]:
    """Split indices into batches with ``size * padded_len <= batch_tokens``.

    Longest first, so the padded length of a batch is its first item's and the
    biggest (most memory-hungry) batch runs first. A single text longer than the
    budget still gets a batch of its own. ``min_fill`` starts a new batch when a
    text would fill less than that fraction of the batch's width: on a long
    tail of lengths, fixed-size batches otherwise pad short texts to a long
    one's width. Returns arrays of input indices.
    """
    if len(lengths) == 0:
        return []
    arr = np.asarray(lengths, dtype=np.int64)
    cap = int(arr.max()) if cap is None else cap
    order = np.argsort(-arr, kind="stable")
    sorted_lengths = arr[order]
    batches: list[np.ndarray] = []
    start = 0
    while start < len(order):
        width = padded_length(int(sorted_lengths[start]), pad_multiple, cap)
        size = max(1, min(max_batch_size, batch_tokens // max(width, 1)))
        end = min(len(order), start + size)
        if min_fill > 0:
            # Sorted descending: the first text below the threshold ends the batch.
            too_short = np.nonzero(sorted_lengths[start:end] < min_fill * width)[0]
            if too_short.size:
                end = start + max(1, int(too_short[0]))
        batches.append(order[start:end])
        start = end
    return batches


def pack(rows: Sequence[Sequence[int]], pad_id: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """input_ids and attention_mask (int64, [len(rows), width]) right-padded."""
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return ids, mask
