"""One long-lived HTTP connection pool per upstream, with a total deadline per call."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson

from sources.errors import (
    UpstreamBadResponse,
    UpstreamError,
    UpstreamNotFound,
    UpstreamTimeout,
    UpstreamUnavailable,
)


class Upstream:
    """An upstream's base URL, pool and deadline; every call returns parsed JSON or raises."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        timeout_s: float,
        max_connections: int = 50,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self.client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            transport=transport,
            follow_redirects=False,
            headers={"accept": "application/json, application/fhir+json"},
        )

    async def ping(self, path: str) -> bool:
        """True when the upstream answers `GET path` with anything but a server error."""
        return await _ping(self, path)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        json_body: Any = None,
        form: str | None = None,
        content_type: str = "application/json",
        not_found_ok: bool = False,
    ) -> Any:
        """Send one request and return its decoded JSON body.

        The whole exchange, connect to last byte, must finish within the upstream's
        deadline. Maps every failure onto the `UpstreamError` family.
        """
        content: bytes | None = None
        headers: dict[str, str] | None = None
        if form is not None:
            content = form.encode()
            headers = {"content-type": "application/x-www-form-urlencoded"}
        elif json_body is not None:
            content = orjson.dumps(json_body)
            headers = {"content-type": content_type}
        try:
            async with asyncio.timeout(self.timeout_s):
                response = await self.client.request(
                    method, path.lstrip("/"), content=content, headers=headers
                )
                body = await response.aread()
        except TimeoutError as exc:
            raise UpstreamTimeout(self.name, operation) from exc
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(self.name, operation) from exc
        except (httpx.HTTPError, OSError) as exc:
            raise UpstreamUnavailable(self.name, operation, type(exc).__name__) from exc
        status = response.status_code
        if status == 404 and not not_found_ok:
            raise UpstreamNotFound(self.name, operation)
        if status >= 500 or status == 429:
            raise UpstreamUnavailable(self.name, operation, f"HTTP {status}")
        if status >= 400 and status != 404:
            raise UpstreamBadResponse(self.name, operation, f"HTTP {status}")
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise UpstreamBadResponse(self.name, operation, "invalid JSON") from exc


def status_error(name: str, operation: str, status: int) -> UpstreamError | None:
    """The error for a sub-response status inside a batch, or None when it succeeded."""
    if status < 400:
        return None
    if status == 404:
        return UpstreamNotFound(name, operation)
    if status >= 500 or status == 429:
        return UpstreamUnavailable(name, operation, f"HTTP {status}")
    return UpstreamBadResponse(name, operation, f"HTTP {status}")


async def _ping(upstream: Upstream, path: str) -> bool:
    try:
        async with asyncio.timeout(upstream.timeout_s):
            response = await upstream.client.get(path)
    except (TimeoutError, httpx.HTTPError, OSError):
        return False
    return response.status_code < 500
