"""The bulk pipeline in-process: rejects, idempotence, shards, duplicates, optimize."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from xsearch.indexer.pipeline import Pipeline, PipelineConfig, maybe_optimize
from xsearch.indexer.progress import QuietReporter, RunStats, summary_table
from xsearch.indexer.rejects import RejectSink, StrictStop
from xsearch.indexer.shard import Shard
from xsearch.indexer.sources import SourceOptions, plan_inputs

from tests.indexer.conftest import assert_same_collection, make_docs, snapshot, write_jsonl
from xsearch.documents import point_id
from xsearch.runtime import Engine
from xsearch.settings import Settings
from xsearch.store import SearchFilter


def run(
    engine: Engine,
    paths: list[Path],
    collection: str = "c",
    *,
    rejects: Path | None = None,
    strict: bool = False,
    shard: Shard | None = None,
    unit_passages: int = 64,
    stop: threading.Event | None = None,
    **opts: object,
) -> tuple[RunStats, RejectSink]:
    options = SourceOptions(**opts)  # type: ignore[arg-type]
    inputs = plan_inputs([str(p) for p in paths], options)
    config = PipelineConfig(collection, shard=shard, read_batch=16, unit_passages=unit_passages)
    with RejectSink(rejects, strict=strict) as sink:
        pipe = Pipeline(engine.indexer, inputs, options, config, sink, QuietReporter(), stop)
        return pipe.run(), sink


def test_good_documents_in_bad_ones_in_the_rejects_file(engine: Engine, tmp_path: Path) -> None:
    good = make_docs(30)
    # A 10 MB record. Its bulk sits in a metadata field: 10 MB of *text* would be
    # ~2M tokens, minutes of encoding even for the tiny model (the readers' test
    # passes a 10 MB text through intact). Reader, parser, hash, plan and store
    # all carry the full 10 MB here.
    text = "Ein großes Dokument über Flüsse und Berge. " * 20
    big = {"id": "big", "text": text, "raw_html": "<p>" + "x" * (10 * 1024 * 1024) + "</p>"}
    assert len(json.dumps(big).encode()) > 10 * 1024 * 1024
    lines = [json.dumps(d, ensure_ascii=False).encode() for d in good[:10]]
    lines += [b'{"id": "broken", "text": ', json.dumps({"id": "no-text"}).encode()]
    lines += [b'{"id": "bytes", "text": "\xff\xfe"}', json.dumps(big).encode()]
    lines += [json.dumps(d, ensure_ascii=False).encode() for d in good[10:]]
    src = tmp_path / "mixed.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    rejects = tmp_path / "rejects.jsonl"

    stats, sink = run(engine, [src], rejects=rejects, unit_passages=256)

    assert (stats.read, stats.indexed, stats.rejected) == (34, 31, 3)
    rows = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["line"], r["source"]) for r in rows] == [
        (11, str(src)),
        (12, str(src)),
        (13, str(src)),
    ]
    assert "invalid JSON" in rows[0]["reason"] and "missing text" in rows[1]["reason"]
    assert "undecodable" in rows[2]["reason"] and rows[2]["raw"].startswith('{"id": "bytes"')
    store = engine.store
    head = store.retrieve("c", [point_id("big", 0)])[0].payload
    assert head["meta"]["raw_html"] == big["raw_html"]
    assert head["n_passages"] == store.count("c", SearchFilter(doc_ids=["big"])) >= 1
    assert stats.passages == store.count("c")
    assert stats.encode_seconds > 0 and stats.wall_seconds >= stats.encode_seconds
    # every stage's own CPU is accounted (bench.indexing states their shares)
    assert set(stats.stage_cpu) == {"read", "plan", "encode", "write"}
    assert stats.stage_cpu["encode"] > 0 and stats.stage_cpu["read"] > 0
    assert stats.to_json()["stage_cpu"].keys() == stats.stage_cpu.keys()
    assert "rejected" in "".join(str(c) for c in summary_table(stats).columns[0]._cells)


def test_strict_stops_at_the_first_reject(engine: Engine, tmp_path: Path) -> None:
    docs = make_docs(40, long_every=0)
    lines = [json.dumps(d) for d in docs[:20]] + ["{oops"] + [json.dumps(d) for d in docs[20:]]
    src = tmp_path / "s.jsonl"
    src.write_text("\n".join(lines) + "\n")
    with pytest.raises(StrictStop, match=r"s\.jsonl:21: invalid JSON") as info:
        run(engine, [src], strict=True)
    assert info.value.exit_code == 2
    # What was read before the bad line is written; nothing after it.
    assert engine.store.stats("c").documents == 20
    assert engine.store.count("c", SearchFilter(doc_ids=[d["id"] for d in docs[20:]])) == 0


@pytest.fixture(params=["edge", "server"])
def any_engine(request: pytest.FixtureRequest, tiny_bundle: Path, tmp_path: Path) -> Engine:
    """The embedded store, and qdrant-client's in-process mode standing in for a server."""
    url = ":memory:" if request.param == "server" else None
    settings = Settings(home=tmp_path / "h", qdrant_url=url, _env_file=None)  # type: ignore[call-arg]
    eng = Engine.open(settings, bundle=str(tiny_bundle))
    request.addfinalizer(eng.close)
    return eng


