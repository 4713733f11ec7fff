"""Issue 12 against a real ``xsearch serve`` (uvicorn on loopback, API keys set).

What only a real server shows: concurrent searches sharing micro-batches with
malformed ones, raw header bytes (a test client re-encodes them), and what a
keep-alive connection sees after a 500.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
import uvicorn
from xsearch.api.app import create_app

from tests.api.conftest import make_settings
from tests.api.corpus import documents
from tests.api.server import free_port, home_with_bundle, running_server, serve_env
from xsearch.runtime import Engine

NON_ASCII_KEY = "clé-ключ-鍵"
LATIN1_SPELLABLE_KEY = "clé"
WRITE = "/collections/news/documents"


@pytest.fixture(scope="module")
def live(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = home_with_bundle(tmp_path_factory.mktemp("hostile") / "home", tiny_bundle)
    keys = f"{NON_ASCII_KEY},{LATIN1_SPELLABLE_KEY}"
    with running_server(serve_env(home, tiny_bundle.name, XSEARCH_API_KEYS=keys)) as (url, _):
        r = httpx.post(f"{url}{WRITE}", json={"documents": documents()}, timeout=60,
                       headers={"X-API-Key": NON_ASCII_KEY.encode("utf-8")})
        assert r.status_code == 200, r.text
        yield url


MALFORMED = [
    '{"query": "\\ud800 cat", "collection": "news"}',
    '{"query": "train \\udfff", "collection": "news"}',
    '{"query": "\\ud83d", "collection": "news"}',
    '{"query": "bread", "collection": "news", "min_score": NaN}',
    '{"query": "bread", "collection": "news", "k": true}',
    '{"query": "bread", "collection": "news", "k": 100000000000000000000}',
]


def test_valid_searches_all_succeed_beside_malformed_ones(live: str) -> None:
    """The headline of issue 12: 150 valid concurrent searches, none failed by a neighbour."""
    valid = [{"query": f"{word} {i}", "collection": "news"}
             for i, word in enumerate(["train", "bread", "chat noir", "Zug", "電車"] * 30)]
    bodies = [json.dumps(v).encode() for v in valid]
    bad = [m.encode() for m in MALFORMED] * 3  # 18 malformed, interleaved with the valid ones
    order = [(True, b) for b in bodies] + [(False, b) for b in bad]
    order.sort(key=lambda item: hash(item[1]) % 97)  # spread the bad ones through the burst

    async def burst() -> list[tuple[bool, httpx.Response]]:
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=live, timeout=60, limits=limits) as client:
            responses = await asyncio.gather(*(
                client.post("/search", content=body,
                            headers={"content-type": "application/json"})
                for _, body in order
            ))
        return [(ok, r) for (ok, _), r in zip(order, responses, strict=True)]

    results = asyncio.run(burst())
    good = [r for ok, r in results if ok]
    refused = [r for ok, r in results if not ok]
    assert len(good) == 150 and len(refused) == 18
    assert [r.status_code for r in good] == [200] * 150, [r.text for r in good if r.is_error]
    for r in refused:
        assert r.status_code == 422, r.text
        assert set(r.json()) == {"error", "detail"}
    # the batcher did batch: fewer encoder calls than queries
    metrics = httpx.get(f"{live}/metrics").text
    calls = next(float(line.split()[-1]) for line in metrics.splitlines()
                 if line.startswith("xsearch_encode_batch_size_count"))
    assert calls < 150 + 1 + 1, metrics  # + the indexing-time probe and warm-up slack


def _raw_post(url: str, path: str, body: bytes, key: bytes) -> tuple[int, bytes]:
    """POST with the key header sent as exactly these bytes (http.client does not re-encode)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
        conn.putheader("X-API-Key", key)
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_api_keys_are_compared_as_utf8_bytes(live: str) -> None:
    body = json.dumps({"documents": [{"id": "keyed", "text": "a keyed write"}]}).encode()
    assert _raw_post(live, WRITE, body, NON_ASCII_KEY.encode("utf-8"))[0] == 200
    assert _raw_post(live, WRITE, body, LATIN1_SPELLABLE_KEY.encode("utf-8"))[0] == 200
    # Before: the header's Latin-1 decoding was hashed as text, so only this matched.
    status, raw = _raw_post(live, WRITE, body, LATIN1_SPELLABLE_KEY.encode("latin-1"))
    assert status == 401 and json.loads(raw)["error"] == "unauthorized"
    status, _ = _raw_post(live, WRITE, body, b"\xff\xfe not a key")
    assert status == 401


def test_odd_but_valid_ids_round_trip_through_real_urls(live: str) -> None:
    ids = ["percent%2F", "q?x=1#frag", "ünïcode/日本 x", "a+b&c=d"]
    h = {"X-API-Key": NON_ASCII_KEY.encode("utf-8")}
    r = httpx.post(f"{live}{WRITE}", json={"documents": [{"id": i, "text": i} for i in ids]},
                   headers=h, timeout=60)
    assert r.status_code == 200 and r.json()["indexed"] == len(ids), r.text
    for doc_id in ids:
        url = f"{live}{WRITE}/{quote(doc_id, safe='/')}"
        got = httpx.get(url)
        assert got.status_code == 200 and got.json()["id"] == doc_id, (doc_id, got.text)
        assert httpx.delete(url, headers=h).status_code == 200


@pytest.fixture
def boom_server(tiny_bundle: Path, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """The real app under uvicorn in this process, plus one route with a bug in it."""
    settings = make_settings(tmp_path / "home")
    engine = Engine.open(settings, bundle=str(tiny_bundle))
    app = create_app(settings, engine)

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(30)
        engine.close()


def test_a_500_does_not_break_the_clients_next_request(boom_server: tuple[str, int]) -> None:
    host, port = boom_server
    conn = http.client.HTTPConnection(host, port, timeout=30)  # one keep-alive connection
    try:
        conn.request("GET", "/health")
        first = conn.getresponse()
        assert first.status == 200 and first.read()
        conn.request("GET", "/boom")
        resp = conn.getresponse()
        body = json.loads(resp.read())
        assert resp.status == 500 and body["error"] == "internal_error"
        # The server drops the connection after a 500; it must say so, or this
        # client sends its next request into a closed socket.
        assert resp.getheader("connection") == "close"
        conn.request("GET", "/health")
        again = conn.getresponse()
        assert again.status == 200 and json.loads(again.read()) == {"status": "ok"}
    finally:
        conn.close()
