"""The CLI end to end, in subprocesses: formats, stdin, exit codes, SIGINT/SIGKILL + resume,
stats/delete/add, and --api against a real `xsearch serve` that holds the store (lock message).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.indexer.conftest import (
    SENTENCES,
    assert_same_collection,
    make_docs,
    snapshot,
    write_jsonl,
)
from xsearch.settings import Settings


def make_home(root: Path, tiny_bundle: Path) -> Path:
    home = root / "home"
    (home / "models").mkdir(parents=True)
    (home / "models" / "tiny").symlink_to(tiny_bundle)
    return home


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XSEARCH_")}
    env.update(XSEARCH_HOME=str(home), XSEARCH_DEFAULT_BUNDLE="tiny", **extra)
    return env


def xsearch(
    args: list[str], home: Path, *, stdin: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "xsearch.cli.main", *args],
        env=env_for(home),
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def settings_of(home: Path) -> Settings:
    return Settings(home=home, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def home(tmp_path: Path, tiny_bundle: Path) -> Path:
    return make_home(tmp_path, tiny_bundle)


def test_every_format_folder_gzip_and_stdin(home: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "notes").mkdir(parents=True)
    write_jsonl(corpus / "a.jsonl", make_docs(3, long_every=0))
    (corpus / "b.jsonl.gz").write_bytes(
        gzip.compress(json.dumps({"id": "gz", "text": "Komprimiert und gelesen."}).encode())
    )
    (corpus / "c.csv").write_text('id,text,topic\ncsv1,"Ein Satz, mit Komma.",geo\n')
    (corpus / "d.tsv.gz").write_bytes(gzip.compress(b"id\ttext\ntsv1\tUna frase.\n"))
    (corpus / "notes" / "e.md").write_text("# Notiz\n\nDer Text der Notiz.")
    (corpus / "notes" / "f.txt").write_text("Простой текстовый файл.")
    out = xsearch(["index", str(corpus), "-c", "fmt", "--json"], home)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert (summary["read"], summary["indexed"], summary["rejected"]) == (8, 8, 0)

    stdin = write_jsonl(tmp_path / "s.jsonl", [{"id": "stdin-1", "text": "Vom Eingang."}])
    out = xsearch(["index", "-", "-c", "fmt", "--json"], home, stdin=stdin.read_bytes())
    assert out.returncode == 0 and json.loads(out.stdout)["indexed"] == 1

    out = xsearch(["stats", "-c", "fmt", "--json"], home)
    stats = json.loads(out.stdout)
    assert stats["documents"] == 9 and stats["bundle"] == "tiny"
    assert sum(stats["languages"].values()) == stats["points"]
    ids = {p["doc_id"] for p, _ in snapshot(settings_of(home), "fmt").values()}
    assert {"gz", "csv1", "tsv1", "notes/e.md", "notes/f.txt", "stdin-1"} <= ids


def test_rejects_exit_1_and_strict_exit_2(home: Path, tmp_path: Path) -> None:
    lines = [json.dumps(d) for d in make_docs(5, long_every=0)]
    lines.insert(2, '{"id": "bad", "text": ')
    src = tmp_path / "r.jsonl"
    src.write_text("\n".join(lines) + "\n")
    out = xsearch(["index", str(src), "-c", "rej"], home, cwd=tmp_path)
    assert out.returncode == 1
    default = tmp_path / "xsearch-rejects-rej.jsonl"
    assert "1 record(s) rejected" in out.stderr and str(default.name) in out.stderr
    assert json.loads(default.read_text())["line"] == 3
    assert "rejected" in out.stdout and "indexed" in out.stdout  # the summary table

    out = xsearch(["index", str(src), "-c", "rej2", "--strict"], home, cwd=tmp_path)
    assert out.returncode == 2
    assert f"{src}:3: invalid JSON" in out.stderr and "--strict" in out.stderr


def _progress_indexed(line: str) -> int:
    m = re.search(r"\(([\d,]+) indexed,", line)
    return int(m.group(1).replace(",", "")) if m else -1


def _run_until(args: list[str], home: Path, sig: int) -> tuple[int, str, str]:
    """Start an index run and send ``sig`` once it has written its first documents."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "xsearch.cli.main", *args, "--progress-every", "0.1"],
        env=env_for(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen: list[str] = []
    for line in proc.stderr:
        seen.append(line)
        if _progress_indexed(line) > 0:
            proc.send_signal(sig)
            break
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, "".join(seen) + err


def test_sigint_and_sigkill_midway_then_rerun_equals_a_clean_run(
    tmp_path: Path, tiny_bundle: Path
) -> None:
    # 900 documents of ~3 passages: an encoder unit (512 passages) holds ~170 of them,
    # and at most ~3 units are written after a SIGINT, so both stops land mid-run.
    rng = random.Random(5)
    docs = [
        {
            "id": f"d{i}",
            "lang": "de",
            "text": " ".join(rng.choices(SENTENCES, k=rng.randint(14, 28))),
        }
        for i in range(900)
    ]  # the language is given: no detection, so this test stays about resuming, and quick
    src = write_jsonl(tmp_path / "big.jsonl", docs)
    args = ["index", str(src), "-c", "k", "--json"]
    clean_home = make_home(tmp_path / "clean", tiny_bundle)
    assert xsearch(args, clean_home).returncode == 0

    home = make_home(tmp_path / "killed", tiny_bundle)
    code, out, err = _run_until(args, home, signal.SIGINT)
    assert code == 130, err
    assert "re-run the same command" in err.lower()
    first = json.loads(out)
    assert first["interrupted"] and 0 < first["indexed"] < 900

    code, _, err = _run_until(args, home, signal.SIGKILL)
    assert code == -signal.SIGKILL, err

    final = xsearch(args, home)
    assert final.returncode == 0, final.stderr
    summary = json.loads(final.stdout)
    assert summary["unchanged"] > first["indexed"] and summary["indexed"] > 0
    assert summary["unchanged"] + summary["indexed"] == 900
    assert_same_collection(snapshot(settings_of(home), "k"), snapshot(settings_of(clean_home), "k"))


def test_add_stats_delete(home: Path, tmp_path: Path) -> None:
    docs = make_docs(6)
    src = write_jsonl(tmp_path / "few.jsonl", docs)
    out = xsearch(["add", str(src), "-c", "few", "--json"], home)
    assert out.returncode == 0, out.stderr
    assert [r["status"] for r in json.loads(out.stdout)] == ["indexed"] * 6
    out = xsearch(["add", str(src), "-c", "few", "--json"], home)
    assert [r["status"] for r in json.loads(out.stdout)] == ["unchanged"] * 6

    ids = tmp_path / "ids.txt"
    ids.write_text("doc-00000\n\ndoc-00001\nno-such-doc\n")
    before = json.loads(xsearch(["stats", "-c", "few", "--json"], home).stdout)
    out = xsearch(["delete", "-c", "few", "--ids-from", str(ids), "--json"], home)
    gone = json.loads(out.stdout)
    after = json.loads(xsearch(["stats", "-c", "few", "--json"], home).stdout)
    assert gone["documents"] == 3 and after["documents"] == before["documents"] - 2
    assert gone["deleted_passages"] == before["points"] - after["points"] > 2

    table = xsearch(["stats", "-c", "few"], home)
    assert "documents" in table.stdout and "tiny" in table.stdout
    missing = xsearch(["stats", "-c", "nope"], home)
    assert missing.returncode != 0 and "does not exist" in missing.stderr


def test_recenter_puts_racing_means_right(home: Path, tmp_path: Path) -> None:
    import numpy as np

    from xsearch.ranking.centering import META_KEY, LanguageMeans
    from xsearch.store import open_store
    from xsearch.store.base import CENTERED, DENSE

    src = write_jsonl(tmp_path / "few.jsonl", make_docs(12))
    assert xsearch(["add", str(src), "-c", "few"], home).returncode == 0
    settings = Settings(home=home)
    with open_store(settings) as store:  # a lost update from a second writer
        meta = store.get_meta("few")
        dim = int(meta["dimension"])
        meta[META_KEY] = {lang: {**d, "n": 1} for lang, d in meta[META_KEY].items()}
        store.set_meta("few", meta)
    out = xsearch(["recenter", "-c", "few"], home)
    assert out.returncode == 0, out.stderr
    assert "recentred few" in out.stdout
    with open_store(settings) as store:
        means = LanguageMeans.from_meta(store.get_meta("few"), dim)
        points = list(store.scroll("few", with_vectors=True))
    langs = sorted({p.payload["lang"] for p in points})
    assert sorted(means.langs) == langs
    for lang in langs:
        raw = np.stack([p.vectors[DENSE] for p in points if p.payload["lang"] == lang])
        stats = means.langs[lang]
        assert stats.n == len(raw) and stats.centre_n == len(raw)
        assert np.allclose(stats.mean, raw.mean(axis=0), atol=1e-5)
    # every centred vector uses the new centre and spread scale of its language
    for p in points:
        s = means.langs[p.payload["lang"]]
        want = (np.asarray(p.vectors[DENSE]) - s.centre) * s.scale
        assert np.allclose(p.vectors[CENTERED], want, atol=1e-4)
        assert 0.5 < s.scale < 2.0
    missing = xsearch(["recenter", "-c", "nope"], home)
    assert missing.returncode != 0 and "does not exist" in missing.stderr


def test_search_ranking_options(home: Path, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "few.jsonl", make_docs(8))
    assert xsearch(["add", str(src), "-c", "few"], home).returncode == 0
    for balance, mode in (("interleave", "hybrid"), ("none", "dense"), ("fair", "hybrid")):
        args = ["search", SENTENCES[0], "-c", "few", "--balance", balance, "--mode", mode]
        out = xsearch([*args, "--group-translations", "--json"], home)
        assert out.returncode == 0, out.stderr
        resp = json.loads(out.stdout)
        assert (resp["balance"], resp["mode"]) == (balance, mode) and resp["hits"]
    table = xsearch(["search", SENTENCES[0], "-c", "few", "--mode", "hybrid"], home)
    assert "mode=hybrid" in table.stdout
    bad = xsearch(["search", "x", "-c", "few", "--balance", "sideways"], home)
    assert bad.returncode != 0 and "use one of none, centered, interleave, fair" in bad.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(home: Path, port: int, key: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "xsearch.cli.main", "serve", "--port", str(port)],
        env=env_for(home, XSEARCH_API_KEYS=key),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "server died")
        time.sleep(0.3)
    proc.kill()
    raise AssertionError("server did not become ready")


