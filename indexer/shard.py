"""``--shard I/N``: split a corpus between N indexer processes by document id.

The hash is SHA-1 of the UTF-8 id, not Python's ``hash()`` (salted per
process), so every machine puts a document in the same shard.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from xsearch.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Shard:
    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"0/4"`` -> Shard(0, 4); I counts from 0."""
        try:
            left, right = text.split("/")
            index, count = int(left), int(right)
        except ValueError:
            raise ConfigError(
                f"bad --shard {text!r}", fix="write I/N, e.g. --shard 0/4 (I from 0 to N-1)"
            ) from None
        if count < 1 or not 0 <= index < count:
            raise ConfigError(
                f"bad --shard {text!r}: I must be in 0..N-1",
                fix="e.g. --shard 3/4 is the last of 4",
            )
        return cls(index, count)

    def holds(self, doc_id: str) -> bool:
        return shard_of(doc_id, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_of(doc_id: str, count: int) -> int:
    digest = hashlib.sha1(doc_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count
