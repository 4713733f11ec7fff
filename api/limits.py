"""Request limits: body size (a middleware), query length, k, offset and batch size.

Every message states the number that was exceeded and the setting that raises
it, so an operator can tell a client's mistake from a limit set too low.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xsearch.errors import InputError, LimitExceeded
from xsearch.schemas import SearchRequest
from xsearch.settings import Settings


def body_limit_message(limit: int, size: int | None = None) -> str:
    got = f"{size} bytes" if size is not None else "more"
    return (
        f"the request body is {got}, the limit is {limit} bytes: send smaller batches "
        "(or raise XSEARCH_MAX_BODY_BYTES on the server)"
    )


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the limit.

    An HTTPException, because FastAPI re-raises those unchanged while it reads
    a body (any other exception there becomes a generic 400).
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, body_limit_message(limit))


class BodySizeLimitMiddleware:
    """Refuse request bodies above ``max_bytes`` before they are parsed.

    A declared Content-Length above the limit is answered at once without
    reading the body; a chunked body is counted as it streams in.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _send_json(send, 413, "payload_too_large",
                             body_limit_message(self.max_bytes, declared))
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_json(send: Send, status: int, code: str, detail: str) -> None:
    body = json.dumps({"error": code, "detail": detail}).encode("utf-8")
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ],
    })
    await send({"type": "http.response.body", "body": body})


def check_search(req: SearchRequest, settings: Settings) -> str:
    """The library's limits check (``xsearch.search.validate_request``), run before
    the query is queued for encoding, so a bad request costs nothing."""
    from xsearch.search import validate_request

    return validate_request(req, settings)


def check_batch(count: int, settings: Settings) -> None:
    if count == 0:
        raise InputError("the batch holds no documents", fix='send {"documents": [{...}, ...]}')
    if count > settings.max_batch_docs:
        raise LimitExceeded(
            f"the batch holds {count} documents, the limit is {settings.max_batch_docs}",
            fix="split it into smaller batches (or raise XSEARCH_MAX_BATCH_DOCS on the server)",
        )
