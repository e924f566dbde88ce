"""Health-record documents: DocumentReference parsing and streaming Binary content.

The content is streamed, not buffered: the EHR's answer is opened (status and headers
checked) within the upstream's deadline, through its circuit breaker and holding one of
its concurrency slots (as every other call does), and the body is then passed through in
chunks, refused as soon as it is over the upstream's size cap or its deadline passes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from sources import fhir
from sources.bodies import declared_length, read_body
from sources.bulkhead import BulkheadFull
from sources.errors import (
    UpstreamBadResponse,
    UpstreamError,
    UpstreamNotFound,
    UpstreamSaturated,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from sources.models import Document
from sources.network import unreached
from sources.upstream import Upstream
from sources.waiting import waiting

SOURCE = "EHR"
CATEGORY_SYSTEM = "https://fhir.helsegraf.dev/CodeSystem/document-category"
OCTET_STREAM = "application/octet-stream"
_BINARY_PATH = re.compile(r"^Binary/[A-Za-z0-9\-.]{1,64}$")
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")


def media_type(value: Any) -> str:
    """A plain, well-formed media type (no parameters), or application/octet-stream."""
    if isinstance(value, str):
        base = value.split(";", 1)[0].strip().lower()
        if _MEDIA_TYPE.match(base):
            return base
    return OCTET_STREAM


def _binary_path(url: Any) -> str | None:
    """The EHR-relative `Binary/{id}` an attachment points to; anything else (another
    host, another resource type) is never fetched."""
    return url if isinstance(url, str) and _BINARY_PATH.match(url) else None


def document(resource: fhir.Json) -> Document:
    """A DocumentReference resource as a record (its first attachment is the content)."""
    contents = resource.get("content") or [{}]
    attachment = contents[0].get("attachment") or {}
    kind = None
    for category in resource.get("category") or ():
        for coding in category.get("coding") or ():
            if coding.get("system") == CATEGORY_SYSTEM and kind is None:
                kind = coding.get("code")
    size = attachment.get("size")
    subject = (resource.get("subject") or {}).get("reference") or ""
    return Document(
        id=str(resource["id"]),
        patient_id=subject.split("/", 1)[1] if subject.startswith("Patient/") else None,
        title=str(
            attachment.get("title")
            or resource.get("description")
            or (resource.get("type") or {}).get("text")
            or ""
        ),
        kind=kind if isinstance(kind, str) else None,
        kind_text=(resource.get("type") or {}).get("text"),
        date=fhir.when(resource.get("date")),
        content_type=media_type(attachment.get("contentType")),
        size=size if isinstance(size, int) and size >= 0 else None,
        content_path=_binary_path(attachment.get("url")),
        security=fhir.security(resource),
    )


@dataclass
class Download:
    """An opened Binary: its media type, and a body to pass through (or close unread)."""

    content_type: str
    body: AsyncIterator[bytes]
    close: Any  # an async callable that releases the connection


async def open_binary(upstream: Upstream, path: str, content_type: str) -> Download:
    """Open the Binary at `path` (from `Document.content_path`) for streaming.

    Raises the `UpstreamError` family; `UpstreamNotFound` when the EHR has no such Binary.
    """
    operation = "read Binary"
    if _binary_path(path) is None:
        raise UpstreamBadResponse(SOURCE, operation, "not a Binary reference")
    accept = "text/plain" if content_type == "text/plain" else content_type
    request = upstream.request(
        "GET", path, headers={"accept": f"{accept}, application/fhir+json;q=0.1"}
    )
    ends = asyncio.get_running_loop().time() + upstream.timeout_s
    response = await _open(upstream, request, ends, operation)
    received = media_type(response.headers.get("content-type"))
    if received in ("application/fhir+json", "application/json") and content_type != received:
        # The EHR sent the Binary resource itself: its content is base64 inside.
        try:
            data = await _decoded(response, upstream, ends, operation)
        finally:
            await response.aclose()
        return Download(content_type, _once(data), _nothing)
    return Download(content_type, _chunks(response, upstream, ends, operation), response.aclose)


async def _open(
    upstream: Upstream, request: httpx.Request, ends: float, operation: str
) -> httpx.Response:
    """The EHR's answer to `request`, its status and declared length checked, its body
    unread; the breaker hears how it went."""
    ticket = upstream.breaker.admit(operation)
    response = await _send(upstream, request, ends, operation, ticket)
    try:
        _check(response, upstream, operation)
    except UpstreamUnavailable:
        upstream.breaker.failure(ticket)
        await response.aclose()
        raise
    except BaseException:
        upstream.breaker.success(ticket)
        await response.aclose()
        raise
    upstream.breaker.success(ticket)
    return response


async def _send(
    upstream: Upstream, request: httpx.Request, ends: float, operation: str, ticket: int
) -> httpx.Response:
    """Send `request` holding one of the upstream's slots until the status and headers
    have arrived, before `ends`; a failure is told to the breaker (`ticket`) and mapped
    onto the `UpstreamError` family."""
    queued = True
    try:
        async with asyncio.timeout_at(ends):
            with waiting():
                async with upstream.bulkhead:  # while opening: the body streams without one
                    queued = False
                    return await upstream.open(request)
    except BulkheadFull as exc:
        upstream.breaker.release(ticket)
        raise UpstreamSaturated(SOURCE, operation, "every slot busy, queue full") from exc
    except TimeoutError as exc:
        if queued:  # no slot came free in time: the EHR itself did nothing wrong
            upstream.breaker.release(ticket)
            raise UpstreamSaturated(SOURCE, operation, "no free connection slot") from exc
        upstream.breaker.failure(ticket)
        raise UpstreamTimeout(SOURCE, operation) from exc
    except (httpx.HTTPError, OSError) as exc:  # no answer: mapped as every call's is
        upstream.breaker.failure(ticket)
        raise unreached(exc, SOURCE, operation) from exc
    except BaseException:
        upstream.breaker.release(ticket)
        raise


def _check(response: httpx.Response, upstream: Upstream, operation: str) -> None:
    status = response.status_code
    if status == 404:
        raise UpstreamNotFound(SOURCE, operation)
    if status >= 500 or status == 429:
        raise UpstreamUnavailable(SOURCE, operation, f"HTTP {status}")
    if status >= 300:
        raise UpstreamBadResponse(SOURCE, operation, f"HTTP {status}")
    declared = declared_length(response)
    if declared is not None and declared > upstream.max_response_bytes:
        raise UpstreamBadResponse(SOURCE, operation, "response too large")


async def _chunks(
    response: httpx.Response, upstream: Upstream, ends: float, operation: str
) -> AsyncIterator[bytes]:
    """The body in chunks, stopped at the size cap or the deadline."""
    seen = 0
    try:
        async with asyncio.timeout_at(ends):
            async for chunk in response.aiter_bytes():
                seen += len(chunk)
                if seen > upstream.max_response_bytes:
                    raise UpstreamBadResponse(SOURCE, operation, "response too large")
                yield chunk
    except TimeoutError as exc:
        raise UpstreamTimeout(SOURCE, operation) from exc
    except httpx.HTTPError as exc:
        raise UpstreamUnavailable(SOURCE, operation, type(exc).__name__) from exc
    finally:
        await response.aclose()


async def _decoded(
    response: httpx.Response, upstream: Upstream, ends: float, operation: str
) -> bytes:
    """The content of a Binary resource the EHR answered with, its JSON read within the
    size cap and the byte budget every upstream shares (as any other answer is)."""
    with upstream.buffers.hold() as held:
        try:
            async with asyncio.timeout_at(ends):
                body = await read_body(
                    response,
                    held,
                    limit=upstream.max_response_bytes,
                    source=SOURCE,
                    operation=operation,
                )
        except TimeoutError as exc:
            raise UpstreamTimeout(SOURCE, operation) from exc
        try:
            resource = orjson.loads(body)
            data = base64.b64decode(resource["data"], validate=True)
        except (orjson.JSONDecodeError, KeyError, TypeError, binascii.Error):
            # not chained: orjson's error keeps the whole document
            raise UpstreamBadResponse(SOURCE, operation, "not a Binary") from None
        finally:
            body = b""
    if not isinstance(resource, dict) or resource.get("resourceType") != "Binary":
        raise UpstreamBadResponse(SOURCE, operation, "not a Binary")
    return data


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _nothing() -> None:
    return None


__all__ = ["Download", "UpstreamError", "document", "media_type", "open_binary"]
