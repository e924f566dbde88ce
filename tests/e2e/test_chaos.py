"""Chaos: faults injected into the EHR mock cost the EHR's fields and nothing else.

Each test runs the real gateway against the real mocks, with one fault in the EHR, and
checks that the home screen still shows what the national and municipal sources gave,
that the errors name the EHR with a stable code, and how many calls the EHR saw.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from mocks.app import MockUpstreams
from sources.resilience import RetryBudget
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import MOCK_ORIGIN, NOON, Harness, gateway_settings
from tests.e2e.test_home import HOME

EHR_URL = f"{MOCK_ORIGIN}/ehr/fhir/R4"


@asynccontextmanager
async def gateway(cache: bool = True, **ehr: Any) -> AsyncIterator[Harness]:
    """A gateway whose EHR upstream has these settings (`timeout_s`, `breaker_*`, ...)."""
    mocks = MockUpstreams(size=50, today=REFERENCE_DAY, clock=lambda: NOON)
    settings = gateway_settings(mocks, ehr={"url": EHR_URL, **ehr}, cache=cache)
    app = create_app(settings, transport=httpx.ASGITransport(app=mocks.asgi()), clock=lambda: NOON)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        try:
            yield Harness(mocks, client, app.state.services)
        finally:
            await app.state.services.aclose()


def ample_retries(harness: Harness) -> None:
    """Give the EHR a retry budget that never binds, for the tests about how a retry is
    made (`test_retry_budget.py` is about how many are allowed)."""
    harness.app_services.ehr.budget = RetryBudget(ratio=10)


async def home(harness: Harness) -> dict[str, Any]:
    harness.mocks.reset_counters()
    response = await harness.query("kari", HOME)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def assert_whole(body: dict[str, Any]) -> None:
    assert "errors" not in body, body["errors"]
    person = body["data"]["viewer"]["person"]
    assert person["labResults"]
    assert person["unreadMessageCount"] is not None


def ehr_codes(body: dict[str, Any]) -> set[str]:
    """The codes of the errors, after checking that the EHR's fields alone were lost."""
    person = body["data"]["viewer"]["person"]
    assert person["name"] == "Kari Nordmann"  # national
    assert person["vaccinations"]  # national and municipal
    assert person["appointments"] is None  # Trondheim is on the shared EHR: all are there
    assert {s["kind"] for m in person["medications"] for s in m["sources"]} == {"NATIONAL"}
    assert person["labResults"] is None
    assert person["unreadMessageCount"] is None
    errors = body["errors"]
    assert {e["extensions"]["source"] for e in errors} == {"EHR"}
    for error in errors:
        assert "mocks.test" not in error["message"]
    return {e["extensions"]["code"] for e in errors}


async def test_added_latency_within_the_deadline_costs_nothing(harness: Harness) -> None:
    harness.mocks.ehr.faults.latency_ms = 300
    harness.mocks.ehr.faults.jitter_ms = 200
    assert_whole(await home(harness))
    assert harness.mocks.counts()["EHR"] == 2  # no retries were needed


async def test_a_connection_reset_costs_only_the_ehr_fields(harness: Harness) -> None:
    ample_retries(harness)
    harness.mocks.ehr.faults.reset = True
    assert ehr_codes(await home(harness)) == {"UPSTREAM_UNAVAILABLE"}
    assert harness.mocks.counts()["EHR"] == 3  # the patient look-up, tried three times


async def test_a_503_with_retry_after_is_retried_after_the_wait(harness: Harness) -> None:
    ample_retries(harness)
    harness.mocks.ehr.faults.fail_first = 1
    harness.mocks.ehr.faults.retry_after = 1
    started = time.monotonic()
    body = await home(harness)
    assert time.monotonic() - started >= 1.0  # Retry-After: 1 was honoured
    assert_whole(body)
    assert harness.mocks.counts()["EHR"] == 3  # look-up, its retry, the batch


async def test_a_retry_after_past_the_deadline_is_not_waited_for(harness: Harness) -> None:
    harness.mocks.ehr.faults.error_rate = 1.0
    harness.mocks.ehr.faults.retry_after = 30
    started = time.monotonic()
    assert ehr_codes(await home(harness)) == {"UPSTREAM_UNAVAILABLE"}
    assert time.monotonic() - started < 1.0
    assert harness.mocks.counts()["EHR"] == 1


async def test_a_503_without_retry_after_is_retried_with_backoff(harness: Harness) -> None:
    ample_retries(harness)
    harness.mocks.ehr.faults.fail_first = 2
    assert_whole(await home(harness))
    assert harness.mocks.counts()["EHR"] == 4


