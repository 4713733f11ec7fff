"""Fixtures for the API tests: a real app (tiny bundle, embedded store in tmp) over HTTP.

``make_client(**settings)`` builds the app with ``create_app`` around a real
Engine (tiny random-weight bundle, Qdrant Edge in a fresh tmp home) and returns
a started ``TestClient`` (the lifespan runs: encoder loaded, batcher running).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from xsearch.api.app import create_app

from tests.api.corpus import documents
from xsearch.runtime import Engine
from xsearch.settings import Settings

COLLECTION = "news"


def make_settings(home: Path, **overrides: Any) -> Settings:
    """Settings for a test: nothing from the environment or a .env file leaks in."""
    values: dict[str, Any] = {
        "home": home,
        "qdrant_url": None,
        "api_keys": [],
        "api_keys_file": None,
        "public_search": True,
        "cors_origins": [],
        "threads": 1,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(tiny_bundle: Path, tmp_path: Path) -> Iterator[ClientFactory]:
    stack = ExitStack()
    counter = itertools.count()

    def make(*, started: bool = True, **overrides: Any) -> TestClient:
        settings = make_settings(tmp_path / f"home{next(counter)}", **overrides)
        engine = Engine.open(settings, bundle=str(tiny_bundle))
        stack.callback(engine.close)
        client = TestClient(create_app(settings, engine), raise_server_exceptions=False)
        if started:
            stack.enter_context(client)
        return client

    with stack:
        yield make


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client()


@pytest.fixture
def indexed(client: TestClient) -> TestClient:
    """A client whose collection COLLECTION holds the test corpus."""
    r = client.post(f"/collections/{COLLECTION}/documents", json={"documents": documents()})
    assert r.status_code == 200, r.text
    assert r.json()["indexed"] == len(documents())
    return client


def assert_error(resp: Any, status: int, code: str | None = None, *needles: str) -> dict:
    """The one error shape: exactly {"error", "detail"}, with the expected status and code."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error", "detail"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    if code is not None:
        assert body["error"] == code, body
    for needle in needles:
        assert needle in body["detail"], body
    return body
