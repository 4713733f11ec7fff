"""The HTTP client's own logic: batch splitting on 413, retries, error mapping.

The server is a scripted httpx transport here (to produce 413s and 503s on
demand); the real server is exercised by test_surface.py and by
tests/indexer/test_cli.py::test_api_mode_and_the_lock_message.
"""

from __future__ import annotations

import json

import httpx
import pytest

from xsearch.client import Client, RemoteError, error_from
from xsearch.documents import Document
from xsearch.errors import AuthError, BundleMismatch, InputError, StoreError


def docs(n: int) -> list[Document]:
    return [Document(id=f"d{i}", text=f"text {i}", metadata={"i": i}) for i in range(n)]


def ok(request: httpx.Request) -> httpx.Response:
    sent = json.loads(request.content)["documents"]
    results = [{"id": d["id"], "status": "indexed", "passages": 1} for d in sent]
    body = {"collection": "c", "results": results, "indexed": len(sent), "unchanged": 0}
    return httpx.Response(200, json=body | {"rejected": 0})


def scripted(handler: object, **kwargs: object) -> Client:
    return Client("http://api", transport=httpx.MockTransport(handler), backoff=0, **kwargs)


def test_a_batch_refused_as_too_large_is_split_until_it_fits() -> None:
    sizes: list[int] = []
    accepted: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        n = len(json.loads(request.content)["documents"])
        sizes.append(n)
        if n > 2:
            return httpx.Response(413, json={"error": "limit_exceeded", "detail": "too big"})
        accepted.append(n)
        return ok(request)

    resp = scripted(handler).add(docs(7), collection="c")
    assert [r.id for r in resp.results] == [f"d{i}" for i in range(7)]
    assert resp.indexed == 7 and resp.collection == "c"
    assert sizes[0] == 7 and sum(accepted) == 7 and max(accepted) <= 2


def test_a_single_document_too_large_is_a_reject_not_a_failure() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(413, json={"error": "limit_exceeded", "detail": "over 20 MB"})

    resp = scripted(handler).add(docs(1))
    (result,) = resp.results
    assert result.status == "rejected" and "over 20 MB" in (result.reason or "")
    assert resp.rejected == 1


def test_retries_while_the_server_is_unavailable_then_gives_a_clear_error() -> None:
    calls = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return ok(request) if len(calls) >= 3 else httpx.Response(503, json={"detail": "busy"})

    assert scripted(flaky).add(docs(2)).results[0].status == "indexed" and len(calls) == 3

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    with pytest.raises(StoreError, match="did not answer.*xsearch serve"):
        scripted(down, retries=2).add(docs(1))


def test_error_codes_come_back_as_their_classes() -> None:
    def answer(status: int, code: str | None, detail: str = "what: fix") -> Exception:
        request = httpx.Request("GET", "http://api/x")
        body = {"detail": detail} | ({"error": code} if code else {})
        return error_from(httpx.Response(status, json=body, request=request))

    err = answer(409, "bundle_mismatch")
    assert type(err) is BundleMismatch and str(err) == "what: fix"
    assert type(answer(422, "validation_error")) is InputError
    assert type(answer(401, "unauthorized")) is AuthError
    unknown = answer(500, "internal_error", "unexpected server error")
    assert type(unknown) is RemoteError and "GET http://api/x answered 500" in str(unknown)
    assert type(answer(500, None)) is RemoteError


def test_the_key_is_sent_and_a_refusal_is_an_auth_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers.get("X-API-Key") == "wrong"
        return httpx.Response(401, json={"error": "unauthorized", "detail": "bad key: fix it"})

    with pytest.raises(AuthError, match="bad key"):
        scripted(handler, api_key="wrong").add(docs(1))
