"""QA evaluation through the product path (indexing service, Edge store, Searcher).

The tiny random bundle checks the mechanics: the metrics come out of real
searches and agree with what the same searches return. The real bundle (slow)
checks quality on a small XQuAD subset (a few paragraphs, 3 languages).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from xsearch.evaluation import metrics as M
from xsearch.evaluation import qa as Q
from xsearch.evaluation.qa_data import load_qa
from xsearch.settings import Settings

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
XQUAD = DATA / "xquad"


def _synthetic(tmp_path: Path) -> Path:
    """Paragraph p in 3 'languages' (the same text) and a question that repeats it."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    topics = ["rivers and lakes", "football scores", "bread baking", "planet orbits",
              "violin concerts", "tax returns"]  # fmt: skip
    langs = ["en", "de", "fr"]
    with (tmp_path / "parallel_paragraphs.jsonl").open("w") as fh:
        for pid, t in enumerate(topics):
            ctx = {lang: f"A paragraph about {t}, written in {lang}." for lang in langs}
            fh.write(json.dumps({"pid": pid, "context": ctx}) + "\n")
    with (tmp_path / "parallel_questions.jsonl").open("w") as fh:
        for pid, t in enumerate(topics):
            q = {lang: f"A paragraph about {t}, written in {lang}." for lang in langs}
            fh.write(json.dumps({"qid": str(pid), "pid": pid, "question": q}) + "\n")
    return tmp_path


def test_mechanics_with_tiny_bundle(tiny_bundle: Path, tmp_path: Path):
    from xsearch.encoder import Encoder

    data = load_qa(_synthetic(tmp_path / "data"))
    enc = Encoder.load(tiny_bundle)
    steps: list[str] = []
    report = Q.evaluate_qa(
        data,
        enc,
        Settings(home=tmp_path / "home"),
        setting_names=["default", "dense", "centered"],
        progress=lambda step, done, total: steps.append(step),
    )
    assert report.n_documents == 18 and report.n_passages >= 18
    default, dense, centered = report.settings
    assert default.supported and dense.supported
    # Today's engine ranks "dense" exactly like its default: reused, not recomputed.
    if dense.same_as:
        assert dense.same_as == "default" and dense.mixed is default.mixed
        assert not dense.seconds
    # The full matrix for the first setting, the diagonal for the next one.
    assert {(x, y) for x in default.matrix for y in default.matrix[x]} == {
        (x, y) for x in data.langs for y in data.langs
    }
    assert set(dense.matrix) == set(data.langs) and all(
        list(row) == [x] for x, row in dense.matrix.items()
    )
    for row in default.matrix.values():
        for pm in row.values():
            assert 0.0 <= pm.recall_1 <= pm.mrr_10 <= pm.recall_10 <= 1.0
    m = default.mixed
    assert m is not None and 0.0 < m.map <= 1.0
    assert m.blind_share == pytest.approx(1 / 3)
    assert 0.0 <= m.same_share <= 1.0 and set(m.per_lang) == set(data.langs)
    if not centered.supported:
        assert centered.reason and "centered" in centered.reason
    assert any(s.startswith("indexing") for s in steps) and any("mixed" in s for s in steps)
    # Nothing left behind in the user's home: the store was temporary.
    assert not (tmp_path / "home" / "store").exists()


