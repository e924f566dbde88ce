"""GraphQL over HTTP: the response media type a client accepts and the parameters it sent.

Follows https://graphql.github.io/graphql-over-http/draft/. POST bodies must be
`application/json`: that is not a CORS-safelisted content type, so a browser preflights
every cross-site POST and a cross-site form can never submit one; GET runs queries only.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
MAX_BODY_BYTES = 1_000_000


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


async def read_params(request: Request) -> dict[str, Any]:
    """The GraphQL request parameters, from the query string (GET) or a JSON body (POST)."""
    if request.method in ("GET", "HEAD"):
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
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise RequestError("The request body is too large.", status=413)
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise RequestError("The request body is not valid JSON.") from None
    if not isinstance(parsed, dict):
        raise RequestError("The request body must be a JSON object.")
    return parsed


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
