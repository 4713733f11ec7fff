"""One JSON error body for every error the API answers: ``{"error": code, "detail": text}``.

Library errors (``XSearchError``) keep their own code and status; Starlette's
404/405, FastAPI's validation errors and unexpected exceptions are mapped to
the same shape, so a client needs one parser for every failure.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from xsearch.errors import XSearchError

log = logging.getLogger("xsearch.api")

# Codes for errors that do not come from the XSearchError tree.
_STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: str = Field(..., description="machine-readable code, e.g. 'collection_not_found'")
    detail: str = Field(..., description="what went wrong and what to do about it")


_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request (for example a body that is not valid JSON)",
    401: "Missing or invalid API key",
    404: "Unknown collection or document",
    409: "Collection built with another model bundle, or store in use",
    413: "Request body or document batch above the configured limit",
    422: "Invalid parameters, an empty query or a value above a configured limit",
    500: "Unexpected server error",
    503: "Model bundle or store not available",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` mapping documenting these error statuses in OpenAPI."""
    return {c: {"model": ErrorBody, "description": _DESCRIPTIONS.get(c, "Error")} for c in codes}


def error_response(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    # A detail may quote what the client sent; a lone surrogate in it would make
    # the response itself unencodable (a 500 while answering a 4xx): escape it.
    detail = detail.encode("utf-8", "backslashreplace").decode("utf-8")
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


def _code_for(status: int) -> str:
    if status in _STATUS_CODES:
        return _STATUS_CODES[status]
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


async def _xsearch_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, XSearchError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    if exc.status_code >= 500:
        log.error("%s %s -> %s: %s", request.method, request.url.path, exc.code, exc)
    return error_response(exc.status_code, exc.code, str(exc), headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no route {request.url.path}: the API is described at /docs"
    elif exc.status_code == 405 and detail == "Method Not Allowed":
        # Starlette's Allow header names the methods of the first route that
        # matched the path only, so the message points at the full list instead.
        detail = f"{request.method} is not allowed on {request.url.path}: /docs lists the methods"
    return error_response(exc.status_code, _code_for(exc.status_code), detail, exc.headers)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    # "body" / "query" / "path" tell the client where to look; keep them first.
    return ".".join(parts) if parts else "request"


def describe_validation(exc: RequestValidationError) -> tuple[int, str, str]:
    """(status, code, detail) for a FastAPI validation error."""
    errors = list(exc.errors())
    bad_json = [e for e in errors if e.get("type") == "json_invalid"]
    if bad_json:
        ctx = bad_json[0].get("ctx") or {}
        pos = bad_json[0].get("loc", ("body", "?"))[-1]
        reason = ctx.get("error", "invalid JSON")
        return 400, "invalid_json", (
            f"the request body is not valid JSON ({reason} at character {pos}): "
            "send a JSON object with Content-Type: application/json"
        )
    parts = []
    for e in errors[:10]:
        msg = e.get("msg", "invalid value")
        parts.append(f"{_location(e.get('loc', ()))}: {msg}")
    more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
    return 422, "validation_error", "; ".join(parts) + more + ": fix these fields (see /docs)"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    status, code, detail = describe_validation(exc)
    return error_response(status, code, detail)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the server log only: it may hold internals or data.
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    # Starlette re-raises the exception after this response is sent, and uvicorn
    # then drops the connection; saying so up front lets a keep-alive client
    # open a fresh connection for its next request instead of failing on a dead one.
    return error_response(
        500,
        "internal_error",
        "unexpected server error: the server log has the details; please report it",
        headers={"Connection": "close"},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(XSearchError, _xsearch_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
