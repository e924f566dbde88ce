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
    CATEGORY_UNAVAILABLE = "CATEGORY_UNAVAILABLE"
    AUDIT_UNAVAILABLE = "AUDIT_UNAVAILABLE"
    PERSISTED_QUERY_REQUIRED = "PERSISTED_QUERY_REQUIRED"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"  # 400: the operation is too deep, wide or costly
    UPSTREAM_NOT_FOUND = "UPSTREAM_NOT_FOUND"
    UPSTREAM_CONFLICT = "UPSTREAM_CONFLICT"  # a write lost a race at the source; read again
    UPSTREAM_REJECTED = "UPSTREAM_REJECTED"  # the source refused a write the gateway passed
    UPSTREAM_CIRCUIT_OPEN = "UPSTREAM_CIRCUIT_OPEN"  # failing fast while a source recovers
    UPSTREAM_SATURATED = "UPSTREAM_SATURATED"  # every connection to the source is busy
    RATE_LIMITED = "RATE_LIMITED"  # 429: this caller or client sent too many; see Retry-After
    OVERLOADED = "OVERLOADED"  # 503: the gateway sheds load; retry after Retry-After
    NOT_FOUND = "NOT_FOUND"  # 404: no such thing, or nothing the caller may see
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


class CategoryUnavailable(GatewayError):
    """A whole data category this access basis may not see or change, reported once at
    category level with a reason code frontends translate; says nothing about items."""

    code = ErrorCode.CATEGORY_UNAVAILABLE

    def __init__(self, category: str, reason: str) -> None:
        category = str(category)  # a `Category` by its value, in the message and the extension
        super().__init__(
            f"The category {category!r} is not available on this access basis.",
            category=category,
            reason=reason,
        )
        self.category = category
        self.reason = reason
