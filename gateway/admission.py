"""Admission before anything runs: the caller (a valid bearer token, then a rate with room
for one more request), and the operation (the caller's budget of depth, aliases, tokens,
cost, ..., measured once per distinct document, budget and variables)."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from graphql import FieldNode, GraphQLError, OperationDefinitionNode
from starlette.requests import Request
from starlette.responses import Response

from authz.principal import Principal
from gateway.auth import AuthenticationError
from gateway.documents import MISSING, digest
from gateway.exchange import Exchange
from gateway.limits import (
    Budget,
    LimitExceeded,
    check_batch,
    check_document,
    check_document_size,
    count_tokens,
)
from gateway.services import Services
from resolvers.core.access import PrincipalKind
from resolvers.core.errors import ErrorCode

log = logging.getLogger("helsegraf.http")


async def principal_of(services: Services, request: Request) -> Principal:
    """The caller behind the request's bearer token, naming registered clients only;
    AuthenticationError otherwise."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("missing-token")
    return services.clients.admit(await services.validator.validate(token.strip()))


REALM = "helsegraf"


def challenge(refusal: AuthenticationError) -> str:
    """The `WWW-Authenticate` value for a refused credential (RFC 6750 §3): the bare
    challenge when no bearer token was sent (§3.1 wants no error code then), else
    `invalid_token` and nothing more, so the answer tells a prober nothing about why."""
    if refusal.reason == "missing-token":
        return f'Bearer realm="{REALM}"'
    return f'Bearer realm="{REALM}", error="invalid_token"'


async def admitted(
    services: Services, request: Request, exchange: Exchange
) -> Principal | Response:
    """The caller, once its token is valid and its rate allows one more request; else the
    refusal to send (401 with a Bearer challenge, or 429 with Retry-After)."""
    try:
        principal = await principal_of(services, request)
    except AuthenticationError as exc:
        log.info("refused a token (%s)", exc.reason)
        return exchange.refuse(
            "Authentication is required.",
            ErrorCode.UNAUTHENTICATED,
            401,
            {"www-authenticate": challenge(exc)},
        )
    exchange.client = principal.actor_client_id or principal.client_id
    verdict = await services.limiter.check(principal)
    if not verdict.allowed:
        log.info("rate limit reached (%s)", verdict.scope)
        return exchange.refuse(
            "Too many requests. Try again later.",
            ErrorCode.RATE_LIMITED,
            429,
            {"retry-after": str(verdict.retry_after_s)},
        )
    return principal


def check_limits(
    services: Services,
    kind: PrincipalKind,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> None:
    """Refuse, before anything runs, an operation over the caller's budget.

    Syntax errors pass through: execution reports them as usual. The verdict on a
    document depends only on the budget, the text, the operation and the variables, so
    it is remembered under their digest (a screen's operation is measured once, not on
    every request), in the schema's byte-bounded document cache.
    """
    budget = services.budgets[kind.value]  # the body's size was limited as it was read
    check_document_size(query, budget)  # before the text is hashed, lexed or parsed
    try:
        shape = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS) if variables else b""
    except TypeError:
        shape = None  # not plain JSON: measured every time
    documents = services.schema.documents
    key = (budget, digest(query, operation_name, shape)) if shape is not None else None
    if key is not None:
        known = documents.verdict(key)
        if isinstance(known, LimitExceeded):
            raise LimitExceeded(known.limit, known.actual, known.maximum)
        if known is not MISSING:
            return
    try:
        exact = _measure(services, budget, query, variables, operation_name)
    except LimitExceeded as exc:
        if key is not None:
            # a fresh copy: the raised one keeps its frames (the request, the caller) alive
            documents.remember(key, LimitExceeded(exc.limit, exc.actual, exc.maximum))
        raise
    if key is not None and exact:
        documents.remember(key, None)


def _measure(
    services: Services,
    budget: Budget,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> bool:
    """Raise LimitExceeded for an operation over `budget`; else True when a pass may be
    remembered (False: the variables cannot be coerced, so it will not run as sent)."""
    try:
        count_tokens(query, budget.max_tokens)
        document = services.schema.documents.parse(query)
    except GraphQLError:
        return True  # not a document: execution reports the syntax error
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    check_batch(len(operations), budget)
    if services.settings.graphiql and _introspection_only(operations):
        return True  # GraphiQL's own schema query, in development only
    cost = check_document(document, services.graphql_schema, budget, operation_name, variables)
    return cost.exact


def _introspection_only(operations: list[OperationDefinitionNode]) -> bool:
    return bool(operations) and all(
        isinstance(field, FieldNode) and field.name.value.startswith("__")
        for operation in operations
        for field in operation.selection_set.selections
    )
