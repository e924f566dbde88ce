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
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from authz.principal import Principal
from authz.relations import oslo_date
from gateway.admission import admitted
from gateway.auditor import Auditor
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
from gateway.operation import is_query, runnable
from gateway.response_cache import Flight, Hit, response_key
from gateway.responses import format_error, format_problems
from gateway.services import Services
from resolvers.core.access import principal_kind
from resolvers.core.context import Context
from resolvers.core.errors import ErrorCode
from resolvers.core.i18n import Language, negotiate
from sources.registry_reads import still_hold

log = logging.getLogger("helsegraf.http")


def _before_execution(error: GraphQLError) -> bool:
    """True for graphql-core's own errors raised before any field resolved."""
    return not error.path and (
        error.original_error is None or isinstance(error.original_error, GraphQLError)
    )


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
    refusal = _before_token(request, services, exchange, accepted)
    if refusal is not None:
        return refusal
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
    chosen = runnable(services, exchange, principal, kind, params, query, variables, operation_name)
    if isinstance(chosen, Response):
        return chosen
    query, digest = chosen
    audit = Auditor(services.audit, principal, kind, now, exchange, operation=f"sha256:{digest}")
    reads_only = is_query(services, query, operation_name)
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


def _before_token(
    request: Request, services: Services, exchange: Exchange, accepted: str | None
) -> Response | None:
    """The answer to give before the token is looked at, if any: the GraphiQL page, or a
    refusal of what the headers alone show (media type, framing, a body over any limit).

    Headers first, then the token, then the body with the caller's own limit: nothing of a
    body is read before its sender is known, and never past what they may send."""
    if (
        request.method in ("GET", "HEAD")
        and "query" not in request.query_params
        and services.settings.graphiql
        and "text/html" in request.headers.get("accept", "")
    ):
        from strawberry.http.ides import get_graphql_ide_html

        return HTMLResponse(
            get_graphql_ide_html(), headers={"cache-control": "no-store", "vary": exchange.vary}
        )
    if accepted is None:
        return exchange.refuse(f"Accept {GRAPHQL_RESPONSE} or {JSON}.", ErrorCode.BAD_REQUEST, 406)
    try:
        check_framing(request, largest_body(services.budgets))
    except RequestError as exc:
        return exchange.refuse(str(exc), ErrorCode.BAD_REQUEST, exc.status, exc.headers)
    except LimitExceeded as exc:
        return _too_large(request, exchange, exc)
    return None


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
    # upstream clients and loaders only for an operation that runs: after the cache's chance
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
    except (InvalidOperationTypeError, CannotGetOperationTypeError) as exc:
        return _unrunnable(exchange, exc)
    if context.changed_people and services.responses is not None:
        # whom the writes named (`Context.changed`), audited or not: before the answer
        # (and before a refusal for want of an audit trail), so no next read is stale
        await services.responses.changed(sorted(context.changed_people))
    entries = context.recorder.entries(**audit.stamp()) if context.recorder else []
    if entries and not await audit.write(entries):
        return audit.refused()
    body, status, errors = _answer(services, exchange, context, result)
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


def _unrunnable(
    exchange: Exchange, exc: InvalidOperationTypeError | CannotGetOperationTypeError
) -> Response:
    """The refusal of an operation that may not run as sent: a mutation by GET, or no
    operation to pick (none, or several and no name)."""
    if isinstance(exc, InvalidOperationTypeError):
        return exchange.refuse(
            "Only queries may be sent with GET; send mutations with POST.",
            ErrorCode.BAD_REQUEST,
            405,
            {"allow": "POST"},
        )
    return exchange.refuse(exc.as_http_error_reason(), ErrorCode.BAD_REQUEST, 400)


def _answer(
    services: Services, exchange: Exchange, context: Context, result: ExecutionResult
) -> tuple[bytes, int, list[dict[str, Any]]]:
    """The response body, its status and its errors for what the operation returned, and
    the problems (`Context.problems`) still in its answer."""
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
    return orjson.dumps(payload), status, errors


def _too_large(request: Request, exchange: Exchange, exc: LimitExceeded) -> Response:
    log.info("refused a request over the %s limit", exc.limit)
    status, headers = too_large(request)
    return exchange.refuse(str(exc), ErrorCode.LIMIT_EXCEEDED, status, headers, limit=exc.limit)