def test_api_mode_and_the_lock_message(home: Path, tmp_path: Path, tiny_bundle: Path) -> None:
    docs = make_docs(40)
    src = write_jsonl(tmp_path / "d.jsonl", docs)
    port, key = _free_port(), "s3cret-key"
    api = f"http://127.0.0.1:{port}"
    server = _serve(home, port, key)
    try:
        out = xsearch(
            ["index", str(src), "-c", "remote", "--api", api, "--api-key", key, "--json"], home
        )
        assert out.returncode == 0, out.stderr
        summary: dict[str, Any] = json.loads(out.stdout)
        assert (summary["indexed"], summary["rejected"]) == (40, 0) and summary["passages"] > 40

        again = xsearch(
            ["index", str(src), "-c", "remote", "--api", api, "--api-key", key, "--json"], home
        )
        assert json.loads(again.stdout)["unchanged"] == 40

        denied = xsearch(["index", str(src), "-c", "remote", "--api", api], home)
        assert denied.returncode == 2 and "--api-key" in denied.stderr

        # The server holds the embedded store: a local run says so, without a traceback.
        locked = xsearch(["index", str(src), "-c", "remote"], home)
        assert locked.returncode != 0
        assert f"in use by process {server.pid} (`" in locked.stderr, locked.stderr
        assert "serve --port" in locked.stderr and "--api URL" in locked.stderr
        # issue 12 #5: a collection the server has not opened is locked too (it used to
        # be written by the second process, and the server then blamed "xsearch serve")
        fresh = xsearch(["index", str(src), "-c", "brand-new"], home)
        assert fresh.returncode != 0 and f"process {server.pid}" in fresh.stderr
        assert not (home / "store" / "brand-new").exists()
        # `xsearch collections` does not fail because the server runs: names, and how
        # to get the rest; with --api, everything through the server
        names = xsearch(["collections"], home)
        assert names.returncode == 0, names.stderr
        assert "remote" in names.stdout and "--api" in names.stderr
        listed = xsearch(["collections", "--api", api, "--api-key", key, "--json"], home)
        assert listed.returncode == 0, listed.stderr
        assert [(c["name"], c["documents"]) for c in json.loads(listed.stdout)] == [
            ("remote", 40)
        ]

        info = json.loads(
            xsearch(
                ["stats", "-c", "remote", "--api", api, "--api-key", key, "--json"], home
            ).stdout
        )
        assert info["documents"] == 40
        out = xsearch(
            ["delete", "doc-00001", "-c", "remote", "--api", api, "--api-key", key, "--json"], home
        )
        assert json.loads(out.stdout)["deleted_passages"] >= 1
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
    # The server wrote exactly what a local run writes.
    local_home = make_home(tmp_path / "local", tiny_bundle)
    assert xsearch(["index", str(src), "-c", "remote", "--quiet"], local_home).returncode == 0
    xsearch(["delete", "doc-00001", "-c", "remote"], local_home)
    assert_same_collection(
        snapshot(settings_of(home), "remote"), snapshot(settings_of(local_home), "remote")
    )
