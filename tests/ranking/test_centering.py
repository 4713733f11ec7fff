"""Language means, centres and spread scales (xsearch.ranking.centering)."""

from __future__ import annotations

import numpy as np
import pytest

from xsearch.ranking.centering import LanguageMeans

DIM = 32


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _language(rng: np.random.Generator, offset: np.ndarray, spread: float, n: int) -> np.ndarray:
    """Unit vectors around a language direction, ``spread`` = how loose they are."""
    return _unit(offset + spread * rng.normal(size=(n, DIM)) / np.sqrt(DIM))


@pytest.fixture
def two_languages() -> tuple[LanguageMeans, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    base = rng.normal(size=DIM)
    data = {
        "tight": _language(rng, base + 2.0 * rng.normal(size=DIM), 1.0, 400),
        "loose": _language(rng, base + 2.0 * rng.normal(size=DIM), 4.0, 400),
    }
    means = LanguageMeans(DIM)
    for lang, v in data.items():
        means.add(lang, v)
    for lang in data:
        means.move_centre(lang)
    return means, data


def test_in_language_order_is_exactly_the_dense_order(two_languages) -> None:  # noqa: ANN001
    means, data = two_languages
    q = _unit(np.random.default_rng(1).normal(size=(5, DIM)))
    for lang, v in data.items():
        raw = q @ v.T
        centred = q @ means.centred(lang, v).T
        assert (np.argsort(-raw, axis=1) == np.argsort(-centred, axis=1)).all()


def test_language_offset_is_removed(two_languages) -> None:  # noqa: ANN001
    means, data = two_languages
    q = data["tight"][:50]  # queries that look like the tight language
    raw_gap = (q @ data["tight"].T).mean() - (q @ data["loose"].T).mean()
    cen_gap = (q @ means.centred("tight", data["tight"]).T).mean() - (
        q @ means.centred("loose", data["loose"]).T
    ).mean()
    assert raw_gap > 0.3  # raw: the query's own language wins by a wide margin
    assert abs(cen_gap) < 0.1 * raw_gap  # centred: the offset is (nearly) gone


def test_a_tight_language_is_scaled_up_a_loose_one_down(two_languages) -> None:  # noqa: ANN001
    means, data = two_languages
    tight, loose = means.langs["tight"], means.langs["loose"]
    assert tight.scale > 1.0 > loose.scale
    # a 10x difference in spread becomes a small one (shrinkage keeps a little)
    before = [float(np.mean(np.sum((v - v.mean(0)) ** 2, axis=1))) for v in data.values()]
    after = [
        float(np.mean(np.sum(means.centred(lang, v) ** 2, axis=1))) for lang, v in data.items()
    ]
    assert before[1] / before[0] > 8
    assert after[1] / after[0] == pytest.approx(1.0, abs=0.25)


def test_a_small_language_is_shrunk_towards_the_rest() -> None:
    rng = np.random.default_rng(2)
    base = rng.normal(size=DIM)  # languages differ far less than passages do
    big = _language(rng, base + 0.3 * rng.normal(size=DIM), 4.0, 500)
    one = _language(rng, base + 0.3 * rng.normal(size=DIM), 4.0, 1)
    means = LanguageMeans(DIM)
    means.add("big", big)
    means.add("one", one)
    means.move_centre("big")
    centre = means.move_centre("one")
    assert centre is not None
    # one passage: its centre is mostly the collection mean, not the passage itself
    mean_all = np.vstack([big, one]).mean(0)
    assert np.linalg.norm(centre - mean_all) < 0.5 * np.linalg.norm(centre - one[0])
    # 500 passages: the centre is (nearly) the language's own mean
    assert np.allclose(means.langs["big"].centre, big.mean(0), atol=2e-3)
    assert 0.7 < means.langs["one"].scale < 1.4  # pulled towards the typical spread


def test_metadata_round_trip_and_older_collections() -> None:
    rng = np.random.default_rng(3)
    means = LanguageMeans(DIM)
    means.add("en", _language(rng, rng.normal(size=DIM), 2.0, 20))
    means.move_centre("en")
    back = LanguageMeans.from_meta({"language_means": means.to_meta()}, DIM)
    assert back.langs["en"].scale == pytest.approx(means.langs["en"].scale)
    assert np.allclose(back.langs["en"].centre, means.langs["en"].centre)
    old = means.to_meta()
    del old["en"]["scale"]  # written before spread scaling existed
    legacy = LanguageMeans.from_meta({"language_means": old}, DIM)
    assert legacy.langs["en"].scale == 1.0  # consistent with the vectors it stored


def test_a_small_language_is_recentred_when_a_big_one_arrives() -> None:
    # issue 11: 50 German passages indexed first, then 1000 English ones. The German
    # centre was shrunk towards a collection mean of German alone and scaled by
    # German's spread; both change when English arrives although German did not grow.
    rng = np.random.default_rng(3)
    base = rng.normal(size=DIM)
    de = _language(rng, base + 2.0 * rng.normal(size=DIM), 2.0, 50)
    en = _language(rng, base + 2.0 * rng.normal(size=DIM), 2.0, 1000)
    means = LanguageMeans(DIM)
    means.add("de", de)
    assert means.stale() == ["de"]
    means.move_centre("de")
    assert means.stale() == []
    means.add("en", en[:5])  # the collection grew by 10%: nothing to rewrite yet
    assert means.stale() == ["en"]
    means.move_centre("en")
    assert means.stale() == []
    means.add("en", en[5:])
    assert sorted(means.stale()) == ["de", "en"]  # German too, though it did not change
    before = means.langs["de"].centre.copy()
    for lang in means.stale():
        means.move_centre(lang)
    assert means.stale() == [] and not np.allclose(before, means.langs["de"].centre)
    # the state survives the metadata round trip (and a collection from before
    # this field re-centres once)
    again = LanguageMeans.from_meta({"language_means": means.to_meta()}, DIM)
    assert again.stale() == []
    old = means.to_meta()
    for d in old.values():
        d.pop("all_n")
    assert sorted(LanguageMeans.from_meta({"language_means": old}, DIM).stale()) == ["de", "en"]
