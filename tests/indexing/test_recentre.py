"""A stale language is re-centred (its centred vectors rewritten) only when that
moves some centred score by more than the tolerance (centering.RECENTRE_TOLERANCE):
the bound holds, and writing in small batches with a tolerance leaves the stored
centred vectors within the tolerance of where re-centring at every check leaves them."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from tests.indexer.conftest import make_docs
from xsearch.documents import Document
from xsearch.ranking.centering import RECENTRE_TOLERANCE, LanguageMeans
from xsearch.runtime import Engine
from xsearch.settings import Settings
from xsearch.store.base import CENTERED

DIM = 32


def _unit(rng: np.random.Generator, n: int, offset: np.ndarray) -> np.ndarray:
    v = rng.normal(size=(n, DIM)) * 0.3 + offset
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def _means(rng: np.random.Generator) -> tuple[LanguageMeans, dict[str, np.ndarray]]:
    offsets = {lang: rng.normal(size=DIM) for lang in ("en", "de", "fr")}
    means = LanguageMeans(DIM)
    for lang, off in offsets.items():
        means.add(lang, _unit(rng, 4000, off))
    for lang in list(means.langs):
        means.move_centre(lang)
    return means, offsets


def _max_score_shift(
    before: tuple[np.ndarray, float], after: tuple[np.ndarray, float], points: np.ndarray
) -> float:
    """Largest change of a centred score over the points and 200 random unit queries."""
    rng = np.random.default_rng(1)
    q = rng.normal(size=(200, DIM))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    old = (points - before[0]) * before[1]
    new = (points - after[0]) * after[1]
    return float(np.abs(q @ (old - new).T).max())


def test_a_settled_language_is_not_recentred_and_the_bound_holds() -> None:
    rng = np.random.default_rng(0)
    means, offsets = _means(rng)
    s = means.langs["en"]
    old = (s.centre.copy(), s.scale)
    for lang, off in offsets.items():  # every language +30%: stale by count, same mix
        means.add(lang, _unit(rng, 1200, off))
    assert means.stale() == ["en", "de", "fr"]
    exact = copy.deepcopy(means)
    exact.move_centre("en")
    shift = _max_score_shift(
        old, (exact.langs["en"].centre, exact.langs["en"].scale), _unit(rng, 500, offsets["en"])
    )
    assert shift <= RECENTRE_TOLERANCE  # a settled language: a tiny move
    assert means.recentre("en") is False
    np.testing.assert_array_equal(s.centre, old[0])  # kept, vectors stay valid
    assert s.scale == old[1]
    assert s.centre_n == s.n and "en" not in means.stale()  # checked: next after +25%
    means.add("en", _unit(rng, 2000, offsets["en"]))
    assert means.recentre("en", tolerance=0) is True  # 0: always re-centred


def test_a_moving_language_is_recentred() -> None:
    rng = np.random.default_rng(0)
    means, offsets = _means(rng)
    means.add("en", _unit(rng, 2000, offsets["de"]))  # a third of it now sits elsewhere
    old = means.langs["en"].centre.copy()
    assert "en" in means.stale()
    assert means.recentre("en") is True
    assert float(np.linalg.norm(means.langs["en"].centre - old)) > RECENTRE_TOLERANCE


def test_small_batches_with_a_tolerance_stay_within_it_of_recentring_every_time(
    tmp_path: Path, tiny_bundle: Path
) -> None:
    """Two collections, the same documents in the same 5-document writes: one
    re-centred at every check (tolerance 0), one with a tolerance of 0.05 (ten
    times the default, so that checks are skipped with the tiny model's vectors).
    Every stored centred vector differs by at most the tolerance (per unit query)."""
    settings = Settings(home=tmp_path / "h", _env_file=None, threads=1)  # type: ignore[call-arg]
    tol = 0.05
    docs = [Document.from_dict(d) for d in make_docs(120, seed=3, long_every=4)]
    with Engine.open(settings, bundle=str(tiny_bundle)) as eng:
        ranking = eng.indexer.ranking
        checks: dict[str, tuple[int, int]] = {}
        for name, tolerance in (("exact", 0.0), ("tol", tol)):
            ranking.tolerance = tolerance
            ranking.checks = ranking.rewrites = 0
            for lo in range(0, len(docs), 5):
                eng.indexer.index_documents(name, docs[lo : lo + 5])
            checks[name] = (ranking.checks, ranking.rewrites)
        vecs = {
            name: {
                str(p.id): np.asarray((p.vectors or {})[CENTERED])
                for p in eng.store.scroll(name, with_vectors=True)
            }
            for name in ("exact", "tol")
        }
    assert checks["exact"][0] == checks["exact"][1] > 0  # every check re-centred
    assert checks["tol"][1] < checks["tol"][0]  # some checks skipped
    assert vecs["exact"].keys() == vecs["tol"].keys()
    worst = max(
        float(np.linalg.norm(vecs["exact"][i] - vecs["tol"][i])) for i in vecs["exact"]
    )
    # |q . (a - b)| <= |a - b| for a unit query: no centred score moved by more
    assert worst <= tol + 1e-5, worst
