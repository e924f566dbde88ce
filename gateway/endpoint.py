"""The `/graphql` endpoint: authenticate, execute, and answer as GraphQL over HTTP."""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.types.graphql import OperationType

from gateway.access import PrincipalKind
from gateway.audit import AuditUnavailable
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
        params: dict[str, Any] = {
            "query": query.get("query"),
            "variables": parsed,
            "operationName": query.get("operationName"),
        }
        if "documentId" in query:
            params["documentId"] = query["documentId"]
        if "extensions" in query:
            try:
                params["extensions"] = orjson.loads(query["extensions"])
            except orjson.JSONDecodeError:
                raise BadRequest("`extensions` must be a JSON object.") from None
        return params
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
    if query is None and ("documentId" in params or "extensions" in params):
        query = ""  # a persisted operation, resolved once the caller is known
    elif not isinstance(query, str) or not query.strip():
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


class PersistedQueryError(Exception):
    """A persisted-operation problem; the message says what to send instead."""

    def __init__(self, message: str, code: ErrorCode) -> None:
        super().__init__(message)
        self.code = code


def _document(services: Services, kind: PrincipalKind, params: dict[str, Any], query: str) -> str:
    """The operation text to run: the request's own, or a persisted one by hash.
    Partner services may run persisted operations only."""
    digest = services.operations.requested_hash(params)
    if digest is None:
        if kind is PrincipalKind.PARTNER or not query:
            raise PersistedQueryError(
                "Send `query`, or a persisted operation's `documentId` (partner services "
                "may send persisted operations only).",
                ErrorCode.PERSISTED_QUERY_REQUIRED,
            )
        return query
    document = services.operations.by_hash.get(digest)
    if document is None or (query and query != document):
        raise PersistedQueryError(
            "The persisted operation is unknown.", ErrorCode.PERSISTED_QUERY_NOT_FOUND
        )
    return document


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
        params = await _params(request)
        query, variables, operation_name = _validated(params)
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
    try:
        query = _document(services, context.access.kind, params, query)
    except PersistedQueryError as exc:
        return _json(
            {"errors": [error_body(str(exc), exc.code)]},
            status=400,
            headers={"x-request-id": request_id},
        )
    allowed = (OperationType.QUERY,) if request.method == "GET" else None
    result = await services.schema.execute(
        query,
        variable_values=variables,
        context_value=context,
        operation_name=operation_name,
        allowed_operation_types=allowed,
    )
    if context.recorder:
        try:
            await services.audit.append(
                context.recorder.entries(
                    at=context.now.astimezone(dt.UTC),
                    request_id=request_id,
                    actor=principal.actor_client_id or principal.nin,
                    actor_kind=context.access.kind.value,
                    client_id=principal.actor_client_id or principal.client_id,
                )
            )
        except AuditUnavailable:
            # Fail closed: what cannot be audited is not served.
            log.error("audit trail unavailable; withholding the response (request %s)", request_id)
            return _json(
                {
                    "errors": [
                        error_body(
                            "The request could not be completed safely. Try again shortly.",
                            ErrorCode.AUDIT_UNAVAILABLE,
                            requestId=request_id,
                        )
                    ]
                },
                status=503,
                headers={"x-request-id": request_id, "retry-after": "5"},
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
