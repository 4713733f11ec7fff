"""HTTP client for ``--api URL``: send documents to a running xsearch API.

The API server owns the embedded store while it runs (one process per
shard), so the CLI indexes through it instead of opening the store. The
server does the same skip-unchanged and crash-safe writes as a local run.

Contract (interfaces.md): ``POST {api}/collections/{c}/documents`` with
``{"documents": [...]}`` -> IndexResponse; the key goes in ``X-API-Key``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from xsearch.documents import Document
from xsearch.errors import AuthError, LimitExceeded, StoreError, XSearchError
from xsearch.schemas import DocResult, IndexResponse

# Transient answers worth a retry: the server is starting, restarting or busy.
_RETRY_STATUS = {502, 503, 504}


class ApiError(XSearchError):
    code = "api_error"


class ApiClient:
    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        timeout: float = 600.0,
        retries: int = 5,
        backoff: float = 1.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        headers = {"X-API-Key": api_key} if api_key else {}
        self.retries = retries
        self.backoff = backoff
        # Long timeout: a batch of large documents takes the server a while to encode.
        self._http = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- calls -----------------------------------------------------------------------
    def index(self, collection: str, docs: Sequence[Document]) -> list[DocResult]:
        """Index a batch; a batch the server finds too large (413) is split in two."""
        body = {"documents": [_document_in(d) for d in docs]}
        resp = self._request("POST", f"/collections/{_seg(collection)}/documents", json=body)
        if resp.status_code == 413 and len(docs) > 1:
            half = len(docs) // 2
            return self.index(collection, docs[:half]) + self.index(collection, docs[half:])
        if resp.status_code == 413:
            reason = f"too large for the API: {_detail(resp)}"
            return [DocResult(id=docs[0].id, status="rejected", reason=reason)]
        self._raise_for(resp)
        return IndexResponse.model_validate(resp.json()).results

    def delete(self, collection: str, doc_id: str) -> int:
        """Passages deleted (0 when the document does not exist)."""
        path = f"/collections/{_seg(collection)}/documents/{quote(doc_id, safe='/')}"
        resp = self._request("DELETE", path)
        if resp.status_code == 404 and _error_code(resp) == "document_not_found":
            return 0
        self._raise_for(resp)
        return int(resp.json().get("deleted_passages", 0))

    def list_collections(self) -> list[str]:
        resp = self._request("GET", "/collections")
        self._raise_for(resp)
        return [str(c["name"]) for c in resp.json()["collections"]]

    def collection_info(self, collection: str) -> dict[str, Any]:
        resp = self._request("GET", f"/collections/{_seg(collection)}")
        self._raise_for(resp)
        return resp.json()

    # --- plumbing ----------------------------------------------------------------------
    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                resp = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise StoreError(
                        f"the xsearch API at {self.url} did not answer ({exc})",
                        fix="check that `xsearch serve` runs there and the URL is right",
                    ) from exc
            else:
                if resp.status_code not in _RETRY_STATUS or attempt == self.retries:
                    return resp
            time.sleep(delay)
            delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")

    def _raise_for(self, resp: httpx.Response) -> None:
        if resp.is_success:
            return
        detail = _detail(resp)
        where = f"{resp.request.method} {resp.request.url}"
        if resp.status_code in (401, 403):
            raise AuthError(
                f"the xsearch API refused the request ({detail})",
                fix="pass a valid key with --api-key (or XSEARCH_API_KEY)",
            )
        if resp.status_code == 413:
            raise LimitExceeded(f"{where}: {detail}", fix="send smaller batches")
        raise ApiError(
            f"{where} answered {resp.status_code}: {detail}",
            fix="see the server log; the message above comes from the server",
        )


def _document_in(doc: Document) -> dict[str, Any]:
    out = {k: v for k, v in doc.to_dict().items() if v is not None}
    if not out.get("metadata"):
        out.pop("metadata", None)
    return out


def _seg(collection: str) -> str:
    return quote(collection, safe="")


def _error_body(resp: httpx.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except (json.JSONDecodeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _error_code(resp: httpx.Response) -> str | None:
    return _error_body(resp).get("error")


def _detail(resp: httpx.Response) -> str:
    body = _error_body(resp)
    detail = body.get("detail")
    if detail is None:
        return resp.text[:500] or resp.reason_phrase
    return detail if isinstance(detail, str) else json.dumps(detail)[:500]


def json_size(doc: Document) -> int:
    """Bytes the document takes in a request body (for batching under the body limit)."""
    return len(json.dumps(_document_in(doc), ensure_ascii=False).encode("utf-8")) + 2
