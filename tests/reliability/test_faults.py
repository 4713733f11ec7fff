"""The fault suite (issue 12): kill -9 of the server during concurrent writes, a
truncated WAL, a damaged segment, a killed model build; each followed by the
consistency checker. (A full disk: tests/reliability/test_writes_api.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.api.server import home_with_bundle, running_server, serve_env
from tests.indexer.conftest import make_docs
from xsearch.consistency import check_collection, repair_collection
from xsearch.errors import BundleError, StoreError
from xsearch.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def _settings(home: Path) -> Settings:
    return Settings(home=home, _env_file=None, threads=1)  # type: ignore[call-arg]


def _check_and_repair(home: Path, collection: str, acknowledged: set[str]) -> None:
    """Every acknowledged document is whole; what is not (in-flight writes) is found
    by the checker and repaired, after which the collection is consistent."""
    from xsearch.store import open_store

    with open_store(_settings(home)) as store:
        report = check_collection(store, collection)
        assert not acknowledged & set(report.bad_documents()), report.to_json()
        state = store.document_state(collection, sorted(acknowledged))
        assert set(state) == acknowledged, acknowledged - set(state)
        dim = int(store.get_meta(collection)["dimension"])
        after = repair_collection(store, collection, dim)
        assert after.ok, after.to_json()
        assert set(store.document_state(collection, sorted(acknowledged))) == acknowledged


def test_kill_9_of_the_server_during_concurrent_writes(tmp_path: Path, tiny_bundle: Path) -> None:
    home = home_with_bundle(tmp_path / "home", tiny_bundle)
    acked: dict[str, set[str]] = {"a": set(), "b": set()}
    enough = threading.Event()
    stop = threading.Event()
    errors: list[str] = []

    def writer(url: str, collection: str, worker: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            for batch in range(1000):
                if stop.is_set():
                    return
                docs = make_docs(4, seed=worker * 1000 + batch, long_every=2)
                for d in docs:
                    d["id"] = f"w{worker}-{batch}-{d['id']}"
                try:
                    r = http.post(f"/collections/{collection}/documents", json={"documents": docs})
                except httpx.TransportError:
                    return  # the server died under us: that write is not acknowledged
                if r.status_code != 200:
                    errors.append(r.text)
                    return
                for res in r.json()["results"]:
                    if res["status"] == "indexed":
                        acked[collection].add(res["id"])
                if sum(map(len, acked.values())) >= 40:
                    enough.set()

    with running_server(serve_env(home, tiny_bundle.name)) as (url, proc):
        threads = [
            threading.Thread(target=writer, args=(url, "ab"[i % 2], i)) for i in range(4)
        ]
        for t in threads:
            t.start()
        assert enough.wait(120), errors
        proc.send_signal(signal.SIGKILL)  # in the middle of the writers' next batches
        proc.wait(30)
        stop.set()
        for t in threads:
            t.join(60)
    assert not errors, errors[:3]
    # the dead server's lock is gone with it (flock): the store opens; the lock file
    # still names the dead pid, which must not matter
    for collection, ids in acked.items():
        _check_and_repair(home, collection, ids)


KILL_AFTER_WRITE = """
import os, signal, sys
from pathlib import Path
from xsearch.documents import Document
from xsearch.runtime import Engine
from xsearch.settings import Settings
from tests.indexer.conftest import make_docs
s = Settings(home=Path(sys.argv[1]), _env_file=None, threads=1)
eng = Engine.open(s, bundle=sys.argv[2])
res = eng.indexer.index_documents("c", [Document.from_dict(d) for d in make_docs(40)])
print(",".join(r.id for r in res if r.status == "indexed"), flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no flush, no close: the WAL holds the writes
"""


def _write_then_die(home: Path, bundle: Path) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_WRITE, str(home), str(bundle)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert out.returncode == -signal.SIGKILL, out.stderr
    return set(out.stdout.strip().split(","))


def test_truncated_wal(tmp_path: Path, tiny_bundle: Path) -> None:
    """A WAL cut in the middle (a crash while it was being written, a bad disk): the
    store opens with what the WAL still holds, or says clearly that it cannot; the
    checker finds the documents left incomplete and the repair makes it whole."""
    home = tmp_path / "home"
    written = _write_then_die(home, tiny_bundle)
    assert len(written) == 40
    wal = home / "store" / "c" / "shard" / "wal" / "open-1"
    data = wal.read_bytes()
    used = len(data.rstrip(b"\0"))
    assert used > 10_000
    with open(wal, "r+b") as fh:  # keep the first half of what was logged
        fh.seek(used // 2)
        fh.write(b"\0" * (used - used // 2))
    from xsearch.store import open_store

    try:
        with open_store(_settings(home)) as store:
            report = check_collection(store, "c")
            dim = int(store.get_meta("c")["dimension"])
            after = repair_collection(store, "c", dim)
            assert after.ok, after.to_json()
            kept = set(store.document_state("c", sorted(written)))
    except StoreError as err:  # refusing to open is fine, if it says what to do
        assert "store" in str(err) and ("re-index" in str(err) or "restore" in str(err))
        return
    # What survived is whole (repair removed any incomplete rest). With Qdrant Edge
    # 0.9 the segments (mmap) usually hold every applied write already, so all 40
    # often survive; the WAL's second half then only replays what is there.
    assert kept <= written and kept, report.to_json()


def test_damaged_segment_is_a_clear_store_error(tmp_path: Path, tiny_bundle: Path) -> None:
    from xsearch.runtime import Engine

    home = tmp_path / "home"
    with Engine.open(_settings(home), bundle=str(tiny_bundle)) as eng:
        from xsearch.documents import Document

        eng.indexer.index_documents("c", [Document.from_dict(d) for d in make_docs(5)])
    segment = next((home / "store" / "c" / "shard" / "segments").iterdir())
    (segment / "segment.json").write_text('{"version', encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "xsearch.cli.main", "check", "-c", "c"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO), "XSEARCH_HOME": str(home)},
    )
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert "cannot open the embedded store" in out.stderr and "segment.json" in out.stderr
    assert "re-index" in out.stderr


BUILD = """
import sys
from pathlib import Path
from xsearch.bundle import build_bundle
print("STARTED", flush=True)
build_bundle(sys.argv[1], name="again", home=Path(sys.argv[2]), force=True)
print("BUILT", flush=True)
"""


def _wait_for_stage(proc: subprocess.Popen[str], models: Path, stage: str) -> Path:
    """The build's work folder once ``stage`` is reached in it ("work": the folder
    exists; "fp32": the exported ONNX graph is being written), the build still
    running. Polls the file system: the build's own stages, not a guess of times."""
    from xsearch.bundle.build import VARIANT_FILES

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the build ended before reaching the stage"
        for work in models.glob("again.tmp-*"):
            if stage == "work" or (work / "bundle" / VARIANT_FILES["fp32"]).exists():
                return work
        time.sleep(0.005)
    raise AssertionError(f"the build did not reach stage {stage!r} in 120 s")


