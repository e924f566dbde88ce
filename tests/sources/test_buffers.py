"""One byte budget for every upstream answer held at once: reserved before kept, refused at
once when full, given back when the call ends however it ends."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import tracemalloc
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from mocks.app import MockUpstreams
from sources.buffers import BufferBudget
from sources.errors import UpstreamBadResponse, UpstreamSaturated
from sources.resilience import BreakerState, CircuitBreaker, RetryPolicy
from sources.upstream import Upstream
from tests.conftest import REFERENCE_DAY
from tests.sources.sockets import served

MiB = 1024 * 1024
JSON = {"content-type": "application/json"}

# -- the budget ----------------------------------------------------------------------------


def test_reservations_share_the_capacity_and_give_everything_back() -> None:
    budget = BufferBudget(100)
    first, second = budget.hold(), budget.hold()
    assert first.grow(60)
    assert not second.grow(41)  # refused whole: nothing reserved
    assert budget.used == 60
    assert second.grow(40)
    assert not first.grow(1)
    first.shrink(10)
    assert budget.used == 90
    first.release()
    first.release()  # twice is harmless
    assert budget.used == 40
    with second:
        pass
    assert budget.used == 0


def test_a_reservation_is_released_when_its_block_raises() -> None:
    budget = BufferBudget(100)

    def fail() -> None:
        with budget.hold() as held:
            assert held.grow(70)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail()
    assert budget.used == 0


@pytest.mark.parametrize("capacity", [0, -1])
def test_a_budget_needs_room(capacity: int) -> None:
    with pytest.raises(ValueError, match="capacity"):
        BufferBudget(capacity)


def test_sizes_cannot_go_negative() -> None:
    held = BufferBudget(100).hold()
    with pytest.raises(ValueError, match=">= 0"):
        held.grow(-1)
    with pytest.raises(ValueError, match="below zero"):
        held.shrink(1)


# -- through Upstream.call -----------------------------------------------------------------


class Chunks(httpx.AsyncByteStream):
    """A JSON string of `count` chunks, pausing between them; remembers how far it got."""

    def __init__(self, chunk_bytes: int, count: int, pause_s: float = 0.0) -> None:
        self.chunk_bytes, self.count, self.pause_s = chunk_bytes, count, pause_s
        self.read = 0

    def body(self) -> bytes:
        return b'"' + b"x" * (self.chunk_bytes * self.count - 2) + b'"'

    async def __aiter__(self) -> AsyncIterator[bytes]:
        body = self.body()
        for n in range(self.count):
            if self.pause_s:
                await asyncio.sleep(self.pause_s)
            self.read += 1
            yield body[n * self.chunk_bytes : (n + 1) * self.chunk_bytes]


def upstream(
    name: str, budget: BufferBudget, respond: httpx.AsyncByteStream | bytes, **headers: str
) -> Upstream:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(respond, bytes):
            return httpx.Response(200, headers={**JSON, **headers}, content=respond)
        return httpx.Response(200, headers={**JSON, **headers}, stream=respond)

    return Upstream(
        name,
        f"http://{name.lower()}.test",
        timeout_s=2.0,
        max_response_bytes=10_000,
        buffers=budget,
        retry=RetryPolicy(attempts=1),
        transport=httpx.MockTransport(handler),
    )


async def test_a_body_is_read_within_the_budget_and_given_back() -> None:
    budget = BufferBudget(10_000)
    stream = Chunks(1000, 5)
    ehr = upstream("EHR", budget, stream)
    assert await ehr.call("GET", "x", operation="read") == "x" * 4998
    assert budget.used == 0


async def test_a_known_length_is_reserved_whole_before_reading() -> None:
    budget = BufferBudget(10_000)
    body = orjson.dumps("y" * 6000)
    held = budget.hold()
    assert held.grow(5000)
    stream = Chunks(1000, 6)
    ehr = upstream("EHR", budget, stream, **{"content-length": str(6002)})
    with pytest.raises(UpstreamSaturated, match=r"upstream buffers full$"):
        await ehr.call("GET", "x", operation="read")
    assert stream.read == 0  # refused before a byte was read
    held.release()
    ok = upstream("EHR", budget, body)  # httpx sets content-length: 6002
    assert await ok.call("GET", "x", operation="read") == "y" * 6000
    assert budget.used == 0


async def test_one_budget_is_shared_by_every_upstream() -> None:
    budget = BufferBudget(12_000)  # the EHR's 6,000 bytes, and their joined copy
    release = asyncio.Event()

    class Held(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b'"' + b"x" * 5998
            await release.wait()
            yield b'"'

    ehr = upstream("EHR", budget, Held())
    national = upstream("NATIONAL", budget, Chunks(1000, 7))
    slow = asyncio.create_task(ehr.call("GET", "x", operation="read"))
    async with asyncio.timeout(5):
        while budget.used < 5999:  # noqa: ASYNC110  (the EHR holds its first chunk)
            await asyncio.sleep(0)
    with pytest.raises(UpstreamSaturated, match="upstream buffers full") as caught:
        await national.call("GET", "x", operation="search")
    assert caught.value.source == "NATIONAL"
    assert budget.used == 5999  # the refused call gave back what it had
    release.set()
    assert await slow == "x" * 5998
    assert budget.used == 0


async def test_a_body_of_unknown_length_counts_its_joined_copy() -> None:
    # its chunks and, while they are joined into one body, the copy: 2 x 6,000 > 10,000
    budget = BufferBudget(10_000)
    with pytest.raises(UpstreamSaturated, match="upstream buffers full"):
        await upstream("EHR", budget, Chunks(1000, 6)).call("GET", "x", operation="read")
    assert budget.used == 0
    assert await upstream("EHR", budget, Chunks(1000, 5)).call("GET", "x", operation="read")


async def test_a_declared_length_over_what_the_budget_can_ever_hold_is_refused_unread() -> None:
    budget = BufferBudget(5000)  # less than the upstream's own cap of 10,000
    stream = Chunks(1000, 6)
    ehr = upstream("EHR", budget, stream, **{"content-length": "6000"})
    with pytest.raises(UpstreamBadResponse, match="too large"):
        await ehr.call("GET", "x", operation="read")
    assert stream.read == 0
    assert budget.used == 0


async def test_a_body_over_the_cap_gives_its_bytes_back() -> None:
    budget = BufferBudget(100_000)
    ehr = upstream("EHR", budget, Chunks(1000, 20))
    with pytest.raises(UpstreamBadResponse, match="too large"):
        await ehr.call("GET", "x", operation="read")
    assert budget.used == 0


@pytest.mark.parametrize("length", [False, True])
async def test_a_cancelled_read_gives_its_bytes_back(length: bool) -> None:
    budget = BufferBudget(100_000)
    stream = Chunks(1000, 9, pause_s=0.01)
    headers = {"content-length": str(9000)} if length else {}
    ehr = upstream("EHR", budget, stream, **headers)
    task = asyncio.create_task(ehr.call("GET", "x", operation="read"))
    async with asyncio.timeout(5):
        while stream.read < 3:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    assert budget.used > 0
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert budget.used == 0


class Parts(httpx.AsyncByteStream):
    """A body sent as these parts, without a content-length."""

    def __init__(self, *parts: bytes) -> None:
        self.parts = parts

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            yield part


@pytest.mark.parametrize(
    "respond",
    [
        pytest.param(b"z" * (2 * MiB) + b"{", id="invalid-json-length-known"),
        pytest.param(Parts(b"z" * MiB, b"z" * MiB, b"{"), id="invalid-json-streamed"),
        pytest.param(Parts(*[b"z" * MiB] * 5), id="over-the-cap-streamed"),
    ],
)
async def test_a_failed_read_keeps_no_body_alive(respond: httpx.AsyncByteStream | bytes) -> None:
    """An error carries a traceback whose frames held the body (and orjson's decode error
    the whole document): the error an upstream call raises must keep none of it."""
    budget = BufferBudget(16 * MiB)
    ehr = upstream("EHR", budget, respond)
    ehr.max_response_bytes = 4 * MiB
    gc.collect()
    tracemalloc.start()
    try:
        with pytest.raises(UpstreamBadResponse) as caught:
            await ehr.call("GET", "x", operation="read")
        gc.collect()
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kept < MiB / 2, (kept, caught.value)
    assert budget.used == 0


# -- memory over a real socket ---------------------------------------------------------------


async def test_concurrent_oversized_bodies_stay_within_the_budget() -> None:
    """Eight concurrent oversized answers (no content-length) against a 4 MiB cap each
    would hold 32 MiB; with an 8 MiB budget the process holds about that, refuses the
    rest at once, and gives every byte back."""
    calls, cap, budget_bytes = 8, 4 * MiB, 8 * MiB
    mocks = MockUpstreams(size=0, today=REFERENCE_DAY)
    mocks.ehr.faults.oversized_bytes = 6 * MiB
    budget = BufferBudget(budget_bytes)
    async with served(mocks.asgi()) as origin:
        ehr = Upstream(
            "EHR",
            f"{origin}/ehr/fhir/R4",
            timeout_s=20.0,
            max_response_bytes=cap,
            buffers=budget,
            retry=RetryPolicy(attempts=1),
        )
        with contextlib.suppress(UpstreamBadResponse):  # a connection, and lazy imports
            await ehr.call("GET", "metadata", operation="warm up")
        gc.collect()
        tracemalloc.start()
        try:
            base, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            results = await asyncio.gather(
                *(ehr.call("GET", "metadata", operation="read") for _ in range(calls)),
                return_exceptions=True,
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            await ehr.aclose()
    assert all(isinstance(r, UpstreamBadResponse | UpstreamSaturated) for r in results), results
    assert any(isinstance(r, UpstreamSaturated) for r in results)
    saturated = [str(r) for r in results if isinstance(r, UpstreamSaturated)]
    assert all(s.endswith("upstream buffers full") for s in saturated)
    # near the budget: beside it, each connection's socket buffers (asyncio reads up to
    # 256 KiB at once, aiohttp keeps up to 128 KiB unread), outside any upstream's bytes
    assert peak - base < budget_bytes + calls * MiB, peak - base
    assert peak - base < calls * cap / 2  # far below what each call's cap allows together
    assert budget.used == 0
    assert mocks.ehr.total == calls + 1


async def test_full_buffers_are_no_failure_of_the_upstream() -> None:
    budget = BufferBudget(1000)
    held = budget.hold()
    assert held.grow(1000)  # the gateway is full
    ehr = upstream("EHR", budget, Chunks(100, 5))
    ehr.breaker = CircuitBreaker("EHR", min_requests=2)
    for _ in range(4):
        with pytest.raises(UpstreamSaturated):
            await ehr.call("GET", "x", operation="read", idempotent=True)
    assert ehr.breaker.state is BreakerState.CLOSED
    held.release()
    assert await ehr.call("GET", "x", operation="read") == "x" * 498
