"""What the gateway takes from an upstream answer's body: JSON content only, read within
the call's size cap and the byte budget every upstream shares (`sources.buffers`).

Used by `Upstream` for every call; kept apart so the rules about an answer (its status,
its content type, its body) stay in one place.
"""

from __future__ import annotations

import re

import httpx

from sources.buffers import Reservation
from sources.errors import (
    UpstreamBadResponse,
    UpstreamNotFound,
    UpstreamSaturated,
    UpstreamTimeout,
    UpstreamUnavailable,
    client_error,
)
from sources.resilience import parse_retry_after

# application/json, application/fhir+json and any other application/<x>+json (RFC 6839)
_JSON_MEDIA_TYPE = re.compile(r"application/(?:[a-z0-9!#$&^_.-][a-z0-9!#$&^_.+-]*\+)?json")


def is_json_content(content_type: str | None) -> bool:
    """True when a `Content-Type` value labels JSON: `application/json` or
    `application/<x>+json`, with any parameters (`; charset=utf-8`), in any case. A missing
    label, or two (joined by a comma), is not."""
    if content_type is None:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return _JSON_MEDIA_TYPE.fullmatch(media_type) is not None


def check_answer(response: httpx.Response, source: str, operation: str, not_found_ok: bool) -> None:
    """Raise unless `response` (status and headers arrived, body unread) is a JSON answer
    to take: a redirect is never followed, a 404 is data only when `not_found_ok`, a server
    error or 429 means the upstream is unavailable (with its `Retry-After`), another 4xx is
    a client error, and only JSON content is read."""
    status = response.status_code
    if 300 <= status < 400:
        # Never followed: a redirect could send the gateway's request, and what it
        # reveals, to another host.
        raise UpstreamBadResponse(source, operation, f"HTTP {status} redirect")
    if status == 404 and not not_found_ok:
        raise UpstreamNotFound(source, operation)
    if status >= 500 or status == 429:
        raise UpstreamUnavailable(
            source,
            operation,
            f"HTTP {status}",
            retry_after_s=parse_retry_after(response.headers.get("retry-after")),
        )
    if status >= 400 and status != 404:
        raise client_error(source, operation, status)
    if not is_json_content(response.headers.get("content-type")):
        # an error page, a misrouted proxy's answer (a 404 too: it says nothing
        # about the thing asked for): not data, whatever the body looks like
        raise UpstreamBadResponse(source, operation, "not JSON content")


def declared_length(response: httpx.Response) -> int | None:
    """The `Content-Length` the upstream declared, when it is one number."""
    declared = response.headers.get("content-length")
    if declared is None:
        return None
    declared = declared.strip()
    return int(declared) if declared.isdigit() else None


async def read_body(
    response: httpx.Response, held: Reservation, *, limit: int, source: str, operation: str
) -> bytes | bytearray:
    """The body of `response`, at most `limit` bytes, every byte reserved in `held` before
    it is kept.

    Refused unread when a declared length is over `limit` (`UpstreamBadResponse`), and as
    soon as the bytes read go over it; failing at once with `UpstreamSaturated` when the
    budget cannot give the bytes needed (the gateway is full, the upstream did nothing
    wrong). A known length is reserved whole and read into one buffer; otherwise the
    chunks are kept and joined once, the joined copy reserved too while the chunks still
    exist. On every way out the readers' locals let go of what was read, so the traceback
    of an error (which keeps their frames) keeps none of the body alive.
    """
    length = _expected_length(response, limit, source, operation)
    try:
        if length is not None:
            return await _read_known(response, held, length, source, operation)
        return await _read_chunks(response, held, limit, source, operation)
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout(source, operation) from exc
    except (httpx.HTTPError, OSError) as exc:
        raise UpstreamUnavailable(source, operation, type(exc).__name__) from exc


def _expected_length(
    response: httpx.Response, limit: int, source: str, operation: str
) -> int | None:
    """The number of bytes the body will read as, when the upstream declared it (for an
    encoded body it declares the encoded bytes: not known); `UpstreamBadResponse`, before
    a byte is read, when it declared more than `limit`."""
    length = declared_length(response)
    if length is not None and length > limit:
        raise UpstreamBadResponse(source, operation, "response too large")
    if response.headers.get("content-encoding", "identity").strip().lower() != "identity":
        return None
    return length


async def _read_known(
    response: httpx.Response, held: Reservation, length: int, source: str, operation: str
) -> bytearray:
    """A body of known `length`: reserved whole before reading, read into one buffer."""
    _reserve(held, length, source, operation)
    whole = bytearray(length)
    chunk = b""
    try:
        filled = 0
        async for chunk in response.aiter_bytes():
            end = filled + len(chunk)
            if end > length:
                raise UpstreamBadResponse(source, operation, "body over its length")
            whole[filled:end] = chunk
            filled = end
        if filled != length:
            raise UpstreamBadResponse(source, operation, "body under its length")
        return whole
    finally:
        # let go of the body: an error's traceback keeps this frame, and its locals
        whole, chunk = bytearray(), b""


async def _read_chunks(
    response: httpx.Response, held: Reservation, limit: int, source: str, operation: str
) -> bytes:
    """A body of unknown length: each chunk reserved and kept as it comes, up to `limit`,
    then joined once, the joined copy reserved too while the chunks still exist."""
    parts: list[bytes] = []
    chunk = b""
    try:
        filled = 0
        async for chunk in response.aiter_bytes():
            end = filled + len(chunk)
            if end > limit:
                raise UpstreamBadResponse(source, operation, "response too large")
            _reserve(held, len(chunk), source, operation)
            parts.append(chunk)
            filled = end
        if len(parts) == 1:
            return parts[0]
        _reserve(held, filled, source, operation)  # the joined copy, while the parts still live
        body = b"".join(parts)
        parts = []
        held.shrink(filled)
        return body
    finally:
        # let go of the body: an error's traceback keeps this frame, and its locals
        parts, chunk = [], b""


def _reserve(held: Reservation, size: int, source: str, operation: str) -> None:
    """`size` more bytes in `held`, or `UpstreamSaturated` at once: the gateway's buffers
    are full (the upstream did nothing wrong)."""
    if not held.grow(size):
        raise UpstreamSaturated(source, operation, "upstream buffers full")
