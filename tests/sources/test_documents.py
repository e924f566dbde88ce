"""Documents from the EHR: DocumentReference search and read, Binary streaming (MockTransport)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from sources.documents import media_type, open_binary
from sources.ehr import EhrClient
from sources.errors import (
    UpstreamBadResponse,
    UpstreamNotFound,
    UpstreamSaturated,
    UpstreamUnavailable,
)
from sources.resilience import BreakerState, CircuitBreaker
from sources.upstream import Upstream
from tests.sources.test_ehr import bundle

CATEGORY = "https://fhir.helsegraf.dev/CodeSystem/document-category"
DOCUMENT = {
    "resourceType": "DocumentReference",
    "id": "d1",
    "status": "current",
    "meta": {
        "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"}]
    },
    "type": {"text": "Innkallingsbrev"},
    "category": [{"coding": [{"system": CATEGORY, "code": "invitation"}]}],
    "subject": {"reference": "Patient/e1"},
    "date": "2026-11-01T10:00:00+01:00",
    "description": "Innkalling",
    "content": [
        {
            "attachment": {
                "contentType": "text/plain",
                "url": "Binary/d1",
                "size": 5,
                "title": "Innkalling: Poliklinikk",
            }
        }
    ],
}
OTHERS = {**DOCUMENT, "id": "d2", "subject": {"reference": "Patient/someone-else"}}


def upstream(handler: Callable[[httpx.Request], httpx.Response], max_bytes: int = 4096) -> Upstream:
    return Upstream(
        "EHR",
        "http://ehr.test/fhir",
        timeout_s=1.0,
        max_response_bytes=max_bytes,
        transport=httpx.MockTransport(handler),
    )


async def test_documents_are_searched_newest_first_and_parsed_without_the_binary_url() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/fhir/DocumentReference/_search"
        form = request.content.decode()
        assert "patient=e1" in form
        assert "_sort=-date" in form
        return httpx.Response(200, json=bundle(DOCUMENT, OTHERS))

    [document] = await EhrClient(upstream(handler)).documents("e1")
    assert document.id == "d1"
    assert document.patient_id == "e1"
    assert document.title == "Innkalling: Poliklinikk"
    assert (document.kind, document.kind_text) == ("invitation", "Innkallingsbrev")
    assert (document.content_type, document.size) == ("text/plain", 5)
    assert document.content_path == "Binary/d1"
    assert document.security.sensitivity == frozenset({"PSY"})


async def test_a_document_is_read_by_id_and_a_missing_one_is_none() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/fhir/DocumentReference/d1":
            return httpx.Response(200, json=DOCUMENT)
        return httpx.Response(404, json={"resourceType": "OperationOutcome"})

    ehr = EhrClient(upstream(handler))
    found = await ehr.document("d1")
    assert found is not None
    assert found.id == "d1"
    assert await EhrClient(upstream(handler)).document("nope") is None
    assert await EhrClient(upstream(handler)).document("../Patient/e1") is None


async def test_an_attachment_elsewhere_is_never_a_content_path() -> None:
    elsewhere = json.loads(json.dumps(DOCUMENT))
    elsewhere["content"][0]["attachment"]["url"] = "https://evil.example/Binary/d1"
    ehr = EhrClient(upstream(lambda _: httpx.Response(200, json=elsewhere)))
    document = await ehr.document("d1")
    assert document is not None
    assert document.content_path is None


async def test_binary_content_streams_as_text() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/fhir/Binary/d1"
        assert request.headers["accept"].startswith("text/plain")
        return httpx.Response(200, content=b"hello", headers={"content-type": "text/plain"})

    opened = await open_binary(upstream(handler), "Binary/d1", "text/plain")
    assert opened.content_type == "text/plain"
    assert b"".join([chunk async for chunk in opened.body]) == b"hello"


async def test_a_binary_resource_answer_is_decoded() -> None:
    binary = {"resourceType": "Binary", "data": base64.b64encode(b"%PDF").decode()}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=json.dumps(binary), headers={"content-type": "application/fhir+json"}
        )

    opened = await open_binary(upstream(handler), "Binary/d1", "application/pdf")
    assert b"".join([chunk async for chunk in opened.body]) == b"%PDF"


async def test_binary_over_the_size_cap_is_refused() -> None:
    def declared(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * 5000, headers={"content-type": "text/plain"})

    with pytest.raises(UpstreamBadResponse, match="too large"):
        await open_binary(upstream(declared), "Binary/d1", "text/plain")

    def undeclared(request: httpx.Request) -> httpx.Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"x" * 2100
            yield b"x" * 2100

        return httpx.Response(200, content=chunks(), headers={"content-type": "text/plain"})

    opened = await open_binary(upstream(undeclared), "Binary/d1", "text/plain")
    with pytest.raises(UpstreamBadResponse, match="too large"):
        _ = [chunk async for chunk in opened.body]


async def test_binary_failures_map_onto_the_upstream_errors() -> None:
    with pytest.raises(UpstreamNotFound):
        await open_binary(upstream(lambda _: httpx.Response(404)), "Binary/d1", "text/plain")
    with pytest.raises(UpstreamUnavailable):
        await open_binary(upstream(lambda _: httpx.Response(503)), "Binary/d1", "text/plain")
    with pytest.raises(UpstreamBadResponse):
        await open_binary(upstream(lambda _: httpx.Response(302)), "Binary/d1", "text/plain")
    with pytest.raises(UpstreamBadResponse):
        await open_binary(upstream(lambda _: httpx.Response(200)), "Patient/e1", "text/plain")


def test_media_types_are_plain_or_octet_stream() -> None:
    assert media_type("text/plain; charset=utf-8") == "text/plain"
    assert media_type("Application/PDF") == "application/pdf"
    assert media_type("text/html\r\nx-evil: 1") == "application/octet-stream"
    assert media_type(None) == "application/octet-stream"


async def test_opening_a_binary_waits_for_a_concurrency_slot_like_any_call() -> None:
    ehr = Upstream(
        "EHR",
        "http://ehr.test/fhir",
        timeout_s=0.2,
        max_concurrency=1,
        breaker=CircuitBreaker("EHR", min_requests=1),  # one failure would open it
        transport=httpx.MockTransport(lambda _: httpx.Response(200, text="hello")),
    )
    async with ehr.bulkhead:  # every slot busy: the download cannot open in time
        with pytest.raises(UpstreamSaturated):
            await open_binary(ehr, "Binary/d1", "text/plain")
    assert ehr.breaker.state is BreakerState.CLOSED  # a full pool is not the EHR failing
    opened = await open_binary(ehr, "Binary/d1", "text/plain")
    assert [chunk async for chunk in opened.body] == [b"hello"]
    assert ehr.bulkhead.open == 0  # the slot is back once the answer is open


async def test_a_cookie_the_ehr_sets_on_one_download_is_never_sent_on_the_next() -> None:
    """The upstream's connection pool serves every citizen: nothing of one download's
    exchange (a session cookie) may travel with another citizen's."""
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200, text="hello", headers={"set-cookie": "ehr-session=kari; Path=/"})

    ehr = upstream(handler)
    for _ in range(2):
        opened = await open_binary(ehr, "Binary/d1", "text/plain")
        assert [chunk async for chunk in opened.body] == [b"hello"]
    assert seen == [None, None]


