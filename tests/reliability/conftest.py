"""Fixtures for the reliability tests: the API test app (real engine, tiny bundle,
Qdrant Edge in tmp) and helpers to look at a collection behind it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import assert_error, make_client  # noqa: F401 - fixtures
from xsearch.consistency import CheckReport, check_collection


def store_of(client: TestClient) -> Any:
    return client.app.state.xsearch.engine.store


def check(client: TestClient, collection: str) -> CheckReport:
    return check_collection(store_of(client), collection)


def assert_consistent(client: TestClient, collection: str) -> CheckReport:
    report = check(client, collection)
    assert report.ok, report.to_json()
    return report
