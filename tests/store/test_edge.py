"""Edge-only behaviour: reopen, the one-process lock, crash recovery, the HNSW index."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from xsearch.errors import StoreLocked
from xsearch.settings import Settings
from xsearch.store import open_store
from xsearch.store.base import SearchFilter
from xsearch.store.edge import META_FILE, SHARD_DIR, EdgeStore

from .conftest import DIM, make_corpus, spec

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_open_store_picks_edge_by_default(tmp_path):
    s = open_store(Settings(home=tmp_path, qdrant_url=None))
    assert isinstance(s, EdgeStore) and s.kind == "edge"
    assert s.root == tmp_path / "store"
    s.close()


def test_meta_and_points_survive_reopen(tmp_path, corpus):
    s = EdgeStore(tmp_path)
    s.create_collection(spec("news"))
    s.upsert("news", corpus.points)
    s.set_meta("news", {**s.get_meta("news"), "lang_means": {"en": [0.25] * DIM}})
    s.close()
    s = EdgeStore(tmp_path)
    assert s.list_collections() == ["news"]
    assert s.get_meta("news")["lang_means"] == {"en": [0.25] * DIM}
    assert s.count("news") == len(corpus.points)
    assert s.query("news", corpus.vectors[3], k=1)[0].id == corpus.points[3].id
    s.close()
    # the sidecar is plain JSON next to the shard
    meta = json.loads((tmp_path / "news" / META_FILE).read_text())
    assert meta["bundle"] == "bundle-a" and (tmp_path / "news" / SHARD_DIR).is_dir()


def test_interrupted_creation_is_completed_on_first_use(tmp_path, corpus):
    s = EdgeStore(tmp_path)
    s.create_collection(spec("c"))
    s.close()
    import shutil

    shutil.rmtree(tmp_path / "c" / SHARD_DIR)  # as if killed between sidecar and shard
    s = EdgeStore(tmp_path)
    s.upsert("c", corpus.points[:5])
    assert s.count("c") == 5
    s.close()


LOCK_CHILD = """
import sys
from pathlib import Path
from xsearch.errors import StoreLocked
from xsearch.store.edge import EdgeStore
s = EdgeStore(Path(sys.argv[1]))
try:
    print("COUNT", s.count("news"))
except StoreLocked as err:
    print("LOCKED", err.code, str(err))
