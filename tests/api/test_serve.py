"""`xsearch serve`: a real uvicorn process on loopback, concurrent clients, clean shutdown."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx

from tests.api.conftest import make_settings
from tests.api.corpus import documents
from tests.api.server import REPO, home_with_bundle, running_server, serve_env


def test_serve_indexes_and_answers_concurrent_searches(tiny_bundle: Path, tmp_path: Path) -> None:
    home = home_with_bundle(tmp_path / "home", tiny_bundle)
    env = serve_env(home, tiny_bundle.name, XSEARCH_API_KEYS="s3cret")
    with running_server(env, log_level="info") as (url, proc):
        r = httpx.post(f"{url}/collections/news/documents", json={"documents": documents()},
                       headers={"X-API-Key": "s3cret"}, timeout=60)
        assert r.status_code == 200 and r.json()["indexed"] == len(documents())
        assert httpx.post(f"{url}/collections/news/documents",
                          json={"documents": documents()}).status_code == 401

        async def burst() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                return await asyncio.gather(*(
                    client.get("/search", params={"q": f"train {i}", "collection": "news"})
                    for i in range(24)
                ))

        responses = asyncio.run(burst())
        assert all(r.status_code == 200 and r.json()["hits"] for r in responses)
        metrics = httpx.get(f"{url}/metrics").text
        batch_count = next(float(line.split()[-1]) for line in metrics.splitlines()
                           if line.startswith("xsearch_encode_batch_size_count"))
        # 24 concurrent queries (+ the start-up probe is not counted) in fewer encoder calls
        assert batch_count < 24, metrics
        page = httpx.get(f"{url}/")
        assert page.status_code == 200 and "xsearch" in page.text
        proc.terminate()
        # uvicorn shuts down gracefully, then re-raises SIGTERM (exit status -15)
        assert proc.wait(timeout=30) in (0, -15)
        log = proc.stdout.read()
        assert "xsearch API ready" in log and "Application shutdown complete" in log, log
        assert "s3cret" not in log  # the key never reaches the log
    # the store was released and holds everything: open it from this process
    from xsearch.store import open_store

    with open_store(make_settings(home)) as store:
        assert store.stats("news").documents == len(documents())


def test_serve_fails_fast_with_one_line_errors(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "xsearch.cli.main", "serve", "--port", "1"]
    env = serve_env(tmp_path / "empty-home", "no-such-bundle")
    r = subprocess.run([*cmd, "--workers", "2"], env=env, cwd=REPO, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "needs a Qdrant server" in r.stderr
    assert "Traceback" not in r.stderr
    r = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "no-such-bundle" in r.stderr and "Traceback" not in r.stderr
