"""GraphQL over HTTP: the response media type a client accepts and the parameters it sent.

Follows https://graphql.github.io/graphql-over-http/draft/. POST bodies must be
`application/json`: that is not a CORS-safelisted content type, so a browser preflights
every cross-site POST and a cross-site form can never submit one; GET runs queries only.

Nothing is buffered before it is known to fit: `check_framing` refuses, from the headers
alone, a body no caller may send; `read_params` then reads the body as it streams in and
stops at the first byte over the caller's own limit, whatever the framing (a declared
`Content-Length` or chunks). A GET's query string stands in for its body.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from gateway.limits import LimitExceeded

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


class RequestError(Exception):
    """The HTTP request is not a GraphQL request this gateway runs; the message says why."""

    def __init__(self, message: str, status: int = 400, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def json_response(
    payload: Any,
    *,
    media_type: str = JSON,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """`payload` as UTF-8 JSON, labelled with the negotiated media type."""
    return Response(
        orjson.dumps(payload),
        status_code=status,
        headers=headers,
        media_type=f"{media_type}; charset=utf-8",
    )


def _media_range(part: str) -> tuple[str, float]:
    kind, *params = (p.strip() for p in part.split(";"))
    quality = 1.0
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "q":
            try:
                quality = min(max(float(value), 0.0), 1.0)
            except ValueError:
                quality = 0.0
    return kind.lower(), quality


def response_media_type(accept: str | None) -> str | None:
    """The media type to answer in, or None when the client accepts neither.

    `application/graphql-response+json` when the client names it at least as highly as
    JSON; `application/json` when named, matched by a wildcard, or no `Accept` was sent.
    """
    if accept is None or not accept.strip():
        return JSON
    ranges = [_media_range(part) for part in accept.split(",") if part.strip()]
    explicit = dict(ranges)
    graphql_q = explicit.get(GRAPHQL_RESPONSE, 0.0)
    # The most specific range decides (RFC 9110 §12.5.1): `application/json;q=0` beats `*/*`.
    json_q = next(
        (explicit[kind] for kind in (JSON, "application/*", "*/*") if kind in explicit), 0.0
    )
    if graphql_q > 0 and graphql_q >= json_q:
        return GRAPHQL_RESPONSE
    return JSON if json_q > 0 else None


def _parse_json(text: str | None, name: str) -> Any:
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise RequestError(f"`{name}` must be a JSON object.") from None


def _check_content_type(header: str) -> None:
    kind, *params = (p.strip() for p in header.split(";"))
    charsets = [
        value.strip().strip('"').lower()
        for key, _, value in (p.partition("=") for p in params)
        if key.strip().lower() == "charset"
    ]
    if kind.lower() != JSON or any(c not in ("utf-8", "utf8") for c in charsets):
        raise RequestError(
            "POST bodies must be JSON (Content-Type: application/json, UTF-8).",
            status=415,
            headers={"accept-post": JSON},
        )


def is_get(request: Request) -> bool:
    """True for a request whose parameters are in the query string (GET, HEAD)."""
    return request.method in ("GET", "HEAD")


def declared_length(request: Request) -> int | None:
    """The body's declared `Content-Length`, None when it is sent in chunks instead."""
    header = request.headers.get("content-length")
    if header is None:
        return None
    if not (header.isascii() and header.isdigit()):
        raise RequestError("Content-Length must be a number of bytes.")
    return int(header)


def body_size(request: Request) -> int | None:
    """What is known of the request's size before reading it: a GET's query string, a
    POST's declared length (None when chunked)."""
    if is_get(request):
        return len(request.scope.get("query_string", b""))
    return declared_length(request)


def check_framing(request: Request, largest: int) -> None:
    """Refuse from the headers alone what no caller may send: a POST that is not JSON
    (RequestError 415), a declared body or a query string over `largest` bytes
    (LimitExceeded); nothing of the body is read."""
    if not is_get(request):
        _check_content_type(request.headers.get("content-type", ""))
    size = body_size(request)
    if size is not None and size > largest:
        raise LimitExceeded("body_size", size, largest)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, read as it streams in; LimitExceeded as soon as it passes `limit` bytes,
    the rest left unread."""
    declared = declared_length(request)
    if declared is not None and declared > limit:
        raise LimitExceeded("body_size", declared, limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise LimitExceeded("body_size", len(body), limit)
    return bytes(body)


async def read_params(request: Request, limit: int) -> dict[str, Any]:
    """The GraphQL request parameters, from the query string (GET) or a JSON body (POST)
    of at most `limit` bytes (LimitExceeded otherwise)."""
    if is_get(request):
        size = body_size(request) or 0
        if size > limit:
            raise LimitExceeded("body_size", size, limit)
        query = request.query_params
        params: dict[str, Any] = {
            "query": query.get("query"),
            "variables": _parse_json(query.get("variables"), "variables"),
            "operationName": query.get("operationName"),
        }
        if "documentId" in query:
            params["documentId"] = query["documentId"]
        if "extensions" in query:
            params["extensions"] = _parse_json(query["extensions"], "extensions")
        return params
    _check_content_type(request.headers.get("content-type", ""))
    body = await read_body(request, limit)
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise RequestError("The request body is not valid JSON.") from None
    if not isinstance(parsed, dict):
        raise RequestError("The request body must be a JSON object.")
    return parsed


def too_large(request: Request) -> tuple[int, dict[str, str]]:
    """The status and headers refusing a request over its size limit: 414 for a query
    string (RFC 9110 §15.5.15), else 413 (§15.5.14) and closing the connection, since
    the rest of the body is never read."""
    if is_get(request):
        return 414, {}
    return 413, {"connection": "close"}


def operation_of(params: dict[str, Any]) -> tuple[str, dict[str, Any] | None, str | None]:
    """`query`, `variables` and `operationName`, checked; the query is "" when the request
    names a persisted operation instead (resolved once the caller is known)."""
    query, variables, name = (
        params.get("query"),
        params.get("variables"),
        params.get("operationName"),
    )
    if query is None and ("documentId" in params or "extensions" in params):
        query = ""
    elif not isinstance(query, str) or not query.strip():
        raise RequestError("`query` must be a non-empty string.")
    if variables is not None and not isinstance(variables, dict):
        raise RequestError("`variables` must be a JSON object.")
    if name is not None and not isinstance(name, str):
        raise RequestError("`operationName` must be a string.")
    return query, variables, name
