"""Keep a collection's ranking data in step with its documents.

Called by the indexing service around every write and delete:
- each point gets its ``centered`` vector (raw minus its language's centre) and
  its ``lexical`` sparse vector;
- the per-language running means (collection metadata) gain the new vectors and
  lose the replaced or deleted ones;
- a language whose count moved by a quarter since its centre was set gets a new
  centre and its ``centered`` vectors rewritten from the raw ones (no
  re-encoding), so every point of a language shares one centre.

Concurrent writers on a server store race on the metadata (read-modify-write);
``recompute`` rebuilds exact means from a full scan (``xsearch recenter``).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from xsearch.ranking.centering import META_KEY, LanguageMeans
from xsearch.ranking.lexical import document_vector
from xsearch.store.base import (
    CENTERED,
    DENSE,
    LEXICAL,
    PointRecord,
    ScoredPoint,
    SearchFilter,
    Store,
)

_REWRITE_CHUNK = 256


class RankingData:
    def __init__(self, store: Store, dimension: int) -> None:
        self.store = store
        self.dimension = dimension
        self._lock = threading.Lock()

    def means(self, collection: str) -> LanguageMeans:
        return LanguageMeans.from_meta(self.store.get_meta(collection), self.dimension)

    def _save(self, collection: str, means: LanguageMeans) -> None:
        meta = dict(self.store.get_meta(collection))
        meta[META_KEY] = means.to_meta()
        self.store.set_meta(collection, meta)

    # -- points -----------------------------------------------------------------------
    def decorate(
        self, collection: str, points: Sequence[PointRecord], texts: Sequence[str]
    ) -> None:
        """Add the centred and lexical vectors to points about to be written."""
        means = self.means(collection)
        for p, text in zip(points, texts, strict=True):
            lang = str(p.payload.get("lang") or "und")
            p.vectors[CENTERED] = means.centred(lang, np.asarray(p.vectors[DENSE]))
            idx, val = document_vector(text)
            if idx:
                p.sparse[LEXICAL] = (idx, val)

    # -- bookkeeping ------------------------------------------------------------------
    def forget(self, collection: str, ids: Sequence[str]) -> None:
        """Take points that are about to be replaced or deleted out of the means."""
        if not ids:
            return
        with self._lock:
            old = self.store.retrieve(collection, list(ids), with_vectors=True)
            if not old:
                return
            means = self.means(collection)
            for lang, vecs in _by_lang(old).items():
                means.remove(lang, vecs)
            self._save(collection, means)

    def replace(
        self, collection: str, old: Sequence[ScoredPoint], new: Sequence[PointRecord]
    ) -> list[str]:
        """Old versions out of the means and written points in, in ONE metadata write
        (so a failure leaves the statistics as they were, never half-updated);
        move the centre of languages that drifted and return them: their centred
        vectors are then rewritten by :meth:`rewrite`. ``old`` must carry vectors."""
        if not old and not new:
            return []
        with self._lock:
            means = self.means(collection)
            for lang, vecs in _by_lang(old).items():
                means.remove(lang, vecs)
            for lang, vecs in _by_lang(new).items():
                means.add(lang, vecs)
            stale = means.stale()
            for lang in stale:
                means.move_centre(lang)
            self._save(collection, means)
            return stale

    def rewrite(self, collection: str, langs: Sequence[str]) -> None:
        """Rewrite the centred vectors of ``langs`` from the saved centres (after replace)."""
        if not langs:
            return
        with self._lock:
            means = self.means(collection)
            for lang in langs:
                self._rewrite(collection, lang, means)

    def added(self, collection: str, points: Sequence[PointRecord]) -> list[str]:
        """Count written points in the means; re-centre languages that drifted."""
        if not points:
            return []
        with self._lock:
            means = self.means(collection)
            for lang, vecs in _by_lang(points).items():
                means.add(lang, vecs)
            stale = means.stale()
            for lang in stale:
                means.move_centre(lang)
            self._save(collection, means)
            for lang in stale:
                self._rewrite(collection, lang, means)
            return stale

    def _rewrite(self, collection: str, lang: str, means: LanguageMeans) -> None:
        batch: list[PointRecord] = []
        flt = SearchFilter(langs=[lang])
        for p in self.store.scroll(collection, with_vectors=True, flt=flt):
            vectors = dict(p.vectors or {})
            raw = np.asarray(vectors[DENSE], dtype=np.float32)
            vectors[CENTERED] = means.centred(lang, raw)
            batch.append(PointRecord(p.id, vectors, p.payload, dict(p.sparse or {})))
            if len(batch) >= _REWRITE_CHUNK:
                self.store.upsert(collection, batch)
                batch = []
        if batch:
            self.store.upsert(collection, batch)

    def recompute(self, collection: str) -> LanguageMeans:
        """Exact means from every stored point, and every centred vector rewritten."""
        with self._lock:
            means = LanguageMeans(self.dimension)
            groups: dict[str, list[np.ndarray]] = defaultdict(list)
            for p in self.store.scroll(collection, with_vectors=True):
                lang = str(p.payload.get("lang") or "und")
                groups[lang].append(np.asarray((p.vectors or {})[DENSE], dtype=np.float32))
                if len(groups[lang]) >= 4096:
                    means.add(lang, np.stack(groups.pop(lang)))
            for lang, vecs in groups.items():
                means.add(lang, np.stack(vecs))
            for lang in list(means.langs):
                means.move_centre(lang)
            self._save(collection, means)
            for lang in list(means.langs):
                self._rewrite(collection, lang, means)
            return means


def _by_lang(points: Sequence) -> dict[str, np.ndarray]:  # noqa: ANN001
    groups: dict[str, list[np.ndarray]] = defaultdict(list)
    for p in points:
        vec = (p.vectors or {}).get(DENSE)
        if vec is not None:
            groups[str(p.payload.get("lang") or "und")].append(np.asarray(vec, dtype=np.float32))
    return {k: np.stack(v) for k, v in groups.items()}
