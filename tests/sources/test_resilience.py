"""Circuit breaker, retry budget, retry policy and concurrency limit of an upstream."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sources.ehr import IDEMPOTENCY_SYSTEM, EhrClient
from sources.errors import (
    UpstreamCircuitOpen,
    UpstreamSaturated,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from sources.resilience import (
    BreakerState,
    CircuitBreaker,
    RetryBudget,
    RetryPolicy,
    parse_retry_after,
)
from sources.upstream import Upstream

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
BUNDLE = {"resourceType": "Bundle", "type": "searchset", "entry": []}


class FakeClock:
    """Monotonic seconds that only move when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: FakeClock, **overrides: float) -> CircuitBreaker:
    options: dict[str, float] = {
        "failure_ratio": 0.5,
        "min_requests": 4,
        "window_s": 10,
        "cooldown_s": 5,
    }
    options.update(overrides)
    return CircuitBreaker(
        "EHR",
        failure_ratio=options["failure_ratio"],
        min_requests=int(options["min_requests"]),
        window_s=options["window_s"],
        cooldown_s=options["cooldown_s"],
        clock=clock,
    )


def state(b: CircuitBreaker) -> BreakerState:
    """The state, read afresh (a plain attribute read would be narrowed by mypy)."""
    return b.state


def fail(b: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        b.failure(b.admit("read"))


# -- circuit breaker -------------------------------------------------------------------


def test_breaker_stays_closed_below_the_minimum_request_count() -> None:
    b = breaker(FakeClock())
    fail(b, 3)
    assert state(b) is BreakerState.CLOSED
    b.admit("read")


def test_breaker_opens_on_the_error_rate_and_then_fails_fast() -> None:
    b = breaker(FakeClock())
    for _ in range(2):
        b.success(b.admit("read"))
    fail(b, 1)
    assert state(b) is BreakerState.CLOSED  # 1 of 3, and under the minimum
    fail(b, 1)
    assert state(b) is BreakerState.OPEN  # 2 of 4 failed: 50 %
    with pytest.raises(UpstreamCircuitOpen) as caught:
        b.admit("search Observation")
    assert isinstance(caught.value, UpstreamUnavailable)
    assert caught.value.code == "UPSTREAM_CIRCUIT_OPEN"
    assert caught.value.source == "EHR"


def test_a_mostly_healthy_upstream_keeps_its_breaker_closed() -> None:
    b = breaker(FakeClock())
    for _ in range(10):
        b.success(b.admit("read"))
    fail(b, 9)
    assert state(b) is BreakerState.CLOSED  # 9 of 19 failed, under half


def test_failures_leave_the_rolling_window() -> None:
    clock = FakeClock()
    b = breaker(clock)
    fail(b, 3)
    clock.now += 11
    fail(b, 1)
    assert state(b) is BreakerState.CLOSED  # the first three are forgotten: 1 call counted


def test_half_open_lets_one_probe_through_and_its_success_closes() -> None:
    clock = FakeClock()
    b = breaker(clock)
    fail(b, 4)
    clock.now += 4.9
    with pytest.raises(UpstreamCircuitOpen):
        b.admit("read")
    clock.now += 0.1
    assert state(b) is BreakerState.HALF_OPEN
    probe = b.admit("read")
    with pytest.raises(UpstreamCircuitOpen, match="probing"):
        b.admit("read")  # only one probe at a time
    b.success(probe)
    assert state(b) is BreakerState.CLOSED
    b.admit("read")
    b.admit("read")


def test_a_failed_probe_opens_the_breaker_for_another_cool_down() -> None:
    clock = FakeClock()
    b = breaker(clock)
    fail(b, 4)
    clock.now += 5
    b.failure(b.admit("read"))
    assert state(b) is BreakerState.OPEN
    clock.now += 4
    with pytest.raises(UpstreamCircuitOpen):
        b.admit("read")
    clock.now += 1
    b.success(b.admit("read"))
    assert state(b) is BreakerState.CLOSED


def test_an_abandoned_probe_frees_the_way_for_the_next() -> None:
    clock = FakeClock()
    b = breaker(clock)
    fail(b, 4)
    clock.now += 5
    b.release(b.admit("read"))  # cancelled, or never got a connection slot
    b.success(b.admit("read"))
    assert state(b) is BreakerState.CLOSED


def test_a_late_answer_from_before_the_breaker_opened_is_not_the_probe() -> None:
    clock = FakeClock()
    b = breaker(clock)
    slow = b.admit("read")
    fail(b, 4)
    clock.now += 5
    probe = b.admit("read")
    b.success(slow)
    assert state(b) is BreakerState.HALF_OPEN
    b.failure(probe)
    assert state(b) is BreakerState.OPEN


# -- retry budget ------------------------------------------------------------------------


def test_retry_budget_grants_nothing_before_any_call() -> None:
    budget = RetryBudget(ratio=0.2, window_s=10, clock=FakeClock())
    assert sum(budget.try_retry() for _ in range(50)) == 0


def test_a_quiet_gateway_retries_only_what_its_first_attempts_paid_for() -> None:
    # one call every few seconds: no fixed allowance lets each of them retry
    clock = FakeClock()
    budget = RetryBudget(ratio=0.2, window_s=10, clock=clock)
    granted = []
    for _ in range(4):
        budget.record_call()
        granted.append(budget.try_retry())
        clock.now += 2
    assert granted == [False, False, False, False]
    budget.record_call()  # the fifth call in the window pays for one retry
    assert budget.try_retry()
    assert not budget.try_retry()


def test_retry_budget_grows_with_a_fraction_of_the_calls() -> None:
    clock = FakeClock()
    budget = RetryBudget(ratio=0.2, window_s=10, clock=clock)
    for _ in range(100):
        budget.record_call()
    assert sum(budget.try_retry() for _ in range(100)) == 20
    clock.now += 11
    assert not budget.try_retry()  # the calls that paid for retries left the window
    budget.record_call()
    for _ in range(4):
        budget.record_call()
    assert budget.try_retry()  # and the spent retries left with them


@given(
    ratio=st.sampled_from([0.0, 0.1, 0.2, 0.29, 0.5, 1.0]),
    steps=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5), st.integers(0, 4)), max_size=60),
)
def test_retries_never_exceed_the_ratio_of_first_attempts_in_the_window(
    ratio: float, steps: list[tuple[int, int, int]]
) -> None:
    clock = FakeClock()
    budget = RetryBudget(ratio=ratio, window_s=10, clock=clock)
    events: list[tuple[float, int, int]] = []  # (time, first attempts, retries)
    for calls, attempts, pause in steps:
        for _ in range(calls):
            budget.record_call()
            events.append((clock.now, 1, 0))
        for _ in range(attempts):
            if budget.try_retry():
                events.append((clock.now, 0, 1))
                window = [e for e in events if e[0] > int(clock.now) - 10]
                first = sum(e[1] for e in window)
                retried = sum(e[2] for e in window)
                assert retried <= ratio * first + 1e-9
        clock.now += pause


