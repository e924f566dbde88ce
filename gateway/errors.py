"""The catalogue of error codes clients see in `extensions.code`, and the errors behind them."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable codes in GraphQL errors; frontends switch on these, never on messages."""

    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
    UPSTREAM_TIMEOUT = "UPSTREAM_TIMEOUT"
    UPSTREAM_BAD_RESPONSE = "UPSTREAM_BAD_RESPONSE"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_REQUEST = "BAD_REQUEST"
    INTERNAL = "INTERNAL"


class GatewayError(Exception):
    """An expected failure with a code from the catalogue and a client-safe message."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str, **extensions: str) -> None:
        super().__init__(message)
        self.extensions = extensions


class Forbidden(GatewayError):
    """The caller may not see this, or it does not exist: the two are never told apart."""

    code = ErrorCode.FORBIDDEN

    def __init__(self) -> None:
        super().__init__("You do not have access to this person or item.")


class BadUserInput(GatewayError):
    """An argument the caller sent is malformed; the message names the argument."""

    code = ErrorCode.BAD_USER_INPUT
