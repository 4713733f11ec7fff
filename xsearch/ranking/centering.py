"""Language centring: remove the part of a vector that says which language it is.

Multilingual encoders put every language in one space, but each language also
sits around its own mean vector; a query scores higher against everything in its
own language, whatever the meaning (LAReQA "language bias"). Subtracting the
language mean from the passage vectors removes that offset.

We store ``p - c_L`` (``c_L``: the centre of language L) un-normalised in the
``centered`` named vector and score it with a dot product:
``q · (p - c_L) = q · p - q · c_L``. Inside one language this is the raw score
minus a constant, so the ranking of a single-language collection is exactly the
dense ranking; across languages the per-language offset ``q · c_L`` is gone.

Languages also differ in spread: a language whose passages sit tightly around
its centre gives centred scores of a smaller range, so its best answers lose to
mediocre ones of a looser language. Each language's centred vectors are scaled
by ``s_L = sqrt(spread² of all / spread² of L)`` (spread² = mean squared
distance to the centre; an isotropic per-language z-score). A positive constant
per language: the in-language order stays exactly the dense order. (A full
per-language covariance would whiten better but needs one query per language.)
What centring gives on every corpus shape: `xsearch eval qa --layout all`,
README "Every corpus shape".

The centre of a language is a running mean kept in the collection metadata (sum
and count, updated as documents are added and removed). The vectors already
stored were centred with an older centre; all points of a language must share
one centre, so new points use the language's *current centre* ``c_L`` (not the
live mean) and the centre is moved — every ``centered`` vector of that language
rewritten, from the raw vectors, no re-encoding — when the language, or the
whole collection, has grown or shrunk by a quarter since (amortised O(1)
rewrites per point), and only if that moves its centred vectors by more than
RECENTRE_TOLERANCE: the centre is shrunk towards the collection mean and scaled
by the typical spread, which move when other languages grow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

META_KEY = "language_means"
# Re-centre a language when its passage count moved this much since the last time.
REGROW = 1.25
# Bounds of the pseudo-passages of the collection-wide mean mixed into a
# language's centre (the count itself is estimated per collection).
MIN_SHRINK = 1.0
MAX_SHRINK = 256.0


# A stale language (above) is re-centred, its centred vectors rewritten, only when
# the new centre and scale would change some stored centred vector by more than
# this (an upper bound on how far any centred score of a unit query moves: see
# ``LanguageMeans.recentre``); otherwise the old centre stays and only the counts
# that mark the check are updated. Without it, API writes of 10 documents
# rewrote every point of a growing collection several times over (~5% of the
# server's CPU with 20 writers) for centres that had settled.
RECENTRE_TOLERANCE = 0.005


def _moved(now: int, then: int) -> bool:
    return now >= REGROW * then or now * REGROW <= then


@dataclass
class LanguageStats:
    n: int = 0
    total: np.ndarray | None = None  # sum of the raw passage vectors
    centre: np.ndarray | None = None  # the mean the stored centred vectors use
    centre_n: int = 0
    scale: float = 1.0  # the spread scale the stored centred vectors use
    # passages of the whole collection when the centre was set: the centre is
    # shrunk towards the collection mean and scaled by the typical spread, both
    # of which move when OTHER languages grow
    all_n: int = 0

    @property
    def mean(self) -> np.ndarray | None:
        if self.n <= 0 or self.total is None:
            return None
        return (self.total / self.n).astype(np.float32)

    def needs_recentre(self, n_all: int) -> bool:
        if self.n == 0:
            return False
        if self.centre is None or self.centre_n == 0 or self.all_n == 0:
            return True
        return _moved(self.n, self.centre_n) or _moved(n_all, self.all_n)


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
                scale=float(d.get("scale", 1.0)),  # collections made before scaling: 1
                all_n=int(d.get("all_n", 0)),  # made before: re-centred on the next write
            )
        return out

    @staticmethod
    def counts_from_meta(meta: dict) -> dict[str, int]:
        """Passages per language, without parsing the vectors (a per-query need)."""
        stats = meta.get(META_KEY) or {}
        return {lang: int(d["n"]) for lang, d in stats.items() if int(d["n"]) > 0}

    def to_meta(self) -> dict:
        return {
            lang: {
                "n": s.n,
                "total": [float(x) for x in s.total] if s.total is not None else None,
                "centre": [float(x) for x in s.centre] if s.centre is not None else None,
                "centre_n": s.centre_n,
                "scale": s.scale,
                "all_n": s.all_n,
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

    def stale(self) -> list[str]:
        """Languages whose stored centred vectors should be rewritten: the language
        grew or shrank by a quarter since its centre was set, or the whole
        collection did (a small language indexed first, then a big one: its centre
        was shrunk towards a collection mean that no longer exists). Amortised
        O(1) rewrites per point either way."""
        n_all = sum(x.n for x in self._live())
        return [lang for lang, s in self.langs.items() if s.needs_recentre(n_all)]

    def move_centre(self, lang: str) -> np.ndarray | None:
        """Set the language's centre from its current mean (before a rewrite).

        The mean of a language with few passages is mostly the content of those
        passages, not the language: centring one document by itself leaves a
        zero vector. So the estimate is shrunk towards the collection-wide mean
        with the weight of ``k`` pseudo-passages, ``k`` estimated from the
        collection (James-Stein / empirical Bayes): ``k = σ² / τ²``, σ² the
        typical spread of passages around their language's mean (the noise of
        one passage), τ² how far the language's mean sits from the collection
        mean beyond that noise. Languages far apart need little shrinkage; a
        language of a few passages, whose mean is mostly noise, gets a lot
        (a fixed k over-shrinks languages that sit far apart).
        """
        s = self.langs[lang]
        s.centre_n = s.n
        if s.n <= 0 or s.total is None:
            s.centre, s.scale = None, 1.0
            return None
        live = self._live()
        n_all = sum(x.n for x in live)
        mean_all = sum(x.total for x in live) / n_all
        s.all_n = n_all
        k = self._pseudo_passages(s, mean_all)
        s.centre = ((s.total + k * mean_all) / (s.n + k)).astype(np.float32)
        # Leave-one-out: a passage's own vector is part of its language's mean,
        # so centring subtracts a share 1/(n + k) of the passage itself (a
        # language of 2 passages lost over a quarter of each passage's content:
        # the demo's Hindi cricket article fell below a Spanish football one).
        # Centring each passage by the centre WITHOUT it, (total - p + k·mean) /
        # (n - 1 + k), is the same centre with the centred vector scaled by
        # (n + k)/(n - 1 + k); the spread, measured around a centre that held
        # the passage too, is too small by the same factor, and its scale
        # sqrt(typical / spread) already carries the square root of it: the
        # other square root is what is left. A per-language constant (1 for a big
        # language): the in-language order stays the dense order.
        loo = float(np.sqrt((s.n + k) / (s.n - 1 + k)))
        s.scale = self._spread_scale(s, k) * loo
        return s.centre

    def recentre(self, lang: str, tolerance: float = RECENTRE_TOLERANCE) -> bool:
        """``move_centre`` if that moves the language's stored centred vectors by more
        than ``tolerance``: True, the centred vectors must be rewritten. Else the
        old centre and scale stay (False) and only ``centre_n``/``all_n`` move on,
        so the next check comes after the next quarter of growth.

        A stored vector ``s (p - c)`` becomes ``s' (p - c')``; the difference is
        ``(s' - s)(p - c) + s' (c - c')``, whose norm, for a unit ``p``, is at most
        ``|s' - s| (1 + |c|) + s' |c - c'|``: no centred score of a unit query
        moves by more than that.
        """
        s = self.langs[lang]
        old_centre, old_scale = s.centre, s.scale
        new_centre = self.move_centre(lang)
        if old_centre is None or new_centre is None or tolerance <= 0:
            return True
        shift = abs(s.scale - old_scale) * (1.0 + float(np.linalg.norm(old_centre)))
        shift += s.scale * float(np.linalg.norm(new_centre - old_centre))
        if shift > tolerance:
            return True
        s.centre, s.scale = old_centre, old_scale
        return False

    def _live(self) -> list[LanguageStats]:
        return [x for x in self.langs.values() if x.n > 0 and x.total is not None]

    def _typical_spread(self) -> float:
        """Passage-weighted mean squared distance of passages to their language mean.

        Passage vectors are unit length (the encoder normalises), so it is
        ``1 - |mean|²`` per language: no extra statistics needed.
        """
        live = self._live()
        n_all = sum(x.n for x in live)
        return max(1.0 - sum(float(x.total @ x.total) / x.n for x in live) / n_all, 1e-6)

    def _pseudo_passages(self, s: LanguageStats, mean_all: np.ndarray) -> float:
        assert s.total is not None
        sigma2 = self._typical_spread()
        dist2 = float(np.sum((s.total / s.n - mean_all) ** 2))
        tau2 = max(dist2 - sigma2 / s.n, 1e-6)  # the noise of an n-passage mean removed
        return min(max(sigma2 / tau2, MIN_SHRINK), MAX_SHRINK)

    def _spread_scale(self, s: LanguageStats, k: float) -> float:
        """``sqrt(typical spread² / spread² of L)``, shrunk like the centre.

        The spread of L is the mean squared distance of its passages to its
        centre c, ``1 - 2 mean·c + |c|²`` for unit vectors; a language with few
        passages is pulled towards the typical spread with the same ``k``
        pseudo-passages as its centre.
        """
        assert s.total is not None and s.centre is not None
        mean = s.total / s.n
        c = s.centre.astype(np.float64)
        own = max(1.0 - 2.0 * float(mean @ c) + float(c @ c), 1e-6)
        typical = self._typical_spread()
        spread = (s.n * own + k * typical) / (s.n + k)
        return float(np.sqrt(typical / spread))

    def centred(self, lang: str, vectors: np.ndarray) -> np.ndarray:
        """``(vectors - centre) * scale`` for storage (raw vectors when no centre yet)."""
        s = self.langs.get(lang)
        if s is None or s.centre is None:
            return vectors.astype(np.float32)
        return ((vectors - s.centre) * np.float32(s.scale)).astype(np.float32)