s.close()
"""


def test_second_process_gets_store_locked(tmp_path, corpus):
    s = EdgeStore(tmp_path)
    s.create_collection(spec("news"))
    s.upsert("news", corpus.points[:20])
    out = _run(LOCK_CHILD, str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "LOCKED store_locked" in out.stdout
    # the holder named by pid and command (issue 12: it used to guess "probably xsearch serve")
    assert f"in use by process {os.getpid()} (`" in out.stdout and "pytest" in out.stdout
    assert "XSEARCH_QDRANT_URL" in out.stdout and "--api URL" in out.stdout
    s.close()
    out = _run(LOCK_CHILD, str(tmp_path))  # released: the other process can open it now
    assert "COUNT 20" in out.stdout, out.stdout + out.stderr


def test_lock_error_in_process(tmp_path):
    a = EdgeStore(tmp_path)
    a.create_collection(spec("c"))
    b = EdgeStore(tmp_path)
    with pytest.raises(StoreLocked):
        b.count("c")
    a.close()
    assert b.count("c") == 0
    b.close()


KILL_CHILD = """
import os, signal, sys
from pathlib import Path
from tests.store.conftest import make_corpus, spec
from xsearch.store.edge import EdgeStore
c = make_corpus(200, seed=3)
s = EdgeStore(Path(sys.argv[1]))
s.create_collection(spec("c"))
s.upsert("c", c.points)
print("ACK", len(c.points), flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no close(), no flush()
"""


def test_acknowledged_points_survive_sigkill(tmp_path):
    out = _run(KILL_CHILD, str(tmp_path))
    assert out.returncode == -signal.SIGKILL, out.stderr
    n = int(out.stdout.split("ACK")[1].split()[0])
    s = EdgeStore(tmp_path)
    assert s.count("c") == n
    c = make_corpus(200, seed=3)
    assert s.query("c", c.vectors[10], k=1, exact=True)[0].id == c.points[10].id
    s.close()


def test_optimize_builds_hnsw_and_keeps_answers(tmp_path):
    # A tiny indexing threshold makes Qdrant build HNSW even for this small set.
    c = make_corpus(400, seed=11)
    s = EdgeStore(tmp_path, indexing_threshold_kb=1, hnsw_ef=64)
    s.create_collection(spec("c"))
    s.upsert("c", c.points)
    assert not s.stats("c").indexed
    s.optimize("c")
    st = s.stats("c")
    assert st.indexed and st.points == len(c.points) and st.disk_bytes and st.disk_bytes > 0
    rng = np.random.default_rng(0)
    hits = 0
    flt = SearchFilter(langs=["de"])
    keep = np.array([p.payload["lang"] == "de" for p in c.points])
    for q in c.vectors[rng.choice(len(c.points), 20, replace=False)]:
        approx = [r.id for r in s.query("c", q, k=10, flt=flt)]
        scores = np.where(keep, c.vectors @ q, -np.inf)
        exact = {c.points[i].id for i in np.argsort(-scores)[:10]}
        hits += len(exact & set(approx))
        assert all(r.payload["lang"] == "de" for r in s.query("c", q, k=10, flt=flt))
    assert hits / 200 >= 0.9
    s.close()


NEW_COLLECTION_CHILD = """
import sys
from pathlib import Path
from xsearch.errors import StoreLocked
from xsearch.store.base import CollectionSpec
from xsearch.store.edge import EdgeStore
s = EdgeStore(Path(sys.argv[1]))
print("NAMES", s.list_collections())  # reading names needs no lock
try:
    s.create_collection(CollectionSpec("fresh", 8, "fp", "tiny"))
    print("CREATED")
except StoreLocked as err:
    print("LOCKED", str(err))
s.close()
"""


def test_one_lock_for_the_whole_store(tmp_path, corpus):
    """Issue 12 #5: a second process could write any collection the owner had not
    opened yet; now the store is locked as a whole, and no sidecar is written."""
    s = EdgeStore(tmp_path)
    s.create_collection(spec("news"))
    out = _run(NEW_COLLECTION_CHILD, str(tmp_path))
    assert "NAMES ['news']" in out.stdout, out.stdout + out.stderr
    assert f"LOCKED the embedded store at {tmp_path} is in use by process {os.getpid()}" in (
        out.stdout
    ), out.stdout + out.stderr
    assert not (tmp_path / "fresh").exists()
    s.close()


def test_same_process_shares_the_store_lock(tmp_path, corpus):
    a, b = EdgeStore(tmp_path), EdgeStore(tmp_path)
    a.create_collection(spec("one"))
    b.create_collection(spec("two"))  # another collection, same process: no StoreLocked
    a.close()
    b.upsert("two", corpus.points[:3])
    assert b.count("two") == 3
    b.close()
    out = _run(LOCK_CHILD.replace("news", "two"), str(tmp_path))
    assert "COUNT 3" in out.stdout, out.stdout + out.stderr


def test_damaged_sidecar_is_a_store_error_naming_the_file(tmp_path):
    """Issue 12 #8: a damaged collection.json raised a raw JSONDecodeError."""
    from xsearch.errors import StoreError

    s = EdgeStore(tmp_path)
    s.create_collection(spec("c"))
    s.close()
    (tmp_path / "c" / "collection.json").write_text('{"format": "xsearch-coll', "utf-8")
    s = EdgeStore(tmp_path)
    with pytest.raises(StoreError) as info:
        s.count("c")
    assert str(tmp_path / "c" / "collection.json") in str(info.value)
    assert "damaged" in str(info.value) and "re-index" in str(info.value)
    s.close()
