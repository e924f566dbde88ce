"""The `/graphql` endpoint: admit, authenticate, rate-limit, execute, answer over HTTP.

Each step refuses as early and as cheaply as it can: a full process before anything
(503), a request that is not GraphQL or declares more than any caller may send before
checking the token (4xx), a body only once its sender is known and never past their
limit (413), a caller over its rate before any upstream is asked (429).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
from graphql import (
    GraphQLError,
    get_operation_ast,
)
from graphql import OperationType as AstOperationType
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from authz.principal import Principal
from authz.relations import oslo_date
from gateway.admission import admitted, check_limits
from gateway.auditor import Auditor
from gateway.clients import Client
from gateway.exchange import Exchange, guarded, request_id_of
from gateway.graphql_http import (
    GRAPHQL_RESPONSE,
    JSON,
    RequestError,
    check_framing,
    operation_of,
    read_params,
    response_media_type,
    too_large,
)
from gateway.limits import LimitExceeded, largest_body
from gateway.persisted import document_hash
from gateway.response_cache import Flight, Hit, response_key
from gateway.responses import format_error, format_problems
from gateway.services import Services
from resolvers.access import PrincipalKind, principal_kind
from resolvers.errors import ErrorCode
from resolvers.i18n import Language, negotiate
from sources.registry_reads import still_hold

log = logging.getLogger("helsegraf.http")


def _before_execution(error: GraphQLError) -> bool:
    """True for graphql-core's own errors raised before any field resolved."""
    return not error.path and (
        error.original_error is None or isinstance(error.original_error, GraphQLError)
    )


class PersistedQueryError(Exception):
    """A persisted-operation problem; the message says what to send instead."""

    def __init__(self, message: str, code: ErrorCode) -> None:
        super().__init__(message)
        self.code = code


def _document(
    services: Services,
    kind: PrincipalKind,
    params: dict[str, Any],
    query: str,
    partner: Client | None = None,
) -> str:
    """The operation text to run: the request's own, or a persisted one by hash.
    Partner services, and everyone when `require_persisted` is set, may run safelisted
    operations only (by hash, or by the exact text of one); a partner only those it is
    registered for - any other answers as an unknown operation does."""
    operations = services.operations
    digest = operations.requested_hash(params)
    required = services.settings.require_persisted or kind is PrincipalKind.PARTNER
    if digest is None:
        if query and not required:
            return query
        if query and document_hash(query) in operations.by_hash:
            digest = document_hash(query)
        else:
            who = "this gateway runs" if services.settings.require_persisted else "partner services"
            raise PersistedQueryError(
                f'Send a persisted operation\'s `documentId` ("sha256:<hex>"): {who} '
                "may send persisted operations only."
                if required
                else "Send `query`, or a persisted operation's `documentId`.",
                ErrorCode.PERSISTED_QUERY_REQUIRED,
            )
    document = operations.by_hash.get(digest)
    if document is None or (query and query != document):
        raise PersistedQueryError(
            "The persisted operation is unknown.", ErrorCode.PERSISTED_QUERY_NOT_FOUND
        )
    if kind is PrincipalKind.PARTNER and (
        partner is None or operations.names.get(digest) not in partner.operations
    ):
        log.info("refused a partner an operation it is not registered for")
        raise PersistedQueryError(
            "The persisted operation is unknown.", ErrorCode.PERSISTED_QUERY_NOT_FOUND
        )
    return document


async def graphql(request: Request) -> Response:
    """Execute one GraphQL operation for an authenticated caller, or refuse it."""
    services: Services = request.app.state.services
    accepted = response_media_type(request.headers.get("accept"))
    exchange = Exchange(request_id_of(request), accepted or JSON)
    return await guarded(
        request, exchange, services.in_flight, lambda: _serve(request, services, exchange, accepted)
    )


