"""``xsearch.Client`` and ``xsearch.AsyncClient``: the Engine's methods over the HTTP API.

Same arguments, same typed results (``xsearch.schemas``), same errors: the
API's error body ``{"error": code, "detail": message}`` comes back as the
``XSearchError`` subclass with that code, so ``except CollectionNotFound``
works whether the engine runs in this process or behind ``xsearch serve``.

Each method is a request (built by ``_Calls``) and a parser, shared by the
sync and the async client; only sending differs. Transient answers (the
server starting or busy: 502/503/504, connection errors) are retried with a
doubling pause.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar, Unpack
from urllib.parse import quote

import httpx

from xsearch import errors
from xsearch.library import (
    DEFAULT_COLLECTION,
    DocumentLike,
    SearchOptions,
    document_payload,
    id_list,
    index_response,
    search_request,
)
from xsearch.schemas import (
    CollectionInfo,
    CollectionList,
    CollectionSummary,
    DeleteResponse,
    DocResult,
    EncodeResponse,
    IndexResponse,
    Kind,
    SearchResponse,
    StoredDocument,
)

if TYPE_CHECKING:
    import numpy as np

T = TypeVar("T")

# Transient answers worth a retry: the server is starting, restarting or busy.
RETRY_STATUS = frozenset({502, 503, 504})

# Codes the API answers for errors outside the XSearchError tree (validation,
# routing, body size), mapped to the class the Engine raises for the same mistake.
_FOREIGN_CODES: dict[str, type[errors.XSearchError]] = {
    "validation_error": errors.InputError,
    "invalid_json": errors.InputError,
    "bad_request": errors.InputError,
    "payload_too_large": errors.LimitExceeded,
    "unauthorized": errors.AuthError,
    "forbidden": errors.AuthError,
}


class RemoteError(errors.XSearchError):
    """The API answered an error with no matching class (e.g. a 500, or no JSON body)."""

    code = "remote_error"
    status_code = 502


def _error_classes() -> dict[str, type[errors.XSearchError]]:
    found: dict[str, type[errors.XSearchError]] = {}
    todo: list[type[errors.XSearchError]] = [errors.XSearchError]
    while todo:
        cls = todo.pop()
        found.setdefault(cls.code, cls)
        todo.extend(cls.__subclasses__())
    return found | _FOREIGN_CODES


def error_from(resp: httpx.Response) -> errors.XSearchError:
    """The XSearchError an error response stands for (its message is the server's)."""
    body = _body(resp)
    code, detail = body.get("error"), body.get("detail")
    if not isinstance(detail, str):
        detail = resp.text[:500] or resp.reason_phrase
    cls = _error_classes().get(code) if isinstance(code, str) else None
    if cls is None:
        where = f"{resp.request.method} {resp.request.url}"
        return RemoteError(
            f"{where} answered {resp.status_code}: {detail}",
            fix="see the server log; the message above comes from the server",
        )
    # The server's message already names the fix: keep it whole.
    return cls(detail)


def _body(resp: httpx.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except (json.JSONDecodeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


@dataclass
class Call(Generic[T]):
    """One HTTP request and how to read its answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    json: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    # An error code that is an answer, not a failure (a missing document -> None).
    absent: str | None = None
    absent_value: Any = None


def _model(cls: type[Any]) -> Callable[[httpx.Response], Any]:
    return lambda resp: cls.model_validate(resp.json())


def _seg(text: str, safe: str = "") -> str:
    return quote(text, safe=safe)


class _Calls:
    """The requests behind each method, shared by Client and AsyncClient."""

    def __init__(self, collection: str) -> None:
        self.collection = collection

    def _docs(self, collection: str | None) -> str:
        return f"/collections/{_seg(collection or self.collection)}/documents"

    def add(self, payloads: list[dict[str, Any]], collection: str | None) -> Call[IndexResponse]:
        body = {"documents": payloads}
        return Call("POST", self._docs(collection), _model(IndexResponse), json=body)

    def search(self, query: str, options: SearchOptions) -> Call[SearchResponse]:
        req = search_request(self.collection, query, options)
        body = req.model_dump(exclude_none=True)
        return Call("POST", "/search", _model(SearchResponse), json=body)

    def get(self, doc_id: str, collection: str | None) -> Call[StoredDocument | None]:
        path = f"{self._docs(collection)}/{_seg(doc_id, safe='/')}"
        return Call("GET", path, _model(StoredDocument), absent="document_not_found")

    def delete(self, doc_id: str, collection: str | None) -> Call[int]:
        path = f"{self._docs(collection)}/{_seg(doc_id, safe='/')}"
        parse = lambda r: DeleteResponse.model_validate(r.json()).deleted_passages  # noqa: E731
        return Call("DELETE", path, parse, absent="document_not_found", absent_value=0)

    def stats(self, collection: str | None) -> Call[CollectionInfo]:
        path = f"/collections/{_seg(collection or self.collection)}"
        return Call("GET", path, _model(CollectionInfo))

    def collections(self) -> Call[list[CollectionSummary]]:
        parse = lambda r: CollectionList.model_validate(r.json()).collections  # noqa: E731
        return Call("GET", "/collections", parse)

    def encode(self, texts: list[str], kind: Kind) -> Call[np.ndarray]:
        def parse(resp: httpx.Response) -> np.ndarray:
            import numpy as np

            body = EncodeResponse.model_validate(resp.json())
            # reshape: no texts is an empty [0, dimension] array, as the Engine returns
            return np.asarray(body.vectors, dtype=np.float32).reshape(-1, body.dimension)

        return Call("POST", "/encode", parse, json={"texts": texts, "kind": kind})


def _answer(call: Call[T], resp: httpx.Response) -> T:
    if resp.is_success:
        return call.parse(resp)
    err = error_from(resp)
    if call.absent is not None and err.code == call.absent:
        return call.absent_value
    raise err


def _unreachable(url: str, exc: Exception) -> errors.StoreError:
    return errors.StoreError(
        f"the xsearch API at {url} did not answer ({exc})",
        fix="check that `xsearch serve` runs there and the URL is right",
    )


def _headers(api_key: str | None) -> dict[str, str]:
    return {"X-API-Key": api_key} if api_key else {}


def _split(items: list[T]) -> tuple[list[T], list[T]]:
    half = len(items) // 2
    return items[:half], items[half:]


def _stacked(parts: list[np.ndarray]) -> np.ndarray:
    import numpy as np

    return np.concatenate(parts)


def _merged(collection: str, parts: Sequence[IndexResponse]) -> IndexResponse:
    return index_response(collection, [r for part in parts for r in part.results])


def _too_large(collection: str, payload: dict[str, Any], resp: httpx.Response) -> IndexResponse:
    # One document alone above the server's body limit: rejected in its place,
    # like a document that fails validation, so the rest of a run goes on.
    raw_id = payload.get("id")
    result = DocResult(
        id=None if raw_id is None else str(raw_id),
        status="rejected",
        reason=f"too large for the API: {error_from(resp)}",
    )
    return index_response(collection, [result])


class Client:
    """The Engine's methods on a running ``xsearch serve`` (``url``), synchronously.

    A batch the server finds too large (413) is split in two and sent again,
    so ``add`` and ``encode`` take any number of items, as the Engine's do; a
    single document too large for the server is reported ``rejected``.
    """

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        collection: str = DEFAULT_COLLECTION,
        timeout: float = 600.0,
        retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.collection = collection
        self.retries, self.backoff = retries, backoff
        self._calls = _Calls(collection)
        # Long timeout: a batch of large documents takes the server a while to encode.
        self._http = httpx.Client(
            base_url=self.url, headers=_headers(api_key), timeout=timeout, transport=transport
        )

    def _send(self, call: Call[Any]) -> httpx.Response:
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                resp = self._http.request(
                    call.method, call.path, json=call.json, params=call.params or None
                )
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise _unreachable(self.url, exc) from exc
            else:
                if resp.status_code not in RETRY_STATUS or attempt == self.retries:
                    return resp
            time.sleep(delay)
            delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")

    def _do(self, call: Call[T]) -> T:
        return _answer(call, self._send(call))

    def add(
        self, documents: Iterable[DocumentLike], *, collection: str | None = None
    ) -> IndexResponse:
        return self._add([document_payload(d) for d in documents], collection)

    def _add(self, payloads: list[dict[str, Any]], collection: str | None) -> IndexResponse:
        call = self._calls.add(payloads, collection)
        resp = self._send(call)
        if resp.status_code == 413 and len(payloads) > 1:
            first, second = _split(payloads)
            parts = [self._add(first, collection), self._add(second, collection)]
            return _merged(collection or self.collection, parts)
        if resp.status_code == 413:
            return _too_large(collection or self.collection, payloads[0], resp)
        return _answer(call, resp)

    def search(self, query: str, **options: Unpack[SearchOptions]) -> SearchResponse:
        return self._do(self._calls.search(query, options))

    def get(self, doc_id: str, *, collection: str | None = None) -> StoredDocument | None:
        return self._do(self._calls.get(doc_id, collection))

    def delete(self, ids: str | Sequence[str], *, collection: str | None = None) -> int:
        return sum(self._do(self._calls.delete(i, collection)) for i in id_list(ids))

    def stats(self, collection: str | None = None) -> CollectionInfo:
        return self._do(self._calls.stats(collection))

    def collections(self) -> list[CollectionSummary]:
        return self._do(self._calls.collections())

    def encode(self, texts: str | Sequence[str], *, kind: Kind = "passage") -> np.ndarray:
        if isinstance(texts, str):
            return self._encode([texts], kind)[0]
        return self._encode(list(texts), kind)

    def _encode(self, texts: list[str], kind: Kind) -> np.ndarray:
        call = self._calls.encode(texts, kind)
        resp = self._send(call)
        if resp.status_code == 413 and len(texts) > 1:  # above the server's limit: halves
            first, second = _split(texts)
            return _stacked([self._encode(first, kind), self._encode(second, kind)])
        return _answer(call, resp)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.url!r}, collection={self.collection!r})"


class AsyncClient:
    """``Client`` for asyncio programs: the same methods, awaited."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        collection: str = DEFAULT_COLLECTION,
        timeout: float = 600.0,
        retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.collection = collection
        self.retries, self.backoff = retries, backoff
        self._calls = _Calls(collection)
        self._http = httpx.AsyncClient(
            base_url=self.url, headers=_headers(api_key), timeout=timeout, transport=transport
        )

    async def _send(self, call: Call[Any]) -> httpx.Response:
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                resp = await self._http.request(
                    call.method, call.path, json=call.json, params=call.params or None
                )
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise _unreachable(self.url, exc) from exc
            else:
                if resp.status_code not in RETRY_STATUS or attempt == self.retries:
                    return resp
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")

    async def _do(self, call: Call[T]) -> T:
        return _answer(call, await self._send(call))

    async def add(
        self, documents: Iterable[DocumentLike], *, collection: str | None = None
    ) -> IndexResponse:
        return await self._add([document_payload(d) for d in documents], collection)

    async def _add(self, payloads: list[dict[str, Any]], collection: str | None) -> IndexResponse:
        call = self._calls.add(payloads, collection)
        resp = await self._send(call)
        if resp.status_code == 413 and len(payloads) > 1:
            first, second = _split(payloads)
            parts = [await self._add(first, collection), await self._add(second, collection)]
            return _merged(collection or self.collection, parts)
        if resp.status_code == 413:
            return _too_large(collection or self.collection, payloads[0], resp)
        return _answer(call, resp)

    async def search(self, query: str, **options: Unpack[SearchOptions]) -> SearchResponse:
        return await self._do(self._calls.search(query, options))

    async def get(self, doc_id: str, *, collection: str | None = None) -> StoredDocument | None:
        return await self._do(self._calls.get(doc_id, collection))

    async def delete(self, ids: str | Sequence[str], *, collection: str | None = None) -> int:
        return sum([await self._do(self._calls.delete(i, collection)) for i in id_list(ids)])

    async def stats(self, collection: str | None = None) -> CollectionInfo:
        return await self._do(self._calls.stats(collection))

    async def collections(self) -> list[CollectionSummary]:
        return await self._do(self._calls.collections())

    async def encode(self, texts: str | Sequence[str], *, kind: Kind = "passage") -> np.ndarray:
        if isinstance(texts, str):
            return (await self._encode([texts], kind))[0]
        return await self._encode(list(texts), kind)

    async def _encode(self, texts: list[str], kind: Kind) -> np.ndarray:
        call = self._calls.encode(texts, kind)
        resp = await self._send(call)
        if resp.status_code == 413 and len(texts) > 1:
            first, second = _split(texts)
            return _stacked([await self._encode(first, kind), await self._encode(second, kind)])
        return _answer(call, resp)

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncClient({self.url!r}, collection={self.collection!r})"
