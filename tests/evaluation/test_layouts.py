"""Corpus shapes of `xsearch eval qa --layout` and the skewed bitext pool (`eval pool`).

Placement and pool construction are pure; the evaluations run through the
product path (indexing service, Edge store, Searcher) with the tiny random bundle.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from xsearch.errors import InputError, XSearchError
from xsearch.evaluation import pool as P
from xsearch.evaluation import qa as Q
from xsearch.evaluation.bitext import read_tsv
from xsearch.evaluation.cache import CachedEncoder
from xsearch.evaluation.qa_data import QAData, Question, load_qa
from xsearch.settings import Settings


def _data(n_par: int, langs: list[str]) -> QAData:
    paragraphs = {str(i): {x: f"paragraph {i} in {x}" for x in langs} for i in range(n_par)}
    questions = [Question(str(i), str(i), {x: f"q {i} {x}" for x in langs}) for i in range(n_par)]
    return QAData(langs, paragraphs, questions, "synthetic", n_par, n_par)


LANGS = ["en", "de", "fr", "zh", "ar"]


def test_parallel_keeps_every_paragraph_in_every_language() -> None:
    where = Q.placement(_data(10, LANGS), "parallel")
    assert all(v == LANGS for v in where.values()) and len(where) == 10


def test_disjoint_keeps_each_paragraph_in_one_language_round_robin() -> None:
    where = Q.placement(_data(23, LANGS), "disjoint")
    assert all(len(v) == 1 for v in where.values())
    counts = Counter(v[0] for v in where.values())
    assert set(counts) == set(LANGS) and max(counts.values()) - min(counts.values()) <= 1
    assert where["0"] == ["en"] and where["1"] == ["de"] and where["5"] == ["en"]


def test_skewed_gives_half_to_the_dominant_language_and_shares_the_rest() -> None:
    where = Q.placement(_data(40, LANGS), "skewed")
    counts = Counter(v[0] for v in where.values())
    assert counts["en"] == 20 and sum(counts.values()) == 40
    assert {counts[x] for x in LANGS[1:]} == {5}
    other = Q.placement(_data(40, LANGS), "skewed", dominant="zh")
    assert Counter(v[0] for v in other.values())["zh"] == 20
    with pytest.raises(XSearchError, match="dominant"):
        Q.placement(_data(4, LANGS), "skewed", dominant="ja")
    with pytest.raises(XSearchError, match="layout"):
        Q.placement(_data(4, LANGS), "shuffled")


def _synthetic(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    topics = ["rivers and lakes", "football scores", "bread baking", "planet orbits",
              "violin concerts", "tax returns"]  # fmt: skip
    langs = ["en", "de", "fr"]
    with (tmp_path / "parallel_paragraphs.jsonl").open("w") as fh:
        for pid, t in enumerate(topics):
            ctx = {x: f"A paragraph about {t}, written in {x}." for x in langs}
            fh.write(json.dumps({"pid": pid, "context": ctx}) + "\n")
    with (tmp_path / "parallel_questions.jsonl").open("w") as fh:
        for pid, t in enumerate(topics):
            q = {x: f"A paragraph about {t}, written in {x}." for x in langs}
            fh.write(json.dumps({"qid": str(pid), "pid": pid, "question": q}) + "\n")
    return tmp_path


def test_every_layout_through_the_product_path(tiny_bundle: Path, tmp_path: Path) -> None:
    from xsearch.encoder import Encoder

    data = load_qa(_synthetic(tmp_path / "data"))
    enc = CachedEncoder(Encoder.load(tiny_bundle), tmp_path / "cache.npz")
    report = Q.evaluate_qa(
        data,
        enc,
        Settings(home=tmp_path / "home"),
        setting_names=["default", "dense"],
        matrix="none",
        layouts=Q.LAYOUTS,
    )
    assert report.layouts["parallel"]["documents"] == 18
    assert report.layouts["disjoint"]["documents"] == 6
    assert report.layouts["skewed"]["documents"] == 6
    for res in report.settings:
        assert set(res.layouts) == set(Q.LAYOUTS) and not res.matrix
        for name, m in res.layouts.items():
            assert 0.0 <= m.recall_1 <= m.recall_10 <= 1.0, name
            assert 0.0 < m.mrr_10 <= 1.0 and 0.0 <= m.same_share <= 1.0
        assert res.mixed is res.layouts["parallel"]
    # disjoint: one relevant document, so recall@1 is the share of queries answered first
    d = report.settings[0].layouts["disjoint"]
    assert d.recall_1 <= d.mrr_10
    # the cache saw every paragraph once per layout but encoded each text once
    enc.save()
    again = CachedEncoder(Encoder.load(tiny_bundle), tmp_path / "cache.npz")
    text = data.paragraphs[next(iter(data.paragraphs))]["de"]
    cached = again.encode([text], "passage")
    assert np.array_equal(cached, enc.encode([text], "passage"))  # read back from the file
    fresh = enc._enc.encode([text], "passage")  # int8: batch-dependent in the 3rd decimal
    assert float(cached[0] @ fresh[0]) > 0.99
    assert len(again._mem) >= 18  # 18 paragraphs (+ passages, questions)


def _tsv(path: Path, lang: str, n: int) -> Path:
    rows = [f"{lang} sentence number {i}\tEnglish sentence number {i} ({lang})" for i in range(n)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_pool_is_built_from_bitext_sharing_one_language(tmp_path: Path) -> None:
    sets = [read_tsv(_tsv(tmp_path / f"{x}-eng.tsv", x, 30)) for x in ("deu", "fra", "cmn")]
    pool = P.build_pool(sets, per_lang=5, distractors=40)
    assert pool.pivot == "en" and len(pool.queries) == 15
    assert Counter(pool.answer_langs) == {"de": 5, "fr": 5, "zh": 5}
    langs = Counter(d.lang for d in pool.docs)
    assert langs["en"] == pool.n_distractors == 40
    distractors = {d.text for d in pool.docs if d.lang == "en"}
    assert not distractors & set(pool.queries)  # a query never meets itself
    by_id = {d.id: d for d in pool.docs}
    pairs = zip(pool.answers, pool.answer_langs, strict=True)
    assert all(by_id[a].lang == lang for a, lang in pairs)
    with pytest.raises(InputError, match="sharing exactly one language"):
        P.build_pool(sets[:1])


def test_pool_through_the_product_path(tiny_bundle: Path, tmp_path: Path) -> None:
    from xsearch.encoder import Encoder

    sets = [read_tsv(_tsv(tmp_path / f"{x}-eng.tsv", x, 20)) for x in ("deu", "fra")]
    pool = P.build_pool(sets, per_lang=4, distractors=10)
    report = P.evaluate_pool(
        pool, Encoder.load(tiny_bundle), Settings(home=tmp_path / "home"),
        setting_names=["default", "dense", "centered"],
    )  # fmt: skip
    assert report.n_documents == 18 and report.n_queries == 8
    for res in report.settings:
        assert res.supported
        m = res.layouts["pool"]
        assert 0.0 <= m.recall_1 <= m.mrr_10 <= m.recall_10 <= 1.0
        assert 0.0 <= m.same_share <= 1.0 and set(m.per_lang) == {"de", "fr"}


def test_the_cache_follows_the_prompt_not_its_kind(tiny_bundle: Path, tmp_path: Path) -> None:
    """A bundle whose manifest changes a prompt keeps its model files; the cache
    must not hand back vectors made with the old prompt."""
    from xsearch.encoder import Encoder

    enc = CachedEncoder(Encoder.load(tiny_bundle), tmp_path / "cache.npz")
    text = "Die Kirschbäume blühen in Tokio."
    as_passage = enc.encode([text], "passage")
    as_query = enc.encode([text], "query")
    assert float(as_passage[0] @ as_query[0]) < 0.9999  # the prompts differ, so do the vectors
    enc._enc.prompts["passage"] = enc._enc.prompts["query"]
    assert np.array_equal(enc.encode([text], "passage"), as_query)  # the query prompt's vector
