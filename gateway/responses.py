"""Turning execution results and failures into GraphQL-over-HTTP JSON bodies."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from graphql import GraphQLError

from resolvers.core.context import Problem
from resolvers.core.errors import ErrorCode, GatewayError
from sources.errors import UpstreamBadResponse, UpstreamError, UpstreamTimeout

log = logging.getLogger("helsegraf.errors")

SOURCE_NAMES = {"EHR": "the health record (EHR)", "NATIONAL": "the national portal"}


def _upstream(error: UpstreamError) -> tuple[str, dict[str, Any]]:
    name = SOURCE_NAMES.get(error.source, f"the {error.source.lower()} service")
    if isinstance(error, UpstreamTimeout):
        message = f"Data from {name} is missing: it did not answer in time."
    elif isinstance(error, UpstreamBadResponse):
        message = f"Data from {name} is missing: it answered with something unusable."
    else:
        message = f"Data from {name} is missing: it could not be reached."
    # the source's own stable code: UPSTREAM_TIMEOUT, _UNAVAILABLE, _BAD_RESPONSE, ...
    return message, {"code": error.code, "source": error.source}


def error_body(message: str, code: ErrorCode, **extensions: Any) -> dict[str, Any]:
    """One error object for a response's `errors` list."""
    return {"message": message, "extensions": {"code": code.value, **extensions}}


# graphql-core's own messages name the schema's types, fields, arguments and enum values
# (and echo variable values); where introspection is off they must not map the schema.
SCHEMA_FREE_MESSAGES = {
    ErrorCode.GRAPHQL_VALIDATION_FAILED: "The operation is not valid against the schema.",
    ErrorCode.BAD_USER_INPUT: "A variable of the operation is missing or not valid.",
}
INTROSPECTION_DISABLED = "GraphQL introspection has been disabled."


def _schema_free(message: str, code: ErrorCode) -> str:
    if code is ErrorCode.GRAPHQL_PARSE_FAILED:
        return message  # quotes the client's own text, nothing of the schema
    if "introspection has been disabled" in message:
        return INTROSPECTION_DISABLED
    return SCHEMA_FREE_MESSAGES[code]


def format_error(error: GraphQLError, request_id: str, *, reveal_schema: bool) -> dict[str, Any]:
    """A client-safe error: catalogue code, no internals, no personal data. Unless
    `reveal_schema` (development and test), graphql-core's own errors (validation,
    variable coercion) say what went wrong in one generic sentence, naming nothing of the
    schema, and keep their code and locations."""
    original = error.original_error
    out: dict[str, Any] = {}
    if isinstance(original, UpstreamError):
        out["message"], extensions = _upstream(original)
    elif isinstance(original, GatewayError):
        out["message"] = str(original)
        extensions = {"code": original.code.value, **original.extensions}
    elif original is None or isinstance(original, GraphQLError):
        # raised by graphql-core itself: syntax, validation, variable coercion
        if error.message.startswith("Syntax Error"):
            code = ErrorCode.GRAPHQL_PARSE_FAILED
        elif error.message.startswith("Variable '$"):
            code = ErrorCode.BAD_USER_INPUT
        else:
            code = ErrorCode.GRAPHQL_VALIDATION_FAILED
        out["message"] = error.message if reveal_schema else _schema_free(error.message, code)
        extensions = {"code": code.value}
    else:
        log.error(
            "unexpected %s while resolving a field (request %s)",
            type(original).__name__,
            request_id,
            exc_info=original,
        )
        out["message"] = f"Internal error. Quote request id {request_id} to support."
        extensions = {"code": ErrorCode.INTERNAL.value, "requestId": request_id}
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        out["path"] = list(error.path)
    out["extensions"] = extensions
    return out


def in_answer(data: Any, path: tuple[str | int, ...]) -> bool:
    """True when `path` names a field of the answer `data`: every step before the last
    leads into an object or list that is there, and the last names a key (or index) of
    it, whatever its value (null included)."""
    if not path:
        return False
    node = data
    for step in path:
        keyed = isinstance(step, str) and isinstance(node, dict) and step in node
        indexed = isinstance(step, int) and isinstance(node, list) and 0 <= step < len(node)
        if not (keyed or indexed):
            return False
        node = node[step]
    return True


def format_problems(problems: Iterable[Problem], data: Any) -> list[dict[str, Any]]:
    """The partial failures whose field is in the answer, in the order reported.

    A problem says a field kept only some sources' data. When another error nulled an
    object or list above that field, the field is not in the answer at all: there is no
    partial data left to qualify, and the error on the nulled ancestor already says why
    it is missing, so the problem is dropped rather than pointed at a field it was not
    about: a problem's `path` always names a field the client finds in `data`. (That
    is how graphql-core treats the errors of such a subtree too; the one error that
    nulled it keeps the path of the field that failed, as the GraphQL spec asks.)"""
    return [format_problem(p) for p in problems if in_answer(data, p.path)]


def format_problem(problem: Problem) -> dict[str, Any]:
    """A partial failure: the field kept the other sources' data; this names the one lost."""
    message, extensions = _upstream(problem.error)
    return {"message": message, "path": list(problem.path), "extensions": extensions}
