"""Issue 12, request side: hostile and careless values are refused whole, before any work.

Each test sends what the prober sent (raw JSON, so escapes such as ``\\ud800``
and ``NaN`` reach the server exactly as a client can write them) and checks the
one error shape, the field it names, and that nothing was written.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import COLLECTION, ClientFactory, assert_error
from xsearch.errors import InputError
from xsearch.store.base import validate_name
from xsearch.validation import COLLECTION_NAME_PATTERN, MAX_ID_CHARS

WRITE = f"/collections/{COLLECTION}/documents"
JSON = {"content-type": "application/json"}


def post_raw(c: TestClient, url: str, body: str, **headers: Any) -> Any:
    return c.post(url, content=body.encode("utf-8"), headers={**JSON, **headers})


def doc_count(c: TestClient, collection: str = COLLECTION) -> int | None:
    r = c.get(f"/collections/{collection}")
    return r.json()["documents"] if r.status_code == 200 else None


SURROGATE_QUERIES = [
    ('{"query": "\\ud800 cat", "collection": "news"}', "body.query"),
    ('{"query": "cat \\udfff", "collection": "news"}', "body.query"),
    ('{"query": "cat", "collection": "news", "langs": ["\\ud83d"]}', "body.langs.0"),
    ('{"query": "cat", "collection": "news", "metadata": {"k": "\\ud800"}}', "body.metadata.k"),
    ('{"query": "cat", "collection": "n\\ud800"}', "body.collection"),
]


@pytest.mark.parametrize(("body", "field"), SURROGATE_QUERIES)
def test_lone_surrogates_in_a_search_are_422_naming_the_field(
    indexed: TestClient, body: str, field: str
) -> None:
    r = post_raw(indexed, "/search", body)
    assert_error(r, 422, "invalid_input", field, "surrogate", "UTF-8")
    r.json()["detail"].encode("utf-8")  # the answer itself is valid UTF-8
    # a proper pair (an emoji) is text, not an error
    ok = post_raw(indexed, "/search", '{"query": "cat \\ud83d\\ude00", "collection": "news"}')
    assert ok.status_code == 200, ok.text


DOC_FIELDS = [
    ('{"id": "s1", "text": "\\ud800 cat"}', "body.documents.1.text"),
    ('{"id": "s1", "text": "cat", "title": "\\udc00"}', "body.documents.1.title"),
    ('{"id": "\\ud800", "text": "cat"}', "body.documents.1.id"),
    ('{"id": "s1", "text": "cat", "metadata": {"tag": "\\ud800"}}',
     "body.documents.1.metadata.tag"),
    ('{"id": "s1", "text": "cat", "metadata": {"\\ud800": 1}}',
     "a key in body.documents.1.metadata"),
    ('{"id": "s1", "text": "cat", "source": "\\ud800"}', "body.documents.1.source"),
    ('{"id": "s1", "text": "cat", "metadata": {"year": NaN}}', "body.documents.1.metadata.year"),
    ('{"id": "s1", "text": "cat", "metadata": {"w": -Infinity}}', "body.documents.1.metadata.w"),
    ('{"id": "s1", "text": "cat", "metadata": {"w": 1e999}}', "body.documents.1.metadata.w"),
    ('{"id": "s1", "text": "cat", "metadata": {"n": 18446744073709551616}}',
     "body.documents.1.metadata.n"),
]


@pytest.mark.parametrize(("doc", "field"), DOC_FIELDS)
def test_a_bad_value_in_one_document_refuses_the_batch_before_anything_is_written(
    client: TestClient, doc: str, field: str
) -> None:
    good = json.dumps({"id": "g0", "text": "a good document about trains"})
    r = post_raw(client, WRITE, f'{{"documents": [{good}, {doc}]}}')
    assert_error(r, 422, "invalid_input", field)
    assert doc_count(client) is None  # not even the good document before it was written


def test_integers_beyond_64_bits_are_refused_not_turned_into_floats(indexed: TestClient) -> None:
    big = str(2**64)
    r = post_raw(indexed, "/search", f'{{"query": "x", "collection": "news", "k": {big}}}')
    assert_error(r, 422, "invalid_input", "body.k", "64 bits")
    r = post_raw(indexed, "/search",
                 f'{{"query": "x", "collection": "news", "metadata": {{"year": {big}}}}}')
    assert_error(r, 422, "invalid_input", "body.metadata.year", "64 bits")
    r = indexed.get("/search", params={"q": "x", "collection": COLLECTION, "k": big})
    assert_error(r, 422, "validation_error", "k")
    # the largest 64-bit integer is a value like any other (here: above the k limit)
    n = 2**63 - 1
    r = post_raw(indexed, WRITE, f'{{"documents": [{{"id": "i64", "text": "t", "metadata": '
                                 f'{{"n": {n}}}}}]}}')
    assert r.status_code == 200, r.text
    stored = indexed.get(f"{WRITE}/i64").json()
    assert stored["metadata"]["n"] == n and isinstance(stored["metadata"]["n"], int)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ('"k": true', "k"),
        ('"offset": false', "offset"),
        ('"min_score": true', "min_score"),
        ('"ranges": {"year": {"gte": true}}', "ranges.year.gte"),
        ('"group_translations": 1', "group_translations"),
        ('"k": 2.0', "k"),
        ('"k": "3"', "k"),
    ],
)
def test_booleans_and_strings_never_pass_as_numbers(
    indexed: TestClient, extra: str, field: str
) -> None:
    r = post_raw(indexed, "/search", f'{{"query": "train", "collection": "news", {extra}}}')
    assert_error(r, 422, "validation_error", f"body.{field}")


def test_a_boolean_id_is_refused_and_document_1_is_untouched(client: TestClient) -> None:
    r = client.post(WRITE, json={"documents": [{"id": "1", "text": "the original document"}]})
    assert r.status_code == 200
    for bad in ("true", "false", "1.0", "[1]", "{}"):
        r = post_raw(client, WRITE, f'{{"documents": [{{"id": {bad}, "text": "an impostor"}}]}}')
        assert_error(r, 422, "validation_error", "body.documents.0.id")
    assert client.get(f"{WRITE}/1").json()["text"] == "the original document"
    assert doc_count(client) == 1
    # an integer id is still an id (its decimal string)
    r = client.post(WRITE, json={"documents": [{"id": 7, "text": "seven"}]})
    assert r.status_code == 200 and r.json()["results"][0]["id"] == "7"


@pytest.mark.parametrize(
    "bad_id",
    ["a\nb", "tab\there", "nul\x00", "cr\r", "del\x7f", "ls\u2028", "../etc", "a/./b", "a/..",
     "x" * (MAX_ID_CHARS + 1)],
)
def test_ids_that_no_url_can_reach_are_refused(client: TestClient, bad_id: str) -> None:
    r = client.post(WRITE, json={"documents": [{"id": bad_id, "text": "unreachable"}]})
    assert_error(r, 422, "validation_error", "body.documents.0.id", "printable")
    assert doc_count(client) is None


def test_every_accepted_id_can_be_read_and_deleted(client: TestClient) -> None:
    ids = ["plain", "faq/reset.md", "with space", "ünïcode/日本", "q?x=1#frag", "x" * MAX_ID_CHARS,
           ".hidden", "a..b"]
    r = client.post(WRITE, json={"documents": [{"id": i, "text": f"doc {i}"} for i in ids]})
    assert r.status_code == 200 and r.json()["indexed"] == len(ids), r.text
    from urllib.parse import quote

    for doc_id in ids:
        url = f"{WRITE}/{quote(doc_id, safe='/')}"
        got = client.get(url)
        assert got.status_code == 200 and got.json()["id"] == doc_id, (doc_id, got.text)
        assert client.delete(url).status_code == 200, doc_id
    assert doc_count(client) == 0


def test_a_trailing_newline_is_not_part_of_a_collection_name(indexed: TestClient) -> None:
    # One pattern for the API and the store, matched whole ("$" alone lets "news\n" pass).
    from xsearch.api.deps import COLLECTION_PATTERN

    assert COLLECTION_PATTERN is COLLECTION_NAME_PATTERN
    with pytest.raises(InputError):
        validate_name("news\n")
    assert validate_name("news") == "news"
    r = indexed.post("/search", json={"query": "train", "collection": "news\n"})
    assert_error(r, 422, "invalid_input", "invalid collection name")
    r = indexed.get("/search", params={"q": "train", "collection": "news\n"})
    assert_error(r, 422, "invalid_input", "invalid collection name")
    r = indexed.post("/collections/news%0A/documents", json={"documents": [{"text": "x"}]})
    assert_error(r, 422, "validation_error", "collection")
    assert indexed.get("/collections/news%0A").status_code == 422


def test_a_refused_cors_preflight_answers_the_one_error_body(make_client: ClientFactory) -> None:
    c = make_client(cors_origins=["https://app.example.org"])
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "x-api-key"}
    r = c.options("/search", headers={**preflight, "Origin": "https://evil.example"})
    assert_error(r, 400, "cors_refused", "origin", "XSEARCH_CORS_ORIGINS")
    r = c.options("/search", headers={**preflight, "Origin": "https://app.example.org",
                                      "Access-Control-Request-Method": "PUT"})
    assert_error(r, 400, "cors_refused", "method")
    ok = c.options("/search", headers={**preflight, "Origin": "https://app.example.org"})
    assert ok.status_code == 200