def test_a_negative_ratio_is_refused() -> None:
    with pytest.raises(ValueError, match="ratio"):
        RetryBudget(ratio=-0.1)


# -- retry policy and Retry-After ------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        pytest.param("3", 3.0, id="delta-seconds"),
        pytest.param(" 0 ", 0.0, id="zero"),
        pytest.param("Mon, 23 Nov 2026 12:00:30 GMT", 30.0, id="http-date"),
        pytest.param("Mon, 23 Nov 2026 11:00:00 GMT", 0.0, id="http-date-in-the-past"),
        pytest.param("-1", None, id="negative"),
        pytest.param("soon", None, id="garbage"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_retry_after_parsing(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds


def test_retry_after_is_honoured_but_never_past_the_deadline() -> None:
    policy = RetryPolicy(attempts=3)
    rng = random.Random(1)
    assert policy.delay(0, retry_after_s=1.5, remaining_s=2.0, rng=rng) == 1.5
    assert policy.delay(0, retry_after_s=3.0, remaining_s=2.0, rng=rng) is None
    assert policy.delay(2, retry_after_s=0.0, remaining_s=2.0, rng=rng) is None  # used up


@given(st.integers(min_value=0, max_value=20), st.integers(min_value=0, max_value=2**32))
def test_backoff_is_exponential_with_jitter_and_capped(retry: int, seed: int) -> None:
    policy = RetryPolicy(attempts=30, base_delay_s=0.05, max_delay_s=1.0)
    ceiling = min(1.0, 0.05 * 2**retry)
    assert ceiling / 2 <= policy.backoff(retry, random.Random(seed)) <= ceiling


# -- retries through Upstream.call -----------------------------------------------------------


def scripted(
    *responses: httpx.Response, retry: RetryPolicy | None = None, timeout_s: float = 2.0
) -> tuple[Upstream, list[httpx.Request]]:
    """An upstream answering with `responses` in turn (the last one repeats)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return responses[min(len(seen), len(responses)) - 1]

    upstream = Upstream(
        "EHR",
        "http://ehr.test/fhir",
        timeout_s=timeout_s,
        retry=retry or RetryPolicy(attempts=3, base_delay_s=0.001),
        # a budget that never binds: these tests are about the retry policy
        budget=RetryBudget(ratio=10),
        transport=httpx.MockTransport(handler),
    )
    return upstream, seen


async def test_an_idempotent_read_is_retried_after_a_server_error() -> None:
    upstream, seen = scripted(httpx.Response(503), httpx.Response(200, json=BUNDLE))
    result = await upstream.call(
        "POST", "Observation/_search", operation="search", form="patient=e1", idempotent=True
    )
    assert result == BUNDLE
    assert len(seen) == 2
    assert seen[0].content == seen[1].content == b"patient=e1"


async def test_a_conditional_create_is_retried_with_the_same_condition() -> None:
    created = {
        "resourceType": "Communication",
        "id": "e1-cm1",
        "status": "completed",
        "subject": {"reference": "Patient/e1"},
        "payload": [{"contentString": "Hei"}],
    }
    upstream, seen = scripted(httpx.Response(503), httpx.Response(201, json=created))
    message = await EhrClient(upstream).messages.send(
        "e1",
        subject=None,
        text="Hei",
        thread_id=None,
        sent_by="SELF",
        idempotency="k1",
        now=NOW,
    )
    assert message.id == "e1-cm1"
    assert len(seen) == 2
    conditions = {r.headers["if-none-exist"] for r in seen}
    assert conditions == {f"identifier={IDEMPOTENCY_SYSTEM}|k1"}
    assert seen[0].content == seen[1].content


async def test_calls_are_not_idempotent_unless_said_so() -> None:
    upstream, seen = scripted(httpx.Response(503), httpx.Response(200, json=BUNDLE))
    with pytest.raises(UpstreamUnavailable):
        await upstream.call("GET", "Patient/e1", operation="read")
    assert len(seen) == 1


async def test_retries_stop_after_the_last_attempt() -> None:
    upstream, seen = scripted(httpx.Response(503))
    with pytest.raises(UpstreamUnavailable):
        await upstream.call("GET", "Patient/e1", operation="read", idempotent=True)
    assert len(seen) == 3


async def test_retries_stop_when_the_budget_is_spent() -> None:
    upstream, seen = scripted(httpx.Response(503))
    upstream.budget = RetryBudget(ratio=0)
    with pytest.raises(UpstreamUnavailable):
        await upstream.call("GET", "Patient/e1", operation="read", idempotent=True)
    assert len(seen) == 1


async def test_retry_after_is_waited_for() -> None:
    upstream, seen = scripted(
        httpx.Response(503, headers={"retry-after": "1"}), httpx.Response(200, json=BUNDLE)
    )
    started = time.monotonic()
    await upstream.call("GET", "Patient/e1", operation="read", idempotent=True)
    assert time.monotonic() - started >= 1.0
    assert len(seen) == 2


async def test_a_retry_after_beyond_the_deadline_fails_at_once() -> None:
    upstream, seen = scripted(
        httpx.Response(503, headers={"retry-after": "30"}),
        httpx.Response(200, json=BUNDLE),
        timeout_s=1.0,
    )
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable):
        await upstream.call("GET", "Patient/e1", operation="read", idempotent=True)
    assert time.monotonic() - started < 0.5
    assert len(seen) == 1


async def test_the_deadline_covers_every_attempt_and_pause() -> None:
    async def slow_failure(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.08)
        return httpx.Response(503)

    upstream = Upstream(
        "EHR",
        "http://ehr.test/fhir",
        timeout_s=0.2,
        retry=RetryPolicy(attempts=10, base_delay_s=0.01),
        transport=httpx.MockTransport(slow_failure),
    )
    started = time.monotonic()
    with pytest.raises((UpstreamTimeout, UpstreamUnavailable)):
        await upstream.call("GET", "Patient/e1", operation="read", idempotent=True)
    assert time.monotonic() - started < 0.3


# -- the breaker through Upstream.call ------------------------------------------------------


async def test_an_open_breaker_makes_no_call_and_a_probe_closes_it() -> None:
    clock = FakeClock()
    status = [503]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status[0], json=BUNDLE)

    upstream = Upstream(
        "EHR",
        "http://ehr.test/fhir",
        timeout_s=1.0,
        retry=RetryPolicy(attempts=1),
        breaker=CircuitBreaker("EHR", min_requests=2, cooldown_s=5, clock=clock),
        transport=httpx.MockTransport(handler),
    )
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            await upstream.call("GET", "Patient/e1", operation="read", idempotent=True)
    with pytest.raises(UpstreamCircuitOpen):
        await upstream.call("GET", "Patient/e1", operation="read", idempotent=True)
    assert len(seen) == 2
    clock.now += 5
    status[0] = 200
    assert await upstream.call("GET", "Patient/e1", operation="read") == BUNDLE
    assert state(upstream.breaker) is BreakerState.CLOSED
    assert len(seen) == 3


async def test_timeouts_count_as_failures_and_bad_answers_do_not() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200)

    hung = Upstream(
        "EHR",
        "http://ehr.test/fhir",
        timeout_s=0.02,
        breaker=CircuitBreaker("EHR", min_requests=2),
        transport=httpx.MockTransport(hang),
    )
    for _ in range(2):
        with pytest.raises(UpstreamTimeout):
            await hung.call("GET", "Patient/e1", operation="read", idempotent=True)
    assert state(hung.breaker) is BreakerState.OPEN

    junk, _ = scripted(
        httpx.Response(200, headers={"content-type": "application/json"}, content=b"{not json")
    )
    junk.breaker = CircuitBreaker("EHR", min_requests=2)
    for _ in range(3):
        with pytest.raises(Exception, match="invalid JSON"):
            await junk.call("GET", "Patient/e1", operation="read", idempotent=True)
    assert state(junk.breaker) is BreakerState.CLOSED


# -- concurrency limit ------------------------------------------------------------------------


async def test_a_hung_upstream_holding_every_slot_fails_the_next_call_fast() -> None:
    release, both_holding = asyncio.Event(), asyncio.Event()
    seen: list[str] = []

    async def hang(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if len(seen) == 2:
            both_holding.set()
        await release.wait()
        return httpx.Response(200, json=BUNDLE)

    hung = Upstream(
        "EHR",
        "http://ehr.test/fhir",
        timeout_s=30,
        max_concurrency=2,
        transport=httpx.MockTransport(hang),
    )
    other = Upstream(
        "NATIONAL",
        "http://national.test/api",
        timeout_s=0.2,
        max_concurrency=2,
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"ok": True})),
    )
    holders = [
        asyncio.create_task(hung.call("GET", f"Patient/{n}", operation="read")) for n in range(2)
    ]
    await both_holding.wait()
    hung.timeout_s = 0.2  # the next call's deadline; the two holders keep theirs
    started = time.monotonic()
    with pytest.raises(UpstreamSaturated) as caught:
        await hung.call("GET", "Patient/3", operation="read")
    elapsed = time.monotonic() - started
    assert 0.15 < elapsed < 0.4
    assert isinstance(caught.value, UpstreamTimeout)
    assert len(seen) == 2  # the third call never reached the upstream
    assert state(hung.breaker) is BreakerState.CLOSED  # queueing is not the upstream's fault
    # another upstream has its own slots, and answers at once
    results = await asyncio.gather(
        *(other.call("GET", "persons", operation="persons") for _ in range(4))
    )
    assert results == [{"ok": True}] * 4
    release.set()
    assert await asyncio.gather(*holders) == [BUNDLE, BUNDLE]
    await hung.aclose()
    await other.aclose()


async def test_a_call_beyond_the_slots_and_the_queue_is_refused_at_once() -> None:
    release, holding = asyncio.Event(), asyncio.Event()
    seen: list[str] = []

    async def hang(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        holding.set()
        await release.wait()
        return httpx.Response(200, json=BUNDLE)

    hung = Upstream(
        "MUNICIPAL 5037",
        "http://municipal.test/api",
        timeout_s=30,  # far beyond the test: a refusal must not wait for it
        max_concurrency=1,
        max_queue=1,
        transport=httpx.MockTransport(hang),
    )
    holder = asyncio.create_task(hung.call("GET", "a", operation="read"))
    await holding.wait()
    queued = asyncio.create_task(hung.call("GET", "b", operation="read"))
    for _ in range(100):
        if hung.bulkhead.waiting:
            break
        await asyncio.sleep(0)
    assert hung.bulkhead.waiting == 1
    with pytest.raises(UpstreamSaturated, match="queue full"):
        await asyncio.wait_for(hung.call("GET", "c", operation="read"), timeout=5)
    assert seen == ["/api/a"]
    assert state(hung.breaker) is BreakerState.CLOSED  # refused here: no verdict on it
    release.set()
    assert list(await asyncio.gather(holder, queued)) == [BUNDLE, BUNDLE]
    assert (hung.bulkhead.open, hung.bulkhead.waiting) == (0, 0)
    await hung.aclose()


async def test_the_request_is_told_while_it_waits_on_an_upstream() -> None:
    from sources.waiting import WAITS

    class Told:
        def __init__(self) -> None:
            self.waits = 0
            self.seen: list[int] = []

        def park(self) -> None:
            self.waits += 1

        def unpark(self) -> None:
            self.waits -= 1

    told = Told()

    def answer(request: httpx.Request) -> httpx.Response:
        told.seen.append(told.waits)
        return httpx.Response(503) if len(told.seen) == 1 else httpx.Response(200, json=BUNDLE)

    upstream = Upstream(
        "EHR",
        "http://ehr.test/fhir",
        timeout_s=2,
        retry=RetryPolicy(attempts=2, base_delay_s=0.001),
        budget=RetryBudget(ratio=1.0),
        transport=httpx.MockTransport(answer),
    )
    token = WAITS.set(told)
    try:
        assert await upstream.call("GET", "x", operation="read", idempotent=True) == BUNDLE
    finally:
        WAITS.reset(token)
    assert told.seen == [1, 1]  # waiting through both attempts and the pause between
    assert told.waits == 0
    await upstream.aclose()


async def test_calls_refused_before_going_out_earn_no_retries() -> None:
    release, holding = asyncio.Event(), asyncio.Event()
    seen: list[str] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path.endswith("/held"):
            holding.set()
            await release.wait()
            return httpx.Response(200, json=BUNDLE)
        return httpx.Response(503)

    upstream = Upstream(
        "EHR",
        "http://ehr.test/fhir",
        timeout_s=5,
        max_concurrency=1,
        max_queue=0,
        retry=RetryPolicy(attempts=3, base_delay_s=0.001),
        budget=RetryBudget(ratio=0.2),
        transport=httpx.MockTransport(answer),
    )
    held = asyncio.create_task(upstream.call("GET", "held", operation="read"))
    await holding.wait()
    for _ in range(10):  # refused by the bulkhead: never sent
        with pytest.raises(UpstreamSaturated):
            await upstream.call("GET", "refused", operation="read", idempotent=True)
    release.set()
    await held
    with pytest.raises(UpstreamUnavailable):
        await upstream.call("GET", "failing", operation="read", idempotent=True)
    # two calls went out: 0.2 x 2 earns no retry (ten refused ones would have earned two)
    assert seen == ["/fhir/held", "/fhir/failing"]
    await upstream.aclose()