@pytest.mark.parametrize("stage", ["work", "fp32"])
def test_killed_model_build(
    tmp_path: Path, tiny_bundle: Path, tiny_st_model_dir: Path, stage: str
) -> None:
    """A model build killed mid-way (when its work folder appears; when it writes the
    fp32 graph) leaves no bundle that loads half-made: the name is absent (a
    BundleError), the next build succeeds and sweeps the dead build's work folder,
    and the collections next to it are untouched (checker clean)."""
    from xsearch.bundle import build_bundle, verify_bundle
    from xsearch.documents import Document
    from xsearch.encoder import Encoder
    from xsearch.runtime import Engine

    home = home_with_bundle(tmp_path / "home", tiny_bundle)
    with Engine.open(_settings(home), bundle=str(tiny_bundle)) as eng:
        eng.indexer.index_documents("c", [Document.from_dict(d) for d in make_docs(8)])
    proc = subprocess.Popen(
        [sys.executable, "-c", BUILD, str(tiny_st_model_dir), str(home)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "STARTED"
    try:
        work = _wait_for_stage(proc, home / "models", stage)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL  # killed, not finished
    assert work.exists()  # killed mid-way: the dead build's work folder is left
    target = home / "models" / "again"
    assert not target.exists()  # never renamed into place half-made
    with pytest.raises(BundleError):
        Encoder.load(target)
    build_bundle(str(tiny_st_model_dir), name="again", home=home, force=True)
    verify_bundle(target)
    Encoder.load(target).encode(["ok"], "query")
    assert not list((home / "models").glob("again.tmp-*"))  # swept: no work folder left
    from xsearch.store import open_store

    with open_store(_settings(home)) as store:
        assert check_collection(store, "c").ok
        assert check_collection(store, "c").documents == 8