def test_rerun_is_idempotent_and_a_changed_file_rewrites_only_changes(
    any_engine: Engine, tmp_path: Path
) -> None:
    engine = any_engine
    docs = make_docs(60)
    src = write_jsonl(tmp_path / "d.jsonl", docs)
    first, _ = run(engine, [src])
    points = engine.store.count("c")
    assert first.indexed == 60 and first.passages == points

    again, _ = run(engine, [src])
    assert (again.indexed, again.unchanged, again.passages) == (0, 60, 0)
    assert engine.store.count("c") == points

    docs[0]["text"] = "Now a single short sentence."  # was a long, multi-passage document
    write_jsonl(src, docs)
    changed, _ = run(engine, [src])
    assert (changed.indexed, changed.unchanged) == (1, 59)
    assert changed.orphans > 0
    assert engine.store.count("c", SearchFilter(doc_ids=["doc-00000"])) == 1


def test_repeated_id_across_batches_leaves_the_last_version_and_no_orphans(
    any_engine: Engine, tmp_path: Path
) -> None:
    engine = any_engine
    docs = make_docs(50, long_every=0)
    first = {"id": "same", "text": " ".join(["Die Donau fließt durch Wien."] * 300)}
    last = {"id": "same", "text": "Kurz."}
    src = write_jsonl(tmp_path / "r.jsonl", [first, *docs, last])
    stats, _ = run(engine, [src])
    assert stats.indexed == 52
    assert engine.store.count("c", SearchFilter(doc_ids=["same"])) == 1
    assert engine.indexer.get_document("c", "same")["text"] == "Kurz."


def test_two_shards_give_the_same_collection_as_one_run(tiny_bundle: Path, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", make_docs(80))
    one = Settings(home=tmp_path / "one", _env_file=None)  # type: ignore[call-arg]
    two = Settings(home=tmp_path / "two", _env_file=None)  # type: ignore[call-arg]
    with Engine.open(one, bundle=str(tiny_bundle)) as eng:
        whole, _ = run(eng, [src])
    counts = []
    for i in range(2):
        with Engine.open(two, bundle=str(tiny_bundle)) as eng:
            part, _ = run(eng, [src], shard=Shard(i, 2))
            counts.append((part.indexed, part.other_shard))
    assert sum(c[0] for c in counts) == whole.indexed == 80
    assert counts[0][1] == counts[1][0] and counts[1][1] == counts[0][0]
    assert 0 < counts[0][0] < 80
    assert_same_collection(snapshot(one, "c"), snapshot(two, "c"))


class StopAfter(QuietReporter):
    """Sets the stop event (as the first Ctrl-C does) once ``n`` documents are written."""

    def __init__(self, stop: threading.Event, n: int) -> None:
        self.event, self.n = stop, n

    def update(self, stats: RunStats, bytes_read: int) -> None:
        if stats.indexed >= self.n:
            self.event.set()


def test_stop_finishes_the_units_in_flight_and_the_rerun_the_rest(
    engine: Engine, tmp_path: Path
) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", make_docs(400, long_every=0))
    options = SourceOptions()
    config = PipelineConfig("c", read_batch=16, unit_passages=32)
    stop = threading.Event()
    with RejectSink(None) as sink:
        pipe = Pipeline(
            engine.indexer,
            plan_inputs([str(src)], options),
            options,
            config,
            sink,
            StopAfter(stop, 50),
            stop,
        )
        stats = pipe.run()
    assert stats.interrupted and 50 <= stats.indexed < 400
    assert engine.store.stats("c").documents == stats.indexed
    rest, _ = run(engine, [src])
    assert (rest.unchanged, rest.indexed) == (stats.indexed, 400 - stats.indexed)


def test_optimize_after_a_large_load(tiny_bundle: Path, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h", optimize_threshold=50, _env_file=None)  # type: ignore[call-arg]
    src = write_jsonl(tmp_path / "d.jsonl", make_docs(80, long_every=0))
    with Engine.open(settings, bundle=str(tiny_bundle)) as eng:
        stats, _ = run(eng, [src])
        assert stats.passages > 50
        # (Edge keeps a collection this small on exact search even after optimize,
        # so the call itself is what is checked here.)
        assert maybe_optimize(eng.indexer, "c", stats) is True and stats.optimize_seconds > 0
        assert eng.store.count("c") == stats.passages
        again, _ = run(eng, [src])
        assert maybe_optimize(eng.indexer, "c", again) is False  # nothing written
    small = Settings(home=tmp_path / "h", optimize_threshold=10_000, _env_file=None)  # type: ignore[call-arg]
    with Engine.open(small, bundle=str(tiny_bundle)) as eng:
        stats.passages = 10  # a few documents added to a collection under the threshold
        assert maybe_optimize(eng.indexer, "c", stats) is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")
def test_side_stages_run_at_a_lower_priority_than_the_encoder(
    engine: Engine, tmp_path: Path
) -> None:
    seen: dict[str, int] = {}

    def priority() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    class Observed(Pipeline):
        def _plan(self, *args: Any) -> None:
            seen["plan"] = priority()
            super()._plan(*args)

        def _encode(self, *args: Any) -> None:
            seen["encode"] = priority()
            super()._encode(*args)

    path = write_jsonl(tmp_path / "a.jsonl", make_docs(20))
    options = SourceOptions()
    config = PipelineConfig("nice", read_batch=16, unit_passages=16, side_nice=5)
    with RejectSink(None) as sink:
        inputs = plan_inputs([str(path)], options)
        stats = Observed(engine.indexer, inputs, options, config, sink, QuietReporter()).run()
    assert stats.indexed == 20
    assert seen["plan"] == seen["encode"] + 5 == priority() + 5  # the main thread is untouched
