"""How an upstream's requests reach the network through aiohttp, without aiohttp's own retry.

aiohttp (3.10 and later) sends an idempotent request (GET, PUT, DELETE, ...) a second time,
silently, when the connection it went out on is reset or closed before an answer: an
upstream that resets connections then sees two requests per attempt, outside the retry
budget that `Upstream.call` keeps (at most `1 + ratio` calls per first attempt). Every
retry the gateway makes is its own, counted and paced; aiohttp's is turned off here.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from httpx_aiohttp import AiohttpTransport


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
