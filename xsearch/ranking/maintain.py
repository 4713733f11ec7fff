"""Keep a collection's ranking data in step with its documents.

Called by the indexing service around every write and delete:
- each point gets its ``centered`` vector (raw minus its language's centre) and
  its ``lexical`` sparse vector;
- the per-language running means (collection metadata) gain the new vectors and
  lose the replaced or deleted ones;
- a language whose count (or the collection's) moved by a quarter since its
  centre was last checked is checked: if the new centre would move its stored
  ``centered`` vectors by more than ``tolerance`` (centering.RECENTRE_TOLERANCE),
  it gets the new centre and those vectors are rewritten from the raw ones (no
  re-encoding), so every point of a language shares one centre;
- the statistics live in the collection metadata; with ``defer_save`` an
  embedded store keeps them in memory until its flush (EdgeStore.set_meta), and
  statistics a dead process left pending are recomputed on first use.

Concurrent writers on a server store race on the metadata (read-modify-write);
``recompute`` rebuilds exact means from a full scan (``xsearch recenter``).
"""

from __future__ import annotations

import copy
import logging
import threading
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from xsearch.ranking.centering import META_KEY, RECENTRE_TOLERANCE, LanguageMeans
from xsearch.ranking.lexical import document_vector
from xsearch.store.base import (
    CENTERED,
    DENSE,
    LEXICAL,
    PointRecord,
    ScoredPoint,
    SearchFilter,
    Store,
    stats_pending,
)

_REWRITE_CHUNK = 256
log = logging.getLogger(__name__)


class RankingData:
    """``defer_save``: statistics saved with ``set_meta(defer=True)`` (an embedded
    store then writes them on its flush; see EdgeStore.set_meta). A collection
    whose metadata file says its statistics were left pending by a process that
    died is recomputed from its points on first use (``means``).
    ``tolerance``: see ``centering.RECENTRE_TOLERANCE`` (0: re-centre at every check).
    """

    def __init__(
        self,
        store: Store,
        dimension: int,
        *,
        defer_save: bool = False,
        tolerance: float = RECENTRE_TOLERANCE,
    ) -> None:
        self.store = store
        self.dimension = dimension
        self.defer_save = defer_save
        self.tolerance = tolerance
        self._lock = threading.RLock()  # recompute may run inside replace (means)
        # collection -> (the metadata's statistics object, its parse): parsing
        # hundreds of floats per language on every document written cost ~1% of
        # the API's CPU; the cache holds while the metadata holds the same object
        self._parsed: dict[str, tuple[object, LanguageMeans]] = {}
        self.rewrites = 0  # languages re-centred (centred vectors rewritten)
        self.checks = 0  # stale languages checked (rewritten or not)

    def means(self, collection: str) -> LanguageMeans:
        """The collection's statistics, shared: read them, never change them (see
        ``_editable``). Recomputed first when a crash left them pending."""
        meta = self.store.get_meta(collection)
        if stats_pending(meta):
            with self._lock:
                meta = self.store.get_meta(collection)
                if stats_pending(meta):
                    log.warning(
                        "collection %r: its language statistics were not saved before "
                        "the last process stopped; recomputing them from the points",
                        collection,
                    )
                    self.recompute(collection)
                    meta = self.store.get_meta(collection)
        raw = meta.get(META_KEY)
        hit = self._parsed.get(collection)
        if hit is not None and hit[0] is raw:
            return hit[1]
        means = LanguageMeans.from_meta(meta, self.dimension)
        self._parsed[collection] = (raw, means)
        return means

    def _editable(self, collection: str) -> LanguageMeans:
        """A copy of the statistics to change and ``_save`` (a failure before the save
        leaves the shared ones untouched)."""
        return copy.deepcopy(self.means(collection))

    def _save(self, collection: str, means: LanguageMeans, *, now: bool = False) -> None:
        meta = dict(self.store.get_meta(collection))
        meta[META_KEY] = raw = means.to_meta()
        self.store.set_meta(collection, meta, defer=self.defer_save and not now)
        self._parsed[collection] = (raw, means)

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
            means = self._editable(collection)
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
            means = self._editable(collection)
            for lang, vecs in _by_lang(old).items():
                means.remove(lang, vecs)
            for lang, vecs in _by_lang(new).items():
                means.add(lang, vecs)
            stale = self._recentre(means)
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
            means = self._editable(collection)
            for lang, vecs in _by_lang(points).items():
                means.add(lang, vecs)
            stale = self._recentre(means)
            self._save(collection, means)
            for lang in stale:
                self._rewrite(collection, lang, means)
            return stale

    def _recentre(self, means: LanguageMeans) -> list[str]:
        """Check the stale languages; those whose centre moved (beyond the tolerance)."""
        stale = means.stale()
        moved = [lang for lang in stale if means.recentre(lang, self.tolerance)]
        self.checks += len(stale)
        self.rewrites += len(moved)
        return moved

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
            self._save(collection, means, now=True)  # clears a pending mark for good
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
