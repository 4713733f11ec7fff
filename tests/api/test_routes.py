"""Every route through HTTP with a real engine (tiny bundle, embedded store)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.api.conftest import COLLECTION, assert_error
from tests.api.corpus import TOPICS, documents

N_DOCS = len(documents())
LANGS = set(next(iter(TOPICS.values())))


def test_index_reports_each_document_and_is_idempotent(client: TestClient) -> None:
    docs = documents()[:5] + [{"id": "blank", "text": "   "}]
    r = client.post(f"/collections/{COLLECTION}/documents", json={"documents": docs})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["indexed"], body["unchanged"], body["rejected"]) == (5, 0, 1)
    assert [x["id"] for x in body["results"]] == [d["id"] for d in docs]  # input order
    assert all(x["passages"] >= 1 for x in body["results"][:5])
    assert body["results"][5]["status"] == "rejected" and "empty" in body["results"][5]["reason"]
    again = client.post(f"/collections/{COLLECTION}/documents", json={"documents": docs[:5]})
    assert [x["status"] for x in again.json()["results"]] == ["unchanged"] * 5


def test_get_and_delete_a_document_with_a_path_like_id(indexed: TestClient) -> None:
    original = next(d for d in documents() if d["id"] == "train/ar")
    r = indexed.get(f"/collections/{COLLECTION}/documents/train/ar")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["id"] == "train/ar" and doc["text"] == original["text"]
    assert doc["title"] == original["title"] and doc["metadata"]["topic"] == "train"
    assert doc["n_passages"] == len(doc["passages"]) >= 1 and doc["complete"] is True
    r = indexed.delete(f"/collections/{COLLECTION}/documents/train/ar")
    assert r.status_code == 200 and r.json()["deleted_passages"] == doc["n_passages"]
    assert_error(indexed.get(f"/collections/{COLLECTION}/documents/train/ar"), 404,
                 "document_not_found")
    assert indexed.get(f"/collections/{COLLECTION}").json()["documents"] == N_DOCS - 1


def test_collections_list_and_stats(indexed: TestClient) -> None:
    r = indexed.get("/collections")
    assert r.status_code == 200
    assert r.json()["collections"] == [
        {"name": COLLECTION, "bundle": r.json()["collections"][0]["bundle"], "compatible": True}
    ]
    info = indexed.get(f"/collections/{COLLECTION}").json()
    assert info["documents"] == N_DOCS and info["points"] >= N_DOCS
    assert set(info["languages"]) == LANGS
    assert info["compatible"] is True and info["dimension"] > 0
    assert "meta" not in info


def _check_hits(body: dict, k: int) -> None:
    assert 0 < len(body["hits"]) <= k
    scores = [h["score"] for h in body["hits"]]
    if body["balance"] in ("none", "centered"):  # fair/interleave: languages take turns
        assert scores == sorted(scores, reverse=True)
    assert len({h["doc_id"] for h in body["hits"]}) == len(body["hits"])  # grouped by document
    for h in body["hits"]:
        doc = next(d for d in documents() if d["id"] == h["doc_id"])
        s = h["snippet"]
        assert doc["text"][s["start"] : s["end"]] == s["text"]  # offsets point into the doc
        assert h["lang"] == doc["lang"]
        if body["query_lang"] != "und":
            assert h["cross_language"] == (h["lang"] != body["query_lang"])
    t = body["timings"]
    assert t["total_ms"] >= t["search_ms"] > 0 and t["encode_ms"] >= 0  # 0: a kept vector


def test_search_get_and_post(indexed: TestClient) -> None:
    r = indexed.get("/search", params={"q": "the next train", "collection": COLLECTION, "k": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    _check_hits(body, 5)
    assert body["query"] == "the next train" and body["collection"] == COLLECTION
    r = indexed.post("/search", json={"query": "the next train", "collection": COLLECTION, "k": 5})
    assert [h["doc_id"] for h in r.json()["hits"]] == [h["doc_id"] for h in body["hits"]]
    # pages are disjoint
    page2 = indexed.get(
        "/search", params={"q": "the next train", "collection": COLLECTION, "k": 5, "offset": 5}
    ).json()
    assert not {h["doc_id"] for h in page2["hits"]} & {h["doc_id"] for h in body["hits"]}


def test_a_repeated_query_is_answered_from_its_kept_vector(make_client) -> None:  # noqa: ANN001
    """The next page and a refresh reuse the first vector: no encoding, the same
    ranking (int8 would otherwise re-encode it in another micro-batch)."""
    from tests.api.corpus import documents

    for size, hits in ((4096, 1), (0, 0)):
        c = make_client(query_cache_size=size)
        assert c.post(f"/collections/{COLLECTION}/documents", json={"documents": documents()})
        params = {"q": "the next train", "collection": COLLECTION, "k": 5}
        first = c.get("/search", params=params).json()
        again = c.get("/search", params=params).json()
        page2 = c.get("/search", params={**params, "offset": 5}).json()
        assert [(h["doc_id"], h["score"]) for h in again["hits"]] == [
            (h["doc_id"], h["score"]) for h in first["hits"]
        ]
        assert not {h["doc_id"] for h in page2["hits"]} & {h["doc_id"] for h in first["hits"]}
        assert (again["timings"]["encode_ms"] == 0.0) is bool(hits), (size, again["timings"])
        assert _metric(c.get("/metrics").text, "xsearch_query_cache_hits_total") == 2 * hits


def test_search_echoes_the_ranking_applied(indexed: TestClient) -> None:
    base = {"q": "the next train", "collection": COLLECTION, "k": 5}
    body = indexed.get("/search", params=base).json()
    assert (body["balance"], body["mode"], body["group_translations"]) == (
        "fair", "hybrid", False,
    )  # the settings' defaults
    asked = {"balance": "interleave", "mode": "hybrid", "group_translations": "true"}
    body = indexed.get("/search", params={**base, **asked}).json()
    assert (body["balance"], body["mode"], body["group_translations"]) == (
        "interleave", "hybrid", True,
    )
    assert body["hits"]


def test_search_filters(indexed: TestClient) -> None:
    params = [("q", "volcano"), ("collection", COLLECTION), ("k", "20"), ("lang", "de"),
              ("lang", "ja")]
    hits = indexed.get("/search", params=params).json()["hits"]
    assert {h["lang"] for h in hits} == {"de", "ja"} and len(hits) == 8
    params = [("q", "volcano"), ("collection", COLLECTION), ("k", "30"), ("exclude_lang", "ar")]
    hits = indexed.get("/search", params=params).json()["hits"]
    assert len(hits) == N_DOCS - 4 and "ar" not in {h["lang"] for h in hits}
    body = {"query": "volcano", "collection": COLLECTION, "k": 30,
            "metadata": {"topic": ["bread", "football"]}, "langs": ["fr"]}
    hits = indexed.post("/search", json=body).json()["hits"]
    assert sorted(h["doc_id"] for h in hits) == ["bread/fr", "football/fr"]
    assert all(h["metadata"]["topic"] in ("bread", "football") for h in hits)


def test_unicode_and_rtl_queries(indexed: TestClient) -> None:
    for q in ("القطار التالي إلى المطار", "הרכבת הבאה לשדה התעופה", "空港行きの次の電車",
              "Следующий поезд", "Zürich → Genève 🚆", "e\u0301te\u0301 cafe\u0301"):
        encode_ms = []
        for resp in (
            indexed.get("/search", params={"q": q, "collection": COLLECTION}),
            indexed.post("/search", json={"query": f"  {q}\n", "collection": COLLECTION}),
        ):
            assert resp.status_code == 200, (q, resp.text)
            body = resp.json()
            assert body["query"] == q  # echoed intact (stripped), not mangled
            assert re.fullmatch(r"[a-z]{2,3}|und", body["query_lang"])
            _check_hits(body, 10)
            encode_ms.append(body["timings"]["encode_ms"])
        # encoded once: the stripped second form is the same query, its vector kept
        assert encode_ms[0] > 0 and encode_ms[1] == 0, (q, encode_ms)


def test_ops_routes(indexed: TestClient) -> None:
    assert indexed.get("/health").json() == {"status": "ok"}
    ready = indexed.get("/ready").json()
    assert ready["status"] == "ready" and ready["store"] == "edge" and ready["collections"] == 1
    info = indexed.get("/info").json()
    coll = indexed.get(f"/collections/{COLLECTION}").json()
    assert info["dimension"] == coll["dimension"] and info["fingerprint"] == coll["fingerprint"]
    assert info["bundle"] == ready["bundle"] and info["provider"]
    assert info["write_key_required"] is False and info["read_key_required"] is False
    assert info["limits"]["max_k"] == 100


def _metric(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {line_start!r} in:\n{text}")


def test_metrics_count_requests_encoding_and_documents(indexed: TestClient) -> None:
    for _ in range(3):
        r = indexed.get("/search", params={"q": "bread", "collection": COLLECTION})
        assert r.status_code == 200
    indexed.get("/search", params={"q": "", "collection": COLLECTION})
    indexed.get(f"/collections/{COLLECTION}/documents/train/fr")
    r = indexed.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    search = 'xsearch_http_requests_total{method="GET",route="/search",status='
    assert _metric(text, search + '"200"}') == 3
    assert _metric(text, search + '"422"}') == 1
    # route templates, not raw paths: the document id is not a label value
    assert "train/fr" not in text
    assert _metric(text, 'xsearch_http_requests_total{method="GET",route='
                   '"/collections/{collection}/documents/{doc_id:path}",status="200"}') == 1
    assert _metric(text, 'xsearch_http_request_duration_seconds_count{method="GET",'
                   'route="/search"}') == 4
    inf = _metric(text, 'xsearch_http_request_duration_seconds_bucket{method="GET",'
                  'route="/search",le="+Inf"}')
    assert inf == 4
    # the same query three times: encoded once, then its kept vector twice
    assert _metric(text, "xsearch_encode_seconds_count") == 1
    assert _metric(text, "xsearch_query_cache_hits_total") == 2
    assert _metric(text, "xsearch_search_seconds_count") == 3
    assert _metric(text, 'xsearch_documents_indexed_total{status="indexed"}') == N_DOCS
    # histogram buckets are cumulative (non-decreasing)
    buckets = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("xsearch_search_seconds_bucket")]
    assert buckets == sorted(buckets) and buckets[-1] == 3


def test_page_static_files_and_openapi(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for needle in ('role="search"', 'id="q"', 'id="collection"', 'id="lang-chips"',
                   'id="results"', '/static/app.js', 'aria-live="polite"', 'dir="auto"'):
        assert needle in page.text, needle
    js = client.get("/static/app.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert ".innerHTML" not in js.text and "insertAdjacentHTML" not in js.text  # text only
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    error_ref = "#/components/schemas/ErrorBody"
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            errors = {c for c in op["responses"] if c.startswith(("4", "5"))}
            assert "500" in errors, f"{method} {path}"
            for code in errors:
                schema = op["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": error_ref}, (path, code)
            if op.get("parameters") or op.get("requestBody"):
                assert "422" in errors, f"{method} {path}"
            if op.get("requestBody"):  # malformed JSON, body limit
                assert {"400", "413"} <= errors, f"{method} {path}"
    assert "401" in spec["paths"]["/collections/{collection}/documents"]["post"]["responses"]
    assert "413" in spec["paths"]["/collections/{collection}/documents"]["post"]["responses"]
