"""Schemathesis over the OpenAPI schema, against a real server: no input yields a 500.

A bounded run (a few dozen examples per operation) against ``xsearch serve`` on
loopback with the tiny bundle and an indexed collection. Every response must
also match what the schema documents (status codes, content types, bodies),
and every error must use the one error shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.corpus import documents
from tests.api.server import home_with_bundle, running_server, serve_env

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402  (after the importorskip)
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

MAX_EXAMPLES = 30
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def live_api(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = home_with_bundle(tmp_path_factory.mktemp("fuzz") / "home", tiny_bundle)
    with running_server(serve_env(home, tiny_bundle.name)) as (url, _proc):
        r = httpx.post(f"{url}/collections/news/documents", json={"documents": documents()},
                       timeout=60)
        assert r.status_code == 200, r.text
        yield url


def _schema():  # noqa: ANN202
    # The schema comes from the app itself (no server needed to collect the tests);
    # the requests go to the live server.
    import tempfile

    from api.app import create_app
    from tests.api.conftest import make_settings

    with tempfile.TemporaryDirectory() as home:
        spec = create_app(make_settings(Path(home))).openapi()
    return schemathesis.openapi.from_dict(spec)


SCHEMA = _schema()
OPERATIONS = {r.ok().label: r.ok() for r in SCHEMA.get_all_operations()}




def _has_input(label: str) -> bool:
    raw = OPERATIONS[label].definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody"))


# Negative cases (inputs that violate the schema) only exist for operations with inputs.
CASES = [(label, "positive") for label in sorted(OPERATIONS)] + [
    (label, "negative") for label in sorted(OPERATIONS) if _has_input(label)
]


@pytest.mark.parametrize(("label", "mode"), CASES)
def test_no_server_errors(label: str, mode: str, live_api: str) -> None:
    operation = OPERATIONS[label]
    strategy = operation.as_strategy(schemathesis.GenerationMode(mode))

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,  # the same inputs on every run: a failure reproduces
        database=None,
    )
    def check(case) -> None:  # noqa: ANN001
        response = case.call(base_url=live_api, timeout=60)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text}"
        )
        if response.status_code >= 400:
            assert set(response.json()) == {"error", "detail"}, response.text
        if mode == "positive":  # invalid input may be refused in ways the schema cannot list
            case.validate_response(response, checks=CHECKS)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1

    seen: dict[int, int] = {}
    check()
    assert sum(seen.values()) >= 1, "no request was sent"