async def test_a_binary_resource_answer_is_read_within_the_shared_byte_budget() -> None:
    from sources.buffers import BufferBudget

    binary = {"resourceType": "Binary", "data": base64.b64encode(b"%PDF" * 512).decode()}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=json.dumps(binary), headers={"content-type": "application/fhir+json"}
        )

    ehr = Upstream(
        "EHR",
        "http://ehr.test/fhir",
        timeout_s=1.0,
        buffers=BufferBudget(1024),  # smaller than the resource: the gateway is full
        transport=httpx.MockTransport(handler),
    )
    with pytest.raises(UpstreamSaturated, match="buffers full"):
        await open_binary(ehr, "Binary/d1", "application/pdf")
    assert ehr.buffers.used == 0


async def test_a_refused_connection_is_unavailable_like_any_other_call() -> None:
    """httpx-aiohttp reports a refused connection as a connect timeout caused by the
    OSError; a download maps it as `Upstream.call` does (`sources.network.unreached`)."""

    def refused(request: httpx.Request) -> httpx.Response:
        try:
            raise ConnectionRefusedError(111, "refused")
        except ConnectionRefusedError as cause:
            raise httpx.ConnectTimeout("connect failed", request=request) from cause

    ehr = upstream(refused)
    with pytest.raises(UpstreamUnavailable, match="ConnectionRefusedError"):
        await open_binary(ehr, "Binary/d1", "text/plain")
    with pytest.raises(UpstreamUnavailable, match="ConnectionRefusedError"):
        await ehr.call("GET", "Binary/d1", operation="read Binary")
