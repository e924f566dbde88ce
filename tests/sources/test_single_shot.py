"""Each attempt of an upstream call is one request on the wire, whatever the network stack:
aiohttp's own silent resend of an idempotent request on a reset connection is off, so an
upstream that resets connections sees exactly the attempts the retry budget granted."""

from __future__ import annotations

from typing import Literal

import pytest

from sources.errors import UpstreamUnavailable
from sources.resilience import RetryBudget, RetryPolicy
from sources.upstream import Upstream
from tests.sources.sockets import resetting_listener

Network = Literal["aiohttp", "httpx"]
NETWORKS = pytest.mark.parametrize("network", ["aiohttp", "httpx"])


@NETWORKS
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "POST"])
async def test_one_attempt_is_one_request_on_a_reset_connection(
    network: Network, method: str
) -> None:
    async with resetting_listener() as listener:
        upstream = Upstream(
            "EHR",
            listener.url,
            timeout_s=2.0,
            retry=RetryPolicy(attempts=1),
            network=network,
        )
        try:
            for _ in range(3):
                with pytest.raises(UpstreamUnavailable):
                    await upstream.call(method, "Patient/e1", operation="read", idempotent=True)
        finally:
            await upstream.aclose()
    assert listener.requests == 3


@NETWORKS
async def test_the_retries_on_the_wire_are_the_ones_the_budget_granted(network: Network) -> None:
    async with resetting_listener() as listener:
        upstream = Upstream(
            "EHR",
            listener.url,
            timeout_s=2.0,
            retry=RetryPolicy(attempts=3, base_delay_s=0.001),
            budget=RetryBudget(ratio=0.2),
            network=network,
        )
        try:
            for _ in range(10):
                with pytest.raises(UpstreamUnavailable):
                    await upstream.call("GET", "Patient/e1", operation="read", idempotent=True)
        finally:
            await upstream.aclose()
    assert listener.requests == 10 + 2  # ten first attempts, and one retry per five
