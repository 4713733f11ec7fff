"""The language statistics of an embedded collection are saved at most every
XSEARCH_STATS_SAVE_S (and on close), not after every write; a process killed
while it held newer ones leaves ``stats.pending``, the checker says so, and the
next write (or the API server's start) recomputes them from the points."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.indexer.conftest import make_docs
from xsearch.consistency import check_collection
from xsearch.documents import Document
from xsearch.ranking.centering import META_KEY, LanguageMeans
from xsearch.runtime import Engine
from xsearch.settings import Settings
from xsearch.store.base import CENTERED, DENSE
from xsearch.store.edge import META_FILE, PENDING_FILE

REPO = Path(__file__).resolve().parents[2]


def _settings(home: Path, **kw: object) -> Settings:
    return Settings(home=home, _env_file=None, threads=1, **kw)  # type: ignore[call-arg]


def _docs(n: int, seed: int) -> list[Document]:
    docs = make_docs(n, seed=seed, long_every=3)
    for d in docs:
        d["id"] = f"s{seed}-{d['id']}"
    return [Document.from_dict(d) for d in docs]


def _on_disk(home: Path, collection: str) -> dict[str, int]:
    meta = json.loads((home / "store" / collection / META_FILE).read_text("utf-8"))
    return LanguageMeans.counts_from_meta(meta)


def test_statistics_are_saved_on_flush_and_close_not_per_write(
    tmp_path: Path, tiny_bundle: Path
) -> None:
    home = tmp_path / "home"
    with Engine.open(_settings(home), bundle=str(tiny_bundle)) as eng:
        for seed in range(3):
            eng.indexer.index_documents("c", _docs(6, seed))
        store = eng.store
        live = LanguageMeans.counts_from_meta(store.get_meta("c"))
        assert sum(live.values()) == store.count("c")  # this process sees them at once
        assert (home / "store" / "c" / PENDING_FILE).exists()
        assert _on_disk(home, "c") != live  # not written per write
        assert check_collection(store, "c").ok  # the owner's view is whole
        store.flush_meta()
        assert _on_disk(home, "c") == live
        assert not (home / "store" / "c" / PENDING_FILE).exists()
        eng.indexer.index_documents("c", _docs(4, 9))
        live = LanguageMeans.counts_from_meta(store.get_meta("c"))
    assert _on_disk(home, "c") == live  # close wrote them
    assert not (home / "store" / "c" / PENDING_FILE).exists()


def test_stats_save_0_writes_after_every_write(tmp_path: Path, tiny_bundle: Path) -> None:
    home = tmp_path / "home"
    with Engine.open(_settings(home, stats_save_s=0), bundle=str(tiny_bundle)) as eng:
        eng.indexer.index_documents("c", _docs(6, 0))
        assert _on_disk(home, "c") == LanguageMeans.counts_from_meta(eng.store.get_meta("c"))
        assert not (home / "store" / "c" / PENDING_FILE).exists()


KILL_AFTER_WRITES = """
import os, signal, sys
from pathlib import Path
from xsearch.documents import Document
from xsearch.runtime import Engine
from xsearch.settings import Settings
import numpy as np

from tests.indexer.conftest import make_docs
s = Settings(home=Path(sys.argv[1]), _env_file=None, threads=1)
eng = Engine.open(s, bundle=sys.argv[2])
for seed in range(3):
    docs = make_docs(6, seed=seed, long_every=3)
    for d in docs:
        d["id"] = f"k{seed}-{d['id']}"
    eng.indexer.index_documents("c", [Document.from_dict(d) for d in docs])
eng.store.flush_meta()  # what is on disk: the first 18 documents' statistics
docs = make_docs(6, seed=7, long_every=3)
eng.indexer.index_documents("c", [Document.from_dict(d) for d in docs])
os.kill(os.getpid(), signal.SIGKILL)  # no flush, no close: the last statistics are lost
"""


def _write_then_die(home: Path, bundle: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_WRITES, str(home), str(bundle)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert out.returncode == -signal.SIGKILL, out.stderr


def _assert_exact(store: object, collection: str) -> None:
    report = check_collection(store, collection)  # type: ignore[arg-type]
    assert report.ok, report.to_json()
    assert report.stats_languages == report.languages


def test_a_killed_writer_leaves_pending_statistics_recomputed_by_the_next_write(
    tmp_path: Path, tiny_bundle: Path
) -> None:
    home = tmp_path / "home"
    _write_then_die(home, tiny_bundle)
    assert (home / "store" / "c" / PENDING_FILE).exists()
    with Engine.open(_settings(home), bundle=str(tiny_bundle)) as eng:
        report = check_collection(eng.store, "c")
        assert not report.ok
        assert {f.kind for f in report.findings} == {"language_stats"}
        assert any("stopped before saving" in f.detail for f in report.findings)
        assert report.stats_languages != report.languages  # the lost statistics
        eng.indexer.index_documents("c", _docs(2, 11))  # recomputed first, then counted
        _assert_exact(eng.store, "c")
        # every centred vector is its raw vector minus the (recomputed) saved centre
        means = eng.indexer.ranking.means("c")
        for p in eng.store.scroll("c", with_vectors=True):
            vecs = p.vectors or {}
            want = means.centred(str(p.payload["lang"]), np.asarray(vecs[DENSE]))
            np.testing.assert_allclose(vecs[CENTERED], want, atol=1e-5)
    assert not (home / "store" / "c" / PENDING_FILE).exists()
    meta = json.loads((home / "store" / "c" / META_FILE).read_text("utf-8"))
    assert META_KEY in meta and "stats_pending" not in meta


def test_the_api_server_recomputes_pending_statistics_at_start(
    tmp_path: Path, tiny_bundle: Path
) -> None:
    from fastapi.testclient import TestClient
    from xsearch.api.app import create_app

    home = tmp_path / "home"
    _write_then_die(home, tiny_bundle)
    eng = Engine.open(_settings(home), bundle=str(tiny_bundle))
    try:
        with TestClient(create_app(engine=eng)) as client:
            # before any write: the start recomputed them (searches read the counts)
            _assert_exact(eng.store, "c")
            assert client.get("/collections/c").status_code == 200
    finally:
        eng.close()
    assert not (home / "store" / "c" / PENDING_FILE).exists()
