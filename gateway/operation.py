"""The operation a caller may run: the text it sent, or a persisted one by hash (partners,
and everyone under `require_persisted`, run safelisted operations only), within the
caller's operation limits."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError, get_operation_ast
from graphql import OperationType as AstOperationType
from starlette.responses import Response

from authz.principal import Principal
from gateway.admission import check_limits
from gateway.clients import Client
from gateway.exchange import Exchange
from gateway.limits import LimitExceeded
from gateway.persisted import document_hash
from gateway.services import Services
from resolvers.core.access import PrincipalKind
from resolvers.core.errors import ErrorCode

log = logging.getLogger("helsegraf.http")


class PersistedQueryError(Exception):
    """A persisted-operation problem; the message says what to send instead."""

    def __init__(self, message: str, code: ErrorCode) -> None:
        super().__init__(message)
        self.code = code


def document(
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


def runnable(
    services: Services,
    exchange: Exchange,
    principal: Principal,
    kind: PrincipalKind,
    params: dict[str, Any],
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> tuple[str, str] | Response:
    """The operation text this caller may run (`document`) within its limits, and its
    hash (the persisted operation's name goes to the log), or the refusal to answer."""
    try:
        query = document(services, kind, params, query, services.clients.partner(principal))
    except PersistedQueryError as exc:
        return exchange.refuse(str(exc), exc.code, 400)
    try:
        check_limits(services, kind, query, variables, operation_name)
    except LimitExceeded as exc:
        log.info("refused an operation over the %s limit", exc.limit)
        return exchange.refuse(str(exc), ErrorCode.LIMIT_EXCEEDED, 400, limit=exc.limit)
    digest = services.operations.requested_hash(params) or document_hash(query)
    exchange.name(operation_name, services.operations.names.get(digest))
    return query, digest


def is_query(services: Services, query: str, operation_name: str | None) -> bool:
    """True when the operation to run is a query (syntax errors: False)."""
    try:
        operation = get_operation_ast(services.schema.documents.parse(query), operation_name)
    except GraphQLError:
        return False
    return operation is not None and operation.operation is AstOperationType.QUERY
