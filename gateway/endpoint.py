"""The `/graphql` endpoint: authenticate, execute, and answer as GraphQL over HTTP."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.types.graphql import OperationType

from gateway.auth import AuthenticationError, Principal
from gateway.errors import ErrorCode
from gateway.i18n import negotiate
from gateway.responses import error_body, format_error, format_problem
from gateway.services import Services

log = logging.getLogger("helsegraf.http")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
MAX_BODY_BYTES = 1_000_000
JSON = "application/json"


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type=JSON, headers=headers)


def request_id_of(request: Request) -> str:
    """The caller's request id when well-formed, else a new one."""
    supplied = request.headers.get("x-request-id", "")
    return supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex


class BadRequest(Exception):
    """The HTTP request is not a GraphQL request; the message says what is wrong."""


async def _params(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        query = request.query_params
        variables = query.get("variables")
        try:
            parsed = orjson.loads(variables) if variables else None
        except orjson.JSONDecodeError:
            raise BadRequest("`variables` must be a JSON object.") from None
        return {
            "query": query.get("query"),
            "variables": parsed,
            "operationName": query.get("operationName"),
        }
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON:
        raise BadRequest("POST bodies must be JSON (Content-Type: application/json).")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest("The request body is too large.")
    try:
        parsed_body = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest("The request body is not valid JSON.") from None
    if not isinstance(parsed_body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return parsed_body


def _validated(params: dict[str, Any]) -> tuple[str, dict[str, Any] | None, str | None]:
    query, variables, name = (
        params.get("query"),
        params.get("variables"),
        params.get("operationName"),
    )
    if not isinstance(query, str) or not query.strip():
        raise BadRequest("`query` must be a non-empty string.")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest("`variables` must be a JSON object.")
    if name is not None and not isinstance(name, str):
        raise BadRequest("`operationName` must be a string.")
    return query, variables, name


def _unauthenticated(request_id: str) -> Response:
    return _json(
        {"errors": [error_body("Authentication is required.", ErrorCode.UNAUTHENTICATED)]},
        status=401,
        headers={"www-authenticate": 'Bearer realm="helsegraf"', "x-request-id": request_id},
    )


async def _principal(services: Services, request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("missing-token")
    return await services.validator.validate(token.strip())


async def graphql(request: Request) -> Response:
    """Execute one GraphQL operation for an authenticated caller."""
    services: Services = request.app.state.services
    request_id = request_id_of(request)
    if (
        request.method == "GET"
        and "query" not in request.query_params
        and services.settings.graphiql
        and "text/html" in request.headers.get("accept", "")
    ):
        from strawberry.http.ides import get_graphql_ide_html

        return HTMLResponse(get_graphql_ide_html())
    try:
        query, variables, operation_name = _validated(await _params(request))
    except BadRequest as exc:
        return _json(
            {"errors": [error_body(str(exc), ErrorCode.BAD_REQUEST)]},
            status=400,
            headers={"x-request-id": request_id},
        )
    try:
        principal = await _principal(services, request)
    except AuthenticationError as exc:
        log.info("refused a token (%s), request %s", exc.reason, request_id)
        return _unauthenticated(request_id)
    context = services.context(
        principal, request_id, negotiate(request.headers.get("accept-language"))
    )
    allowed = (OperationType.QUERY,) if request.method == "GET" else None
    result = await services.schema.execute(
        query,
        variable_values=variables,
        context_value=context,
        operation_name=operation_name,
        allowed_operation_types=allowed,
    )
    payload: dict[str, Any] = {}
    errors = [format_error(e, request_id) for e in result.errors or ()]
    errors += [format_problem(p) for p in context.problems]
    if errors:
        payload["errors"] = errors
    status = 200
    if (
        result.data is None
        and result.errors
        and all(e.original_error is None and not e.path for e in result.errors)
    ):
        status = 400  # the operation never ran: syntax, validation or variable errors
    else:
        payload["data"] = result.data
    return _json(payload, status=status, headers={"x-request-id": request_id})
