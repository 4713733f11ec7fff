"""The --api client's own logic: batch splitting on 413, retries, error messages.

The server side is a scripted httpx transport here; the real server is exercised
end to end in test_cli.py::test_api_mode_and_the_lock_message.
"""

from __future__ import annotations

import json

import httpx
import pytest

from indexer.client import ApiClient
from xsearch.documents import Document
from xsearch.errors import AuthError, StoreError


def docs(n: int) -> list[Document]:
    return [Document(id=f"d{i}", text=f"text {i}", metadata={"i": i}) for i in range(n)]


def ok(request: httpx.Request) -> httpx.Response:
    sent = json.loads(request.content)["documents"]
    results = [{"id": d["id"], "status": "indexed", "passages": 1} for d in sent]
    body = {"collection": "c", "results": results, "indexed": len(sent), "unchanged": 0}
    return httpx.Response(200, json=body | {"rejected": 0})


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

    client = ApiClient("http://api", transport=httpx.MockTransport(handler), backoff=0)
    results = client.index("c", docs(7))
    assert [r.id for r in results] == [f"d{i}" for i in range(7)]
    assert sizes[0] == 7 and sum(accepted) == 7 and max(accepted) <= 2


def test_a_single_document_too_large_is_a_reject_not_a_failed_run() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(413, json={"error": "limit_exceeded", "detail": "over 20 MB"})

    client = ApiClient("http://api", transport=httpx.MockTransport(handler), backoff=0)
    (result,) = client.index("c", docs(1))
    assert result.status == "rejected" and "over 20 MB" in (result.reason or "")


def test_retries_while_the_server_is_unavailable_then_gives_a_clear_error() -> None:
    calls = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return ok(request) if len(calls) >= 3 else httpx.Response(503, json={"detail": "busy"})

    client = ApiClient("http://api", transport=httpx.MockTransport(flaky), backoff=0)
    assert client.index("c", docs(2))[0].status == "indexed" and len(calls) == 3

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    client = ApiClient("http://api", transport=httpx.MockTransport(down), retries=2, backoff=0)
    with pytest.raises(StoreError, match="did not answer.*xsearch serve"):
        client.index("c", docs(1))


def test_auth_errors_name_the_option() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers.get("X-API-Key") == "wrong"
        return httpx.Response(401, json={"error": "unauthorized", "detail": "bad key"})

    client = ApiClient("http://api", api_key="wrong", transport=httpx.MockTransport(handler))
    with pytest.raises(AuthError, match="--api-key"):
        client.index("c", docs(1))
