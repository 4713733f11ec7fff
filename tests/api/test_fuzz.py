"""Schemathesis over the OpenAPI schema, against a real server: no input yields a 500.

A bounded run (a few dozen examples per operation) against ``xsearch serve`` on
loopback with the tiny bundle and an indexed collection. Every response must
also match what the schema documents (status codes, content types, bodies),
and every error must use the one error shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.corpus import documents
from tests.api.server import home_with_bundle, running_server, serve_env

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402  (after the importorskip)
from hypothesis import strategies as st  # noqa: E402
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

    from xsearch.api.app import create_app

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


# -- hostile values (issue 12) ---------------------------------------------------
# Schemathesis draws strings without surrogates and sends JSON without NaN, so the
# run above never tried what broke the API: lone surrogates, NaN/Infinity,
# booleans where numbers or strings go, control characters, integers past 64
# bits. These cases start from a schema-valid request and plant one such value
# somewhere in it (a field, a list item, a new key), sent as raw JSON escapes.
HOSTILE_TEXT = st.one_of(
    st.sampled_from(["\ud800 cat", "cat \udfff", "\ud83d", "a\nb", "nul\x00", "\x1b[2J",
                     "line\u2028sep", "..", "../etc/passwd", "x" * 5000]),
    st.text(alphabet=st.characters(categories=["Cs", "Cc"]), min_size=1, max_size=4),
    st.text(min_size=1, max_size=8).map(lambda s: s + "\udc80"),
)
HOSTILE = st.one_of(
    HOSTILE_TEXT,
    st.sampled_from([float("nan"), float("inf"), float("-inf"), 1e308 * 10]),
    st.booleans(),
    st.integers(min_value=2**63, max_value=2**300),
    st.integers(min_value=-(2**300), max_value=-(2**63) - 1),
    st.none(),
)
HOSTILE_QUERY = st.sampled_from([
    "%ED%A0%80", "%FF%FE", "%00", "a%0Ab", "true", "NaN", "Infinity", "-1e999",
    str(2**64), str(-(2**70)), "%E2%80%A8",
])


def _slots(value: object, path: tuple = ()) -> list[tuple]:
    """Every place in a JSON value where another value can go (including the root)."""
    out: list[tuple] = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _slots(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _slots(v, (*path, i))
    return out


def _plant(body: object, data: st.DataObject) -> object:
    slots = [p for p in _slots(body) if p]  # not the root: the body stays an object
    if not slots or data.draw(st.booleans(), label="new key"):
        containers = [p for p in _slots(body) if _get(body, p).__class__ is dict]
        if not containers:
            return data.draw(HOSTILE)
        target = _get(body, data.draw(st.sampled_from(containers), label="where"))
        key = data.draw(st.one_of(st.just("metadata"), HOSTILE_TEXT), label="key")
        target[key] = data.draw(HOSTILE, label="value")
        return body
    path = data.draw(st.sampled_from(slots), label="path")
    parent = _get(body, path[:-1])
    parent[path[-1]] = data.draw(HOSTILE, label="value")
    return body


def _get(value: object, path: tuple) -> object:
    for p in path:
        value = value[p]  # type: ignore[index]
    return value


JSON_BODY_OPERATIONS = sorted(
    label for label in OPERATIONS if OPERATIONS[label].definition.raw.get("requestBody")
)
QUERY_OPERATIONS = sorted(
    label for label in OPERATIONS
    if any(p.get("in") == "query" for p in OPERATIONS[label].definition.raw.get("parameters", []))
)


@pytest.mark.parametrize("label", JSON_BODY_OPERATIONS)
def test_hostile_json_values_are_4xx_never_5xx(label: str, live_api: str) -> None:
    operation = OPERATIONS[label]
    strategy = operation.as_strategy(schemathesis.GenerationMode("positive"))

    @given(case=strategy, data=st.data())
    @settings(max_examples=MAX_EXAMPLES * 2, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case, data: st.DataObject) -> None:  # noqa: ANN001
        body = case.body
        if isinstance(body, dict) and "collection" in body and data.draw(st.booleans()):
            body["collection"] = "news"  # reach the encoder, not only the 404
        raw = json.dumps(_plant(body, data), allow_nan=True)  # ensure_ascii: \ud800 escapes
        path = case.formatted_path.replace("{collection}", "news")
        r = httpx.post(f"{live_api}{path}", content=raw, timeout=60,
                       headers={"content-type": "application/json"})
        assert r.status_code < 500, f"{label} {raw[:300]} -> {r.status_code}: {r.text}"
        if r.status_code >= 400:
            assert set(r.json()) == {"error", "detail"}, r.text
        seen[r.status_code] = seen.get(r.status_code, 0) + 1

    seen: dict[int, int] = {}
    check()
    assert any(400 <= s < 500 for s in seen), seen  # hostile values were refused, not ignored


@pytest.mark.parametrize("label", QUERY_OPERATIONS)
def test_hostile_query_strings_are_4xx_never_5xx(label: str, live_api: str) -> None:
    operation = OPERATIONS[label]
    params = [p["name"] for p in operation.definition.raw["parameters"] if p.get("in") == "query"]

    @given(picked=st.dictionaries(st.sampled_from(params), HOSTILE_QUERY, min_size=1))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None)
    def check(picked: dict[str, str]) -> None:
        query = {"q": "train", "collection": "news"} if "q" in params else {}
        query.update(picked)
        # Already percent-encoded on purpose (invalid UTF-8, NUL): no client re-encoding.
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        path = operation.path.replace("{collection}", "news").replace("{doc_id}", "x")
        r = httpx.get(f"{live_api}{path}?{qs}", timeout=60)
        assert r.status_code < 500, f"{path}?{qs} -> {r.status_code}: {r.text}"
        if r.status_code >= 400:
            assert set(r.json()) == {"error", "detail"}, r.text

    check()