def test_metrics_match_the_searches(tiny_bundle: Path, tmp_path: Path):
    """Recompute mAP and MRR from the Searcher's own answers: the runner adds nothing."""
    from xsearch.encoder import Encoder
    from xsearch.schemas import SearchRequest

    data = load_qa(_synthetic(tmp_path / "data"))
    enc = Encoder.load(tiny_bundle)
    with Q.temporary_engine(enc, Settings(home=tmp_path / "home")) as (indexer, searcher):
        Q.index_paragraphs(indexer, data)
        vectors = Q.encode_questions(searcher, data)
        default = Q.SETTINGS_BY_NAME["default"]
        mixed = Q.run_mixed(searcher, default, data, vectors, depth=18, workers=2)
        cell = Q.run_matrix(searcher, default, data, vectors, [("de", "fr")])["de"]["fr"]
        rr = []
        for i, q in enumerate(data.questions):
            req = SearchRequest(query=q.text["de"], collection=Q.COLLECTION, langs=["fr"])
            resp = searcher.search(req, vector=vectors["de"][i])
            assert {h.lang for h in resp.hits} == {"fr"}
            ids = [h.doc_id for h in resp.hits]
            rr.append(1 / (ids.index(f"{q.pid}-fr") + 1) if f"{q.pid}-fr" in ids else 0.0)
        assert cell.mrr_10 == pytest.approx(float(np.mean(rr)), abs=1e-6)
        aps = []
        for x in data.langs:
            for i, q in enumerate(data.questions):
                req = SearchRequest(query=q.text[x], collection=Q.COLLECTION, k=18, query_lang=x)
                resp = searcher.search(req, vector=vectors[x][i])
                ids = [h.doc_id for h in resp.hits]
                assert len(ids) == 18  # every document comes back at this depth
                relevant = {f"{q.pid}-{y}" for y in data.langs}
                ranks = [r for r, d in enumerate(ids, 1) if d in relevant]
                aps.append(sum((i + 1) / r for i, r in enumerate(ranks)) / 3)
    # The full ranking is retrieved, so mAP@18 here is the exact mAP.
    assert mixed.map == pytest.approx(float(np.mean(aps)), abs=1e-6)


@pytest.mark.slow
@pytest.mark.skipif(not XQUAD.is_dir(), reason="../shared/data/xquad is absent")
def test_xquad_subset_real_bundle(real_bundle: Path, real_settings: Settings, tmp_path: Path):
    from xsearch.encoder import Encoder

    data = load_qa(XQUAD, langs=["en", "de", "zh"], max_paragraphs=12)
    enc = Encoder.load(real_bundle, settings=real_settings)
    report = Q.evaluate_qa(
        data, enc, real_settings.model_copy(update={"home": tmp_path}), setting_names=["default"]
    )
    (res,) = report.settings
    mrr = {(x, y): res.matrix[x][y].mrr_10 for x in data.langs for y in data.langs}
    # multilingual-e5-small on 12 paragraphs: the right paragraph is nearly always first.
    assert min(mrr.values()) > 0.6, mrr
    assert np.mean([mrr[x, x] for x in data.langs]) > 0.85, mrr
    assert res.mixed is not None and res.mixed.map > 0.3
    # Independent check of one cell with plain numpy on the encoder's vectors.
    q_vecs = enc.encode([q.text["de"] for q in data.questions], kind="query")
    pids = list(data.paragraphs)
    p_vecs = enc.encode([data.paragraphs[p]["en"] for p in pids], kind="passage")
    order = np.argsort(-(q_vecs @ p_vecs.T), axis=1)[:, :10]
    ranked = [[pids[j] for j in row] for row in order]
    rel, n_rel = M.relevance_matrix(ranked, [{q.pid} for q in data.questions], 10)
    # The product path chunks long paragraphs and keeps a document's best passage,
    # so it may differ slightly from whole-paragraph vectors; not by much.
    assert res.matrix["de"]["en"].mrr_10 == pytest.approx(M.mrr_at_k(rel, 10), abs=0.1)


def test_full_matrix_for_named_settings_only(tiny_bundle: Path, tmp_path: Path):
    from xsearch.encoder import Encoder

    data = load_qa(_synthetic(tmp_path / "data"))
    enc = Encoder.load(tiny_bundle)
    settings = Settings(home=tmp_path / "home")
    with pytest.raises(ValueError, match="setting names"):
        Q.evaluate_qa(data, enc, settings, setting_names=["default"], matrix="default,nope")
    report = Q.evaluate_qa(
        data, enc, settings, setting_names=["default", "hybrid"], matrix="hybrid"
    )
    default, hybrid = report.settings
    full = {(x, y) for x in data.langs for y in data.langs}
    assert {(x, y) for x in hybrid.matrix for y in hybrid.matrix[x]} == full
    assert {(x, y) for x in default.matrix for y in default.matrix[x]} == {
        (x, x) for x in data.langs
    }
