"""What production mode changes in GraphQL: no introspection and no field suggestions."""

from __future__ import annotations

from typing import Any

from gateway.errors import ErrorCode
from gateway.schema import GatewaySchema, build_schema
from gateway.settings import Settings

SUGGESTION = " Did you mean "
_ECHOING_CODES = frozenset(
    {ErrorCode.GRAPHQL_VALIDATION_FAILED.value, ErrorCode.BAD_USER_INPUT.value}
)


def schema_for(settings: Settings) -> GatewaySchema:
    """The citizen graph; in production it refuses `__schema` and `__type` (with a
    validation error naming them) while `__typename` keeps working."""
    return build_schema(introspection=not settings.production)


def without_suggestions(error: dict[str, Any]) -> dict[str, Any]:
    """`error` minus graphql-core's "Did you mean ...?" hints, which map the schema for
    whoever probes it with misspelt names."""
    code = error.get("extensions", {}).get("code")
    message = error.get("message")
    if code in _ECHOING_CODES and isinstance(message, str) and SUGGESTION in message:
        return {**error, "message": message.split(SUGGESTION, 1)[0]}
    return error
