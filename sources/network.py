"""How an upstream's requests reach the network through aiohttp, without aiohttp's own retry.

aiohttp (3.10 and later) sends an idempotent request (GET, PUT, DELETE, ...) a second time,
silently, when the connection it went out on is reset or closed before an answer: an
upstream that resets connections then sees two requests per attempt, outside the retry
budget that `Upstream.call` keeps (at most `1 + ratio` calls per first attempt). Every
retry the gateway makes is its own, counted and paced; aiohttp's is turned off here.

An upstream's connection pool (`pooled_client`) and its health probe (`answers`) are built
here too, and a request that reaches no answer is translated into the `sources.errors`
family here.
"""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Literal

import httpx

from sources.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable

if TYPE_CHECKING:
    from httpx_aiohttp import AiohttpTransport


def pooled_transport(
    limits: httpx.Limits, network: Literal["aiohttp", "httpx"]
) -> httpx.AsyncBaseTransport:
    """A connection pool within `limits` over `network`: aiohttp's connection handling
    (without its own retry), or httpx's own transport."""
    if network == "aiohttp":
        return aiohttp_transport(limits)
    return httpx.AsyncHTTPTransport(limits=limits, trust_env=False)


def pooled_client(
    base_url: str,
    *,
    timeout_s: float,
    max_connections: int,
    transport: httpx.AsyncBaseTransport | None,
    network: Literal["aiohttp", "httpx"],
) -> tuple[httpx.AsyncClient, httpx.AsyncBaseTransport]:
    """The connection pool of an upstream at `base_url` (JSON accepted, no redirects), and
    the transport it sends through: `transport` when given (tests, embedded mocks),
    otherwise a pool of `max_connections` over `network` (`pooled_transport`)."""
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    if transport is None:
        transport = pooled_transport(limits, network)
    client = httpx.AsyncClient(
        base_url=base_url.rstrip("/") + "/",
        timeout=httpx.Timeout(timeout_s),
        limits=limits,
        transport=transport,
        follow_redirects=False,
        headers={"accept": "application/json, application/fhir+json"},
    )
    return client, transport


async def answers(client: httpx.AsyncClient, path: str, timeout_s: float) -> bool:
    """True when `GET path` is answered within `timeout_s` with anything but a server error."""
    try:
        async with asyncio.timeout(timeout_s):
            response = await client.get(path)
    except (TimeoutError, httpx.HTTPError, OSError):
        return False
    return response.status_code < 500


def unreached(exc: httpx.HTTPError | OSError, source: str, operation: str) -> UpstreamError:
    """The error for a request that got no answer from `source`: a timeout, or the upstream
    unavailable (a refused or reset connection, a failed name lookup, ...)."""
    if isinstance(exc, httpx.TimeoutException):
        cause = exc.__cause__
        if isinstance(cause, OSError) and not isinstance(cause, TimeoutError):
            # httpx-aiohttp reports a refused connection as a connect timeout
            return UpstreamUnavailable(source, operation, type(cause).__name__)
        return UpstreamTimeout(source, operation)
    return UpstreamUnavailable(source, operation, type(exc).__name__)


def aiohttp_transport(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    """An httpx transport over aiohttp's connection handling that never resends a request
    by itself."""
    return _single_shot()(limits=limits, trust_env=False)


@functools.cache
def _single_shot() -> type[AiohttpTransport]:
    # imported on first use: the httpx network needs none of aiohttp
    from aiohttp import ClientSession
    from httpx_aiohttp import AiohttpTransport

    class SingleShotTransport(AiohttpTransport):
        """`AiohttpTransport` whose session sends each request once."""

        def get_client(self) -> ClientSession:
            session = super().get_client()
            # aiohttp offers no public switch; its own test client turns the retry off the
            # same way (aiohttp.test_utils). Were the attribute gone, setting it would warn
            # (and the tests, which turn warnings into errors, would fail).
            session._retry_connection = False
            return session

    return SingleShotTransport
