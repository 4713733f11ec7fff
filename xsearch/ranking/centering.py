"""Language centering: remove the part of a vector that says which language it is.

Multilingual encoders put every language in one space, but each language also
sits around its own mean vector; a query scores higher against everything in its
own language, whatever the meaning (LAReQA "language bias"). Subtracting the
language mean from the passage vectors removes that offset.

We store ``p - c_L`` (``c_L``: the centre of language L) un-normalised in the
``centered`` named vector and score it with a dot product:
``q · (p - c_L) = q · p - q · c_L``. Inside one language this is the raw score
minus a constant, so the ranking of a single-language collection is exactly the
dense ranking; across languages the per-language offset ``q · c_L`` is gone.

The centre of a language is a running mean kept in the collection metadata (sum
and count, updated as documents are added and removed). The vectors already
stored were centred with an older centre; all points of a language must share
one centre, so new points use the language's *current centre* ``c_L`` (not the
live mean) and the centre is moved — every ``centered`` vector of that language
rewritten, from the raw vectors, no re-encoding — when the language has grown or
shrunk by a quarter since (amortised O(1) rewrites per point).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

META_KEY = "language_means"
# Re-centre a language when its passage count moved this much since the last time.
REGROW = 1.25
# Pseudo-passages of the collection-wide mean mixed into a language's centre.
SHRINK = 16.0


@dataclass
class LanguageStats:
    n: int = 0
    total: np.ndarray | None = None  # sum of the raw passage vectors
    centre: np.ndarray | None = None  # the mean the stored centred vectors use
    centre_n: int = 0

    @property
    def mean(self) -> np.ndarray | None:
        if self.n <= 0 or self.total is None:
            return None
        return (self.total / self.n).astype(np.float32)

    def needs_recentre(self) -> bool:
        if self.n == 0:
            return False
        if self.centre is None or self.centre_n == 0:
            return True
        return self.n >= REGROW * self.centre_n or self.n * REGROW <= self.centre_n


@dataclass
class LanguageMeans:
    """Per-language running means of one collection (kept in its metadata)."""

    dimension: int
    langs: dict[str, LanguageStats] = field(default_factory=dict)

    # -- persistence ----------------------------------------------------------
    @classmethod
    def from_meta(cls, meta: dict, dimension: int) -> LanguageMeans:
        out = cls(dimension)
        for lang, d in (meta.get(META_KEY) or {}).items():
            out.langs[lang] = LanguageStats(
                n=int(d["n"]),
                total=np.asarray(d["total"], dtype=np.float64),
                centre=None if d.get("centre") is None else np.asarray(d["centre"], np.float32),
                centre_n=int(d.get("centre_n", 0)),
            )
        return out

    def to_meta(self) -> dict:
        return {
            lang: {
                "n": s.n,
                "total": [float(x) for x in s.total] if s.total is not None else None,
                "centre": [float(x) for x in s.centre] if s.centre is not None else None,
                "centre_n": s.centre_n,
            }
            for lang, s in self.langs.items()
        }

    # -- updates ------------------------------------------------------------------
    def _stats(self, lang: str) -> LanguageStats:
        if lang not in self.langs:
            self.langs[lang] = LanguageStats(total=np.zeros(self.dimension, np.float64))
        return self.langs[lang]

    def add(self, lang: str, vectors: np.ndarray) -> None:
        if len(vectors) == 0:
            return
        s = self._stats(lang)
        s.n += len(vectors)
        s.total = s.total + vectors.astype(np.float64).sum(0)

    def remove(self, lang: str, vectors: np.ndarray) -> None:
        if len(vectors) == 0 or lang not in self.langs:
            return
        s = self.langs[lang]
        s.n = max(0, s.n - len(vectors))
        s.total = s.total - vectors.astype(np.float64).sum(0)
        if s.n == 0:
            s.total = np.zeros(self.dimension, np.float64)

    def centre(self, lang: str) -> np.ndarray | None:
        s = self.langs.get(lang)
        return None if s is None else s.centre

    def stale(self) -> list[str]:
        """Languages whose stored centred vectors should be rewritten."""
        return [lang for lang, s in self.langs.items() if s.needs_recentre()]

    def move_centre(self, lang: str) -> np.ndarray | None:
        """Set the language's centre from its current mean (before a rewrite).

        The mean of a language with few passages is mostly the content of those
        passages, not the language: centring one document by itself leaves a
        zero vector. So the estimate is shrunk towards the collection-wide mean
        with the weight of ``SHRINK`` pseudo-passages (James-Stein style): with
        1 passage the centre is ~the collection mean, with 240 it is 94% the
        language's own mean.
        """
        s = self.langs[lang]
        s.centre_n = s.n
        if s.n <= 0 or s.total is None:
            s.centre = None
            return None
        n_all = sum(x.n for x in self.langs.values())
        total_all = sum(x.total for x in self.langs.values() if x.total is not None)
        mean_all = total_all / max(n_all, 1)
        s.centre = ((s.total + SHRINK * mean_all) / (s.n + SHRINK)).astype(np.float32)
        return s.centre

    def centred(self, lang: str, vectors: np.ndarray) -> np.ndarray:
        """``vectors - centre`` for storage (the raw vectors when no centre yet)."""
        c = self.centre(lang)
        if c is None:
            return vectors.astype(np.float32)
        return (vectors - c).astype(np.float32)