async def test_a_persistent_503_costs_only_the_ehr_fields(harness: Harness) -> None:
    ample_retries(harness)
    harness.mocks.ehr.faults.error_rate = 1.0
    assert ehr_codes(await home(harness)) == {"UPSTREAM_UNAVAILABLE"}
    assert harness.mocks.counts()["EHR"] == 3


@pytest.mark.parametrize("fault", ["malformed", "truncated"])
async def test_broken_json_costs_only_the_ehr_fields_and_is_not_retried(
    harness: Harness, fault: str
) -> None:
    setattr(harness.mocks.ehr.faults, fault, True)
    ehr_codes(await home(harness))
    assert harness.mocks.counts()["EHR"] == 1


async def test_a_slow_drip_is_cut_off_by_the_total_deadline() -> None:
    # Every chunk comes well within an idle timeout; only the total deadline notices.
    async with gateway(timeout_s=0.5) as harness:
        harness.mocks.ehr.faults.slow_drip_ms = 50
        harness.mocks.ehr.faults.drip_chunk_bytes = 16
        started = time.monotonic()
        body = await home(harness)
        assert time.monotonic() - started < 1.5
        assert ehr_codes(body) == {"UPSTREAM_TIMEOUT"}
        assert harness.mocks.counts()["EHR"] == 1  # a timeout leaves no time to retry


async def test_an_oversized_body_costs_only_the_ehr_fields() -> None:
    async with gateway(max_response_bytes=64 * 1024) as harness:
        harness.mocks.ehr.faults.oversized_bytes = 1024 * 1024
        ehr_codes(await home(harness))
        assert harness.mocks.counts()["EHR"] == 1


async def test_a_redirect_to_another_host_is_not_followed(harness: Harness) -> None:
    harness.mocks.ehr.faults.redirect_to = "http://elsewhere.test"
    ehr_codes(await home(harness))
    assert harness.mocks.counts()["EHR"] == 1


async def test_the_breaker_opens_fails_fast_and_closes_after_the_cool_down() -> None:
    # caching off: the national upstream is asked on every request, not the cache
    # a cool-down long enough that a busy machine does not reach it mid-check
    breaker = {"retries": 0, "breaker_min_requests": 3, "breaker_cooldown_s": 2.0}
    async with gateway(cache=False, **breaker) as harness:
        faults = harness.mocks.ehr.faults
        faults.error_rate = 1.0
        for _ in range(3):
            assert ehr_codes(await home(harness)) == {"UPSTREAM_UNAVAILABLE"}
        # open: the EHR is not called at all, and the rest of the screen still loads
        faults.latency_ms = 1_500  # were it called, each answer would wait for it
        for _ in range(3):
            started = time.monotonic()
            ehr_codes(await home(harness))
            assert harness.mocks.counts()["EHR"] == 0
            assert harness.mocks.counts()["NATIONAL"] >= 1
            assert time.monotonic() - started < 1.0
        faults.error_rate = 0.0
        faults.latency_ms = 0
        await asyncio.sleep(2.05)
        # half-open: the first call is the probe; its success closes the breaker
        assert_whole(await home(harness))
        assert harness.mocks.counts()["EHR"] == 2
        assert_whole(await home(harness))


async def test_a_failed_probe_opens_the_breaker_again() -> None:
    async with gateway(retries=0, breaker_min_requests=2, breaker_cooldown_s=0.2) as harness:
        harness.mocks.ehr.faults.reset = True
        for _ in range(2):
            ehr_codes(await home(harness))
        await asyncio.sleep(0.25)
        ehr_codes(await home(harness))
        assert harness.mocks.counts()["EHR"] == 1  # the probe, which failed
        ehr_codes(await home(harness))
        assert harness.mocks.counts()["EHR"] == 0  # open again


@pytest.mark.parametrize(
    ("fault", "value", "code"),
    [
        pytest.param("malformed", True, "UPSTREAM_BAD_RESPONSE"),
        pytest.param("truncated", True, "UPSTREAM_BAD_RESPONSE"),
        pytest.param(
            "oversized_bytes",
            32 * 1024 * 1024,
            "UPSTREAM_BAD_RESPONSE",
        ),
        pytest.param(
            "redirect_to",
            "http://elsewhere.test",
            "UPSTREAM_BAD_RESPONSE",
        ),
    ],
)
async def test_each_fault_is_reported_with_its_stable_code(
    harness: Harness, fault: str, value: Any, code: str
) -> None:
    setattr(harness.mocks.ehr.faults, fault, value)
    assert ehr_codes(await home(harness)) == {code}