async def _serve(
    request: Request, services: Services, exchange: Exchange, accepted: str | None
) -> Response:
    settings = services.settings
    get = request.method in ("GET", "HEAD")
    if (
        get
        and "query" not in request.query_params
        and settings.graphiql
        and "text/html" in request.headers.get("accept", "")
    ):
        from strawberry.http.ides import get_graphql_ide_html

        return HTMLResponse(
            get_graphql_ide_html(), headers={"cache-control": "no-store", "vary": exchange.vary}
        )
    if accepted is None:
        return exchange.refuse(f"Accept {GRAPHQL_RESPONSE} or {JSON}.", ErrorCode.BAD_REQUEST, 406)
    # Headers first, then the token, then the body with the caller's own limit: nothing
    # of a body is read before its sender is known, and never past what they may send.
    try:
        check_framing(request, largest_body(services.budgets))
    except RequestError as exc:
        return exchange.refuse(str(exc), ErrorCode.BAD_REQUEST, exc.status, exc.headers)
    except LimitExceeded as exc:
        return _too_large(request, exchange, exc)
    principal = await admitted(services, request, exchange)
    if isinstance(principal, Response):
        return principal
    kind = principal_kind(principal, services.policy)
    exchange.principal = kind.value
    try:
        params = await read_params(request, services.budgets[kind.value].max_body_bytes)
        query, variables, operation_name = operation_of(params)
    except RequestError as exc:
        return exchange.refuse(str(exc), ErrorCode.BAD_REQUEST, exc.status, exc.headers)
    except LimitExceeded as exc:
        return _too_large(request, exchange, exc)
    exchange.name(operation_name)
    language = exchange.language = negotiate(request.headers.get("accept-language"))
    now = services.clock()
    try:
        query = _document(services, kind, params, query, services.clients.partner(principal))
    except PersistedQueryError as exc:
        return exchange.refuse(str(exc), exc.code, 400)
    try:
        check_limits(services, kind, query, variables, operation_name)
    except LimitExceeded as exc:
        log.info("refused an operation over the %s limit", exc.limit)
        return exchange.refuse(str(exc), ErrorCode.LIMIT_EXCEEDED, 400, limit=exc.limit)
    digest = services.operations.requested_hash(params) or document_hash(query)
    exchange.name(operation_name, services.operations.names.get(digest))
    audit = Auditor(services.audit, principal, kind, now, exchange, operation=f"sha256:{digest}")
    reads_only = _is_query(services, query, operation_name)
    asked = _Asked(principal, language, now, query, variables, operation_name)
    if services.responses is None or not reads_only:
        return await _execute(request, services, exchange, audit, asked, None)
    key = response_key(
        principal,
        digest=digest,
        operation_name=operation_name,
        variables=variables,
        language=language,
        today=oslo_date(now),
    )
    # whom a kept answer was for may have changed unnoticed: its registry reads are asked again
    answer = await services.responses.answer(key, partial(still_hold, services.national))
    if isinstance(answer, Hit):
        if not await audit.write(answer.audit_entries(**audit.stamp())):
            return audit.refused()
        return exchange.respond_body(answer.body)
    try:
        return await _execute(request, services, exchange, audit, asked, answer)
    finally:
        answer.land()


@dataclass(frozen=True, slots=True)
class _Asked:
    """One request's operation: for whom, in what language, at what time."""

    principal: Principal
    language: Language
    now: dt.datetime
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


async def _execute(
    request: Request,
    services: Services,
    exchange: Exchange,
    audit: Auditor,
    asked: _Asked,
    flight: Flight | None,
) -> Response:
    """Run the operation, audit what it served, and answer; a query's complete answer is
    kept in the response cache and shared with the identical requests waiting on `flight`."""
    get = request.method in ("GET", "HEAD")
    # Only an operation that runs needs upstream clients and loaders: built here, after
    # the cache had its chance.
    context = services.context(
        asked.principal,
        exchange.request_id,
        asked.language,
        now=asked.now,
        cached=flight is not None,
    )
    try:
        result = await services.schema.execute(
            asked.query,
            variable_values=asked.variables,
            context_value=context,
            operation_name=asked.operation_name,
            allowed_operation_types=(OperationType.QUERY,) if get else None,
        )
    except InvalidOperationTypeError:
        return exchange.refuse(
            "Only queries may be sent with GET; send mutations with POST.",
            ErrorCode.BAD_REQUEST,
            405,
            {"allow": "POST"},
        )
    except CannotGetOperationTypeError as exc:
        return exchange.refuse(exc.as_http_error_reason(), ErrorCode.BAD_REQUEST, 400)
    if context.changed_people and services.responses is not None:
        # whom the writes named (`Context.changed`), audited or not: before the answer
        # (and before a refusal for want of an audit trail), so no next read is stale
        await services.responses.changed(sorted(context.changed_people))
    entries = context.recorder.entries(**audit.stamp()) if context.recorder else []
    if entries and not await audit.write(entries):
        return audit.refused()
    payload: dict[str, Any] = {}
    reveal = not services.settings.production  # introspection is off: so is the schema
    errors = [
        format_error(e, exchange.request_id, reveal_schema=reveal) for e in result.errors or ()
    ]
    errors += format_problems(context.problems, result.data)  # those still in the answer
    if errors:
        payload["errors"] = errors
    status = 200
    if result.data is None and result.errors and all(_before_execution(e) for e in result.errors):
        status = 400  # the operation never ran: syntax, validation or variable errors
    else:
        payload["data"] = result.data
    body = orjson.dumps(payload)
    if flight is not None and not errors and status == 200:
        flight.share(body, entries)
        assert services.responses is not None
        registry = context.national.registry_reads()
        await services.responses.store(
            flight.key, body, asked.principal.nin, entries, flight.epoch, registry
        )
    return exchange.respond_body(
        body,
        status=status,
        codes=[e["extensions"]["code"] for e in errors],
        after=None if context.raw is None else context.raw.flush,  # keeping costs no one
    )


def _too_large(request: Request, exchange: Exchange, exc: LimitExceeded) -> Response:
    log.info("refused a request over the %s limit", exc.limit)
    status, headers = too_large(request)
    return exchange.refuse(str(exc), ErrorCode.LIMIT_EXCEEDED, status, headers, limit=exc.limit)


def _is_query(services: Services, query: str, operation_name: str | None) -> bool:
    """True when the operation to run is a query (syntax errors: False)."""
    try:
        operation = get_operation_ast(services.schema.documents.parse(query), operation_name)
    except GraphQLError:
        return False
    return operation is not None and operation.operation is AstOperationType.QUERY
