"""One error family for every upstream; transport errors are translated once, here."""

from __future__ import annotations


class UpstreamError(Exception):
    """An upstream failed. The message names the upstream and operation, never a person."""

    code = "UPSTREAM_UNAVAILABLE"

    def __init__(self, source: str, operation: str, detail: str = "") -> None:
        self.source = source
        self.operation = operation
        text = f"{source} upstream failed during {operation}"
        super().__init__(f"{text}: {detail}" if detail else text)


class UpstreamTimeout(UpstreamError):
    """The upstream did not answer within its deadline."""

    code = "UPSTREAM_TIMEOUT"


class UpstreamSaturated(UpstreamTimeout):
    """Every connection slot to the upstream stayed busy until the call's deadline."""

    code = "UPSTREAM_SATURATED"


class UpstreamUnavailable(UpstreamError):
    """The upstream refused, reset, or answered with a server error.

    `retry_after_s` is the wait the upstream asked for (`Retry-After`), when it did.
    """

    code = "UPSTREAM_UNAVAILABLE"

    def __init__(
        self, source: str, operation: str, detail: str = "", *, retry_after_s: float | None = None
    ) -> None:
        super().__init__(source, operation, detail)
        self.retry_after_s = retry_after_s


class UpstreamCircuitOpen(UpstreamUnavailable):
    """The upstream failed too often lately; calls fail at once until a probe succeeds."""

    code = "UPSTREAM_CIRCUIT_OPEN"


class UpstreamNotFound(UpstreamError):
    """The upstream says the thing asked for does not exist."""

    code = "UPSTREAM_NOT_FOUND"


class UpstreamBadResponse(UpstreamError):
    """The upstream answered with something the gateway cannot use."""

    code = "UPSTREAM_BAD_RESPONSE"


class UpstreamConflict(UpstreamBadResponse):
    """A write lost a race: the thing changed meanwhile (HTTP 409/412), e.g. a slot taken."""

    code = "UPSTREAM_CONFLICT"


class UpstreamRejected(UpstreamBadResponse):
    """The upstream refused a write as invalid (HTTP 400/422), e.g. a rule it enforces."""

    code = "UPSTREAM_REJECTED"


def status_error(name: str, operation: str, status: int) -> UpstreamError | None:
    """The error for a sub-response status inside a batch, or None when it succeeded."""
    if status < 400:
        return None
    if status == 404:
        return UpstreamNotFound(name, operation)
    if status >= 500 or status == 429:
        return UpstreamUnavailable(name, operation, f"HTTP {status}")
    return client_error(name, operation, status)


def client_error(name: str, operation: str, status: int) -> UpstreamError:
    """The error for an HTTP 4xx answer other than 404 and 429."""
    if status in (409, 412):
        return UpstreamConflict(name, operation, f"HTTP {status}")
    if status in (400, 422):
        return UpstreamRejected(name, operation, f"HTTP {status}")
    return UpstreamBadResponse(name, operation, f"HTTP {status}")
