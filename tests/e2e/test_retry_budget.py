"""Retries within their budget, end to end over real sockets: while the EHR resets
connections, a quiet gateway (one request at a time) makes at most 1.2 upstream calls per
first attempt, counted by the upstream itself.

The gateway reaches its upstreams through its real network stack (httpx over aiohttp), so
any request the stack resends by itself is counted too; `sources/network.py` turns
aiohttp's own resend off.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from mocks.app import MockUpstreams
from sources.resilience import RetryBudget
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import NOON, Harness, gateway_settings
from tests.e2e.test_home import HOME
from tests.sources.sockets import resetting_listener, served

REQUESTS = 30


class CountingBudget(RetryBudget):
    """The gateway's retry budget, counting every first attempt and every retry granted."""

    def __init__(self, ratio: float) -> None:
        super().__init__(ratio=ratio)
        self.first_attempts = 0
        self.retries = 0

    def record_call(self) -> None:
        self.first_attempts += 1
        super().record_call()

    def try_retry(self) -> bool:
        granted = super().try_retry()
        self.retries += granted
        return granted


@asynccontextmanager
async def socket_gateway(reset: str) -> AsyncIterator[tuple[Harness, Callable[[], int]]]:
    """A gateway reaching mocks served on loopback, whose EHR resets every connection:
    `mock`, the mock's own `reset` fault (uvicorn turns it into a 500: ASGI cannot drop a
    connection), or `tcp`, a listener that resets the TCP connection itself. Yields the
    harness and the count of EHR requests the upstream received."""
    mocks = MockUpstreams(size=50, today=REFERENCE_DAY, clock=lambda: NOON)
    async with AsyncExitStack() as stack:
        origin = await stack.enter_async_context(served(mocks.asgi()))
        values = mocks.settings_env(origin)
        # the breaker never opens here: every call counted as a first attempt goes out
        ehr: dict[str, Any] = {**values["ehr"], "breaker_min_requests": 100_000}
        if reset == "tcp":
            listener = await stack.enter_async_context(resetting_listener())
            ehr["url"] = f"{listener.url}/ehr/fhir/R4"
            received = lambda: listener.requests  # noqa: E731
        else:
            mocks.ehr.faults.reset = True
            received = lambda: mocks.ehr.total  # noqa: E731
        settings = gateway_settings(mocks, **(values | {"ehr": ehr}))
        assert settings.upstream_network == "aiohttp"
        app = create_app(settings, clock=lambda: NOON)  # no transport: the real network
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test")
        )
        stack.push_async_callback(app.state.services.aclose)
        yield Harness(mocks, client, app.state.services), received


@pytest.mark.parametrize("reset", ["mock", "tcp"])
async def test_a_resetting_upstream_sees_at_most_1_2_calls_per_first_attempt(reset: str) -> None:
    async with socket_gateway(reset) as (harness, received):
        ratio = harness.app_services.settings.ehr.retry_budget_ratio  # type: ignore[union-attr]
        assert ratio == 0.2
        budget = harness.app_services.ehr.budget = CountingBudget(ratio)
        for _ in range(REQUESTS):  # one at a time: low traffic
            response = await harness.query("kari", HOME)
            assert response.status_code == 200
            body = response.json()
            assert body["data"]["viewer"]["person"]["name"] == "Kari Nordmann"
            assert {e["extensions"]["source"] for e in body["errors"]} == {"EHR"}
        assert budget.first_attempts >= REQUESTS
        assert received() == budget.first_attempts + budget.retries
        assert received() <= 1.2 * budget.first_attempts
