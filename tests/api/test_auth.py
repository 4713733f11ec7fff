"""API keys: writes need one when keys are configured; reads only when search is private."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from xsearch.api.app import create_app
from xsearch.api.security import KeyRing

from tests.api.conftest import COLLECTION, ClientFactory, assert_error, make_settings
from tests.api.corpus import documents
from xsearch.errors import ConfigError

KEY = "k-3f9a1c0e5b7d"
OTHER = "k-other-key-22"
DOCS = {"documents": documents()[:3]}
WRITE = f"/collections/{COLLECTION}/documents"


def _unauthorized(resp, needle: str) -> None:  # noqa: ANN001
    assert_error(resp, 401, "unauthorized", needle)
    assert resp.headers["www-authenticate"] == "Bearer"


def test_writes_need_a_key_when_keys_are_configured(make_client: ClientFactory) -> None:
    c = make_client(api_keys=[KEY, OTHER])
    _unauthorized(c.post(WRITE, json=DOCS), "needs an API key")
    _unauthorized(c.post(WRITE, json=DOCS, headers={"X-API-Key": "wrong"}), "not valid")
    _unauthorized(c.post(WRITE, json=DOCS, headers={"Authorization": f"Basic {KEY}"}), "needs")
    _unauthorized(c.delete(f"{WRITE}/train/en"), "needs an API key")
    assert c.post(WRITE, json=DOCS, headers={"X-API-Key": KEY}).status_code == 200
    r = c.post(WRITE, json=DOCS, headers={"Authorization": f"Bearer {OTHER}"})
    assert r.status_code == 200 and r.json()["unchanged"] == 3
    # search is public by default: no key needed to read
    assert c.get("/search", params={"q": "train", "collection": COLLECTION}).status_code == 200
    assert c.get("/collections").status_code == 200
    assert c.get(f"{WRITE}/train/en").status_code == 200
    r = c.delete(f"{WRITE}/train/en", headers={"X-API-Key": KEY})
    assert r.status_code == 200
    assert c.get("/info").json()["write_key_required"] is True


def test_private_search_needs_a_key_for_reads(make_client: ClientFactory) -> None:
    c = make_client(api_keys=[KEY], public_search=False)
    assert c.post(WRITE, json=DOCS, headers={"X-API-Key": KEY}).status_code == 200
    for resp in (
        c.get("/search", params={"q": "train", "collection": COLLECTION}),
        c.post("/search", json={"query": "train", "collection": COLLECTION}),
        c.get("/collections"),
        c.get(f"/collections/{COLLECTION}"),
        c.get(f"{WRITE}/train/en"),
    ):
        _unauthorized(resp, "needs an API key")
    h = {"Authorization": f"Bearer {KEY}"}
    assert c.get("/search", params={"q": "train", "collection": COLLECTION}, headers=h).json()[
        "hits"
    ]
    assert c.get("/collections", headers=h).status_code == 200
    # probes stay open for load balancers and Prometheus
    for path in ("/health", "/ready", "/metrics", "/info", "/", "/static/app.js"):
        assert c.get(path).status_code == 200, path
    assert c.get("/info").json()["read_key_required"] is True


def test_no_keys_means_open_writes(client: TestClient) -> None:
    assert client.post(WRITE, json=DOCS).status_code == 200


def test_keys_file(make_client: ClientFactory, tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text(f"# team keys\n\n  {KEY}  \n{OTHER}\n", encoding="utf-8")
    c = make_client(api_keys_file=keys)
    _unauthorized(c.post(WRITE, json=DOCS), "needs an API key")
    _unauthorized(c.post(WRITE, json=DOCS, headers={"X-API-Key": "# team keys"}), "not valid")
    assert c.post(WRITE, json=DOCS, headers={"X-API-Key": KEY}).status_code == 200
    assert c.post(WRITE, json=DOCS, headers={"X-API-Key": OTHER}).status_code == 200


def test_configuration_errors_fail_at_startup(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="XSEARCH_API_KEYS_FILE"):
        create_app(make_settings(tmp_path, api_keys_file=tmp_path / "missing.txt"))
    with pytest.raises(ConfigError, match="nobody could search"):
        create_app(make_settings(tmp_path, public_search=False))


def test_keys_are_never_logged(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    c = make_client(api_keys=[KEY], public_search=False)
    c.post(WRITE, json=DOCS, headers={"X-API-Key": KEY})
    c.post(WRITE, json=DOCS, headers={"X-API-Key": KEY + "x"})
    c.get("/search", params={"q": "x", "collection": COLLECTION}, headers={"X-API-Key": OTHER})
    metrics = c.get("/metrics").text
    assert caplog.records  # startup logged something
    assert KEY not in caplog.text and OTHER not in caplog.text and KEY not in metrics


def test_keyring_matching() -> None:
    ring = KeyRing(["alpha", "beta"])
    assert ring.enabled and len(ring) == 2
    assert ring.matches("alpha") and ring.matches("beta")
    for wrong in ("", "alph", "alpha ", "ALPHA", "alphabeta"):
        assert not ring.matches(wrong)
    assert not KeyRing([]).enabled


def test_cors_is_off_unless_configured(make_client: ClientFactory) -> None:
    origin = {"Origin": "https://app.example.org"}
    off = make_client()
    r = off.get("/collections", headers=origin)
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    preflight = {**origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "x-api-key"}
    assert "access-control-allow-origin" not in off.options("/search", headers=preflight).headers
    on = make_client(cors_origins=["https://app.example.org"])
    r = on.get("/collections", headers=origin)
    assert r.headers["access-control-allow-origin"] == "https://app.example.org"
    r = on.options("/search", headers=preflight)
    assert r.status_code == 200 and "POST" in r.headers["access-control-allow-methods"]
    assert "x-api-key" in r.headers["access-control-allow-headers"].lower()
    r = on.get("/collections", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
