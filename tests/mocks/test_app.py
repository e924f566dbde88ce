"""The assembled mock upstreams: mounts, counters, per-upstream faults by configuration."""

import time

import httpx
import pytest
from starlette.types import Message

from mocks.app import MockUpstreams
from mocks.control import Faults
from tests.conftest import REFERENCE_DAY


async def test_faults_apply_per_upstream_and_counters_count() -> None:
    mocks = MockUpstreams(size=0, today=REFERENCE_DAY, faults={"5001": Faults(error_rate=1.0)})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mocks.asgi()), base_url="http://mocks.test"
    ) as client:
        assert (await client.get("/municipalities/5001/api/v1/info")).status_code == 503
        assert (await client.get("/municipalities/5037/api/v1/info")).status_code == 200
        assert (await client.get("/ehr/fhir/R4/metadata")).status_code == 200
        stats = (await client.get("/_mock/stats")).json()
        assert stats["MUNICIPAL 5001"] == {"GET /municipalities/5001/api/v1/info": 1}
        assert mocks.counts()["EHR"] == 1
        await client.delete("/_mock/stats")
    assert sum(mocks.counts().values()) == 0


def test_unknown_fault_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="no mock upstream named"):
        MockUpstreams(size=0, faults={"9999": Faults()})


async def _metadata(faults: Faults) -> httpx.Response:
    mocks = MockUpstreams(size=0, today=REFERENCE_DAY, faults={"ehr": faults})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mocks.asgi()), base_url="http://mocks.test"
    ) as client:
        return await client.get("/ehr/fhir/R4/metadata")


async def test_fail_first_fails_only_the_first_requests() -> None:
    mocks = MockUpstreams(
        size=0, today=REFERENCE_DAY, faults={"ehr": Faults(fail_first=2, retry_after=3)}
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mocks.asgi()), base_url="http://mocks.test"
    ) as client:
        answers = [await client.get("/ehr/fhir/R4/metadata") for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].headers["retry-after"] == "3"


async def test_truncated_sends_half_of_the_real_body() -> None:
    whole = await _metadata(Faults())
    cut = await _metadata(Faults(truncated=True))
    assert cut.status_code == 200
    assert cut.content == whole.content[: len(whole.content) // 2]
    assert cut.headers["content-length"] == str(len(cut.content))


async def test_slow_drip_sends_the_real_body_in_paced_chunks() -> None:
    whole = await _metadata(Faults())
    mocks = MockUpstreams(
        size=0, today=REFERENCE_DAY, faults={"ehr": Faults(slow_drip_ms=5, drip_chunk_bytes=512)}
    )
    app = mocks.asgi()
    chunks: list[bytes] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message["body"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/ehr/fhir/R4/metadata",
        "raw_path": b"/ehr/fhir/R4/metadata",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"mocks.test")],
        "server": ("mocks.test", 80),
        "client": ("127.0.0.1", 1),
    }
    started = time.monotonic()
    await app(scope, receive, send)
    assert b"".join(chunks) == whole.content
    assert len(chunks) == -(-len(whole.content) // 512)
    assert all(len(c) <= 512 for c in chunks)
    assert time.monotonic() - started >= 0.005 * (len(chunks) - 1)


async def test_oversized_sends_valid_json_of_the_size_asked() -> None:
    answer = await _metadata(Faults(oversized_bytes=200_000))
    assert answer.status_code == 200
    assert len(answer.content) == 200_000
    assert "content-length" not in answer.headers
    assert answer.json()["resourceType"] == "Bundle"


async def test_redirect_to_points_at_another_host() -> None:
    answer = await _metadata(Faults(redirect_to="http://elsewhere.test"))
    assert answer.status_code == 302
    assert answer.headers["location"].startswith("http://elsewhere.test/")


async def test_calls_are_recorded_with_their_latency_only_while_asked() -> None:
    mocks = MockUpstreams(size=0, today=REFERENCE_DAY, latency_ms=5)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mocks.asgi()), base_url="http://mocks.test"
    ) as client:
        await client.get("/ehr/fhir/R4/metadata")
        assert (await client.get("/_mock/calls")).json()["EHR"] == []
        await client.put("/_mock/calls")
        before = time.monotonic()
        await client.get("/ehr/fhir/R4/metadata")
        await client.get("/national/api/v1/info")
        after = time.monotonic()
        calls = (await client.get("/_mock/calls")).json()
        [(start, end)] = calls["EHR"]
        assert before <= start < end <= after
        assert end - start >= 0.005
        assert len(calls["NATIONAL"]) == 1
        await client.delete("/_mock/calls")
        await client.get("/ehr/fhir/R4/metadata")
        assert (await client.get("/_mock/calls")).json()["EHR"] == []
