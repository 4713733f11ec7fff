"""CORS whose refusals answer the one error body, like every other error of the API.

Starlette's CORSMiddleware answers a refused preflight with ``text/plain``
("Disallowed CORS origin"); a client with one error parser for the whole API
then fails on it. Same decision, same headers, the ``{"error", "detail"}`` body.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from xsearch.api.errors import error_response

_DROP = {"content-type", "content-length"}  # the JSON response sets its own


class JsonCORSMiddleware(CORSMiddleware):
    def preflight_response(self, request_headers: Headers) -> Response:
        plain = super().preflight_response(request_headers)
        if plain.status_code < 400:
            return plain
        refused = bytes(plain.body).decode("utf-8", "replace").removeprefix("Disallowed CORS ")
        headers = {k: v for k, v in plain.headers.items() if k.lower() not in _DROP}
        detail = (
            f"CORS preflight refused ({refused} not allowed): call from an origin listed in "
            "XSEARCH_CORS_ORIGINS on the server, with GET, POST or DELETE and only the "
            "headers Content-Type, Authorization and X-API-Key"
        )
        return error_response(plain.status_code, "cors_refused", detail, headers)
