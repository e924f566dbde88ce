"""What `Upstream.call` accepts from an upstream: size caps, redirects, broken bodies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from sources.errors import (
    UpstreamBadResponse,
    UpstreamConflict,
    UpstreamError,
    UpstreamNotFound,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from sources.resilience import RetryBudget
from sources.upstream import Upstream

Handler = Callable[[httpx.Request], httpx.Response]
JSON = {"content-type": "application/json"}  # what the answers below are labelled


def upstream(
    handler: Handler, *, max_response_bytes: int = 1024, timeout_s: float = 1.0
) -> tuple[Upstream, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return (
        Upstream(
            "EHR",
            "http://ehr.test/fhir",
            timeout_s=timeout_s,
            max_response_bytes=max_response_bytes,
            # a budget that never binds: a test seeing one call saw no retry at all
            budget=RetryBudget(ratio=10),
            transport=httpx.MockTransport(recording),
        ),
        seen,
    )


class Chunks(httpx.AsyncByteStream):
    """A response body sent in chunks, remembering how many were read."""

    def __init__(self, chunk: bytes, count: int, pause_s: float = 0.0) -> None:
        self.chunk, self.count, self.pause_s = chunk, count, pause_s
        self.read = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            if self.pause_s:
                await asyncio.sleep(self.pause_s)
            self.read += 1
            yield self.chunk


async def test_a_body_under_the_cap_is_read_whole() -> None:
    ehr, _ = upstream(lambda r: httpx.Response(200, json={"padding": "x" * 900}))
    assert len((await ehr.call("GET", "Patient/e1", operation="read"))["padding"]) == 900


async def test_a_too_large_content_length_is_refused_before_reading() -> None:
    body = Chunks(b"x" * 100, 10_000)
    ehr, _ = upstream(
        lambda r: httpx.Response(200, headers={"content-length": "1000000", **JSON}, stream=body)
    )
    with pytest.raises(UpstreamBadResponse, match="too large"):
        await ehr.call("GET", "Patient/e1", operation="read", idempotent=True)
    assert body.read == 0


async def test_a_body_without_length_is_cut_off_at_the_cap() -> None:
    body = Chunks(b"x" * 100, 10_000)
    ehr, seen = upstream(lambda r: httpx.Response(200, headers=JSON, stream=body))
    with pytest.raises(UpstreamBadResponse, match="too large"):
        await ehr.call("GET", "Patient/e1", operation="read", idempotent=True)
    assert body.read == 11  # 1,100 bytes: one chunk past the 1,024-byte cap, no more
    assert len(seen) == 1  # a bad answer is not retried


async def test_a_slow_drip_body_is_caught_by_the_total_deadline() -> None:
    body = Chunks(b" ", 100, pause_s=0.01)
    ehr, _ = upstream(lambda r: httpx.Response(200, headers=JSON, stream=body), timeout_s=0.2)
    with pytest.raises(UpstreamTimeout):
        await ehr.call("GET", "Patient/e1", operation="read", idempotent=True)
    assert 5 < body.read < 30


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_to_another_host_is_never_followed(status: int) -> None:
    ehr, seen = upstream(
        lambda r: httpx.Response(status, headers={"location": "http://elsewhere.test/steal"})
    )
    with pytest.raises(UpstreamBadResponse, match=f"HTTP {status} redirect"):
        await ehr.call("POST", "Patient/_search", operation="search", form="x=1", idempotent=True)
    assert [r.url.host for r in seen] == ["ehr.test"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"resourceType": "Bundle", "entry": [{"resource": {"id"', id="truncated"),
        pytest.param(b"<html>Service Unavailable</html>", id="malformed"),
        pytest.param(b"", id="empty"),
    ],
)
async def test_broken_json_is_a_bad_response_and_not_retried(body: bytes) -> None:
    ehr, seen = upstream(lambda r: httpx.Response(200, headers=JSON, content=body))
    with pytest.raises(UpstreamBadResponse, match="invalid JSON"):
        await ehr.call("GET", "Patient/e1", operation="read", idempotent=True)
    assert len(seen) == 1


async def test_a_reset_connection_is_unavailable_and_retried() -> None:
    def reset(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("connection reset by peer")

    ehr, seen = upstream(reset)
    with pytest.raises(UpstreamUnavailable, match="ReadError"):
        await ehr.call("GET", "Patient/e1", operation="read", idempotent=True)
    assert len(seen) == 3


@pytest.mark.parametrize(
    ("status", "error"),
    [
        pytest.param(404, UpstreamNotFound, id="not-found"),
        pytest.param(400, UpstreamRejected, id="bad-request"),
        pytest.param(422, UpstreamRejected, id="unprocessable"),
        pytest.param(409, UpstreamConflict, id="conflict"),
        pytest.param(412, UpstreamConflict, id="precondition-failed"),
        pytest.param(403, UpstreamBadResponse, id="forbidden"),
        pytest.param(429, UpstreamUnavailable, id="too-many-requests"),
        pytest.param(502, UpstreamUnavailable, id="bad-gateway"),
    ],
)
async def test_statuses_map_onto_the_error_family(status: int, error: type[UpstreamError]) -> None:
    ehr, _ = upstream(lambda r: httpx.Response(status, json={"secret": "26878118862"}))
    with pytest.raises(error) as caught:
        await ehr.call("GET", "Patient/e1", operation="read Patient")
    assert type(caught.value) is error
    assert str(caught.value).startswith("EHR upstream failed during read Patient")
    assert "26878118862" not in str(caught.value)


async def test_not_found_may_be_an_answer() -> None:
    ehr, _ = upstream(lambda r: httpx.Response(404, json={"resourceType": "OperationOutcome"}))
    result = await ehr.call("GET", "Patient/e1", operation="read", not_found_ok=True)
    assert result == {"resourceType": "OperationOutcome"}
