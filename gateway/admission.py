"""Admission of an operation before it runs: the caller's budget (depth, aliases, tokens,
cost, ...), measured once per distinct document, budget and variables."""

from __future__ import annotations

import functools
from typing import Any

import orjson
from cachetools import LRUCache
from graphql import DocumentNode, FieldNode, GraphQLError, OperationDefinitionNode, parse
from starlette.requests import Request

from gateway.access import PrincipalKind
from gateway.limits import (
    Budget,
    LimitExceeded,
    check_batch,
    check_body,
    check_document,
    count_tokens,
)
from gateway.services import Services


def check_limits(
    services: Services,
    request: Request,
    kind: PrincipalKind,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> None:
    """Refuse, before anything runs, an operation over the caller's budget.

    Syntax errors pass through: execution reports them as usual. The verdict on a
    document depends only on the budget, the text, the operation and the variables, so
    it is remembered (a screen's operation is measured once, not on every request).
    """
    budget = services.budgets[kind.value]
    size = int(request.headers.get("content-length") or 0) or len(query.encode())
    check_body(size, budget)
    try:
        shape = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS) if variables else b""
    except TypeError:
        shape = None  # not plain JSON: measured every time
    key = (id(services.graphql_schema), budget, query, operation_name, shape)
    if shape is not None:
        known = _VERDICTS.get(key, _UNKNOWN)
        if known is not _UNKNOWN:
            if isinstance(known, LimitExceeded):
                raise LimitExceeded(known.limit, known.actual, known.maximum)
            return
    try:
        _measure(services, budget, query, variables, operation_name)
    except LimitExceeded as exc:
        if shape is not None:
            _VERDICTS[key] = exc
        raise
    if shape is not None:
        _VERDICTS[key] = None


_UNKNOWN = object()
_VERDICTS: LRUCache[tuple[Any, ...], LimitExceeded | None] = LRUCache(maxsize=4096)


def _measure(
    services: Services,
    budget: Budget,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> None:
    try:
        count_tokens(query, budget.max_tokens)
        document = parse_cached(query)
    except GraphQLError:
        return  # not a document: execution reports the syntax error
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    check_batch(len(operations), budget)
    if services.settings.graphiql and _introspection_only(operations):
        return  # GraphiQL's own schema query, in development only
    check_document(document, services.graphql_schema, budget, operation_name, variables)


@functools.lru_cache(maxsize=1024)
def parse_cached(query: str) -> DocumentNode:
    """Parse once per distinct document text (the limits walk it; it is not mutated)."""
    return parse(query)


def _introspection_only(operations: list[OperationDefinitionNode]) -> bool:
    return bool(operations) and all(
        isinstance(field, FieldNode) and field.name.value.startswith("__")
        for operation in operations
        for field in operation.selection_set.selections
    )
