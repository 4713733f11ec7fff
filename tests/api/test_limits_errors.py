"""Every limit and every error path answers the one JSON error shape (never a bare 500)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.api.conftest import COLLECTION, ClientFactory, assert_error
from tests.api.corpus import documents


def test_unknown_route_and_wrong_method(client: TestClient) -> None:
    assert_error(client.get("/nope"), 404, "not_found", "/docs")
    r = client.put("/search")
    assert_error(r, 405, "method_not_allowed", "PUT")
    assert "allow" in r.headers


def test_bad_json_is_400_with_the_position(client: TestClient) -> None:
    r = client.post(
        "/search", content=b'{"query": "x", "collection": ',
        headers={"content-type": "application/json"},
    )
    assert_error(r, 400, "invalid_json", "not valid JSON")
    r = client.post(
        f"/collections/{COLLECTION}/documents", content=b"[1, 2",
        headers={"content-type": "application/json"},
    )
    assert_error(r, 400, "invalid_json")


def test_schema_violations_are_422_naming_the_field(client: TestClient) -> None:
    r = client.get("/search", params={"q": "x", "collection": COLLECTION, "k": 0})
    assert_error(r, 422, "validation_error", "query.k")
    r = client.get("/search", params={"q": "x"})
    assert_error(r, 422, "validation_error", "query.collection")
    r = client.post("/search", json={"query": "x", "collection": COLLECTION, "nope": 1})
    assert_error(r, 422, "validation_error", "body.nope")
    r = client.post(f"/collections/{COLLECTION}/documents", json={"documents": [{"id": "a"}]})
    assert_error(r, 422, "validation_error", "body.documents.0.text")
    r = client.post("/search", content=b"query=x", headers={"content-type": "text/plain"})
    assert_error(r, 422, "validation_error")


def test_empty_and_blank_queries_are_422_with_a_message(client: TestClient) -> None:
    for q in ("", "   ", "\t\n"):
        r = client.get("/search", params={"q": q, "collection": COLLECTION})
        assert_error(r, 422, "invalid_input", "query is empty")
        r = client.post("/search", json={"query": q, "collection": COLLECTION})
        assert_error(r, 422, "invalid_input", "query is empty")


def test_query_k_and_offset_limits_state_the_number_and_the_setting(
    make_client: ClientFactory,
) -> None:
    client = make_client(max_query_chars=50, max_k=20, max_offset=40)
    r = client.get("/search", params={"q": "a" * 51, "collection": COLLECTION})
    assert_error(r, 422, "invalid_input", "51 characters", "limit is 50", "XSEARCH_MAX_QUERY_CHARS")
    # The limit counts the stripped query: surrounding blanks are not held against it.
    r = client.get("/search", params={"q": " " + "a" * 50 + " ", "collection": COLLECTION})
    assert_error(r, 404, "collection_not_found")
    r = client.get("/search", params={"q": "x", "collection": COLLECTION, "k": 21})
    assert_error(r, 422, "invalid_input", "k=21", "20", "XSEARCH_MAX_K")
    r = client.post("/search", json={"query": "x", "collection": COLLECTION, "offset": 41})
    assert_error(r, 422, "invalid_input", "offset=41", "40", "XSEARCH_MAX_OFFSET")


def test_batch_and_body_size_limits_are_413(make_client: ClientFactory) -> None:
    client = make_client(max_batch_docs=3, max_body_bytes=4000)
    docs = [{"id": str(i), "text": "hello"} for i in range(4)]
    r = client.post(f"/collections/{COLLECTION}/documents", json={"documents": docs})
    assert_error(r, 413, "limit_exceeded", "4 documents", "limit is 3", "XSEARCH_MAX_BATCH_DOCS")
    r = client.post(f"/collections/{COLLECTION}/documents", json={"documents": []})
    assert_error(r, 422, "invalid_input", "no documents")
    big = json.dumps({"documents": [{"id": "big", "text": "x" * 5000}]}).encode()
    r = client.post(
        f"/collections/{COLLECTION}/documents", content=big,
        headers={"content-type": "application/json"},
    )
    assert_error(r, 413, "payload_too_large", f"{len(big)} bytes", "4000", "XSEARCH_MAX_BODY_BYTES")

    def chunks():  # no Content-Length: counted while it streams in
        for i in range(0, len(big), 1000):
            yield big[i : i + 1000]

    r = client.post(
        f"/collections/{COLLECTION}/documents", content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert_error(r, 413, "payload_too_large", "limit is 4000 bytes", "XSEARCH_MAX_BODY_BYTES")
    # a body under the limit still goes through
    r = client.post(f"/collections/{COLLECTION}/documents", json={"documents": docs[:3]})
    assert r.status_code == 200, r.text


def test_unknown_collection_is_404_everywhere(indexed: TestClient) -> None:
    c = indexed
    for r in (
        c.get("/search", params={"q": "train", "collection": "missing"}),
        c.post("/search", json={"query": "train", "collection": "missing"}),
        c.get("/collections/missing"),
        c.get("/collections/missing/documents/train/en"),
        c.delete("/collections/missing/documents/train/en"),
    ):
        assert_error(r, 404, "collection_not_found", "'missing'")
    assert_error(c.get(f"/collections/{COLLECTION}/documents/nope"), 404, "document_not_found")
    assert_error(c.delete(f"/collections/{COLLECTION}/documents/nope"), 404, "document_not_found")


def test_invalid_collection_names_are_refused(client: TestClient) -> None:
    for name in ("bad name", "x" * 65, "a.b", "ü"):
        r = client.post(f"/collections/{name}/documents", json={"documents": documents()[:1]})
        assert_error(r, 422, "validation_error", "collection")
    r = client.get("/search", params={"q": "x", "collection": "bad name"})
    assert_error(r, 422, "invalid_input", "invalid collection name")


def test_non_finite_numbers_are_refused(indexed: TestClient) -> None:
    r = indexed.get("/search", params={"q": "x", "collection": COLLECTION, "min_score": "nan"})
    assert_error(r, 422, "validation_error", "min_score")
    body = '{"query": "x", "collection": "news", "min_score": NaN}'
    r = indexed.post("/search", content=body, headers={"content-type": "application/json"})
    assert_error(r, 422, "invalid_input", "min_score", "finite")
    body = '{"query": "x", "collection": "news", "ranges": {"year": {"gte": Infinity}}}'
    r = indexed.post("/search", content=body, headers={"content-type": "application/json"})
    assert_error(r, 422, "invalid_input", "ranges.year.gte")


def test_unexpected_exceptions_are_500_json_without_internals(client: TestClient) -> None:
    def boom() -> None:
        raise RuntimeError("secret internal state")

    client.app.add_api_route("/boom", boom)
    r = client.get("/boom")
    body = assert_error(r, 500, "internal_error", "server log")
    assert "secret" not in body["detail"]


def test_not_ready_before_startup_is_503(make_client: ClientFactory) -> None:
    c = make_client(started=False)  # lifespan not run: no engine yet
    assert c.get("/health").json() == {"status": "ok"}
    assert_error(c.get("/ready"), 503, "not_ready")
    assert_error(c.get("/search", params={"q": "x", "collection": "news"}), 503, "not_ready")
