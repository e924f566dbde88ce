"""Readiness: the token keys, every upstream, the audit trail (it could take a record
now) and Redis when configured can be reached.

The checks run together, each within its own deadline (the audit trail's:
`HELSEGRAF_AUDIT_TIMEOUT_S`), so a store that hangs makes the answer "not ready", never a
hung probe. `/readyz` needs no token: at most one round of checks runs at a time, and
probes arriving meanwhile share its answer, so a flood of probes takes no more of the
audit store's lock or connections, or of Redis, than one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from gateway.ratelimit import redis_client
from gateway.services import Services
from sources.audit import AuditStore, AuditUnavailable

READY_REDIS_TIMEOUT_S = 1.0  # connect and PING; the client's own timeouts are shorter


class Readiness:
    """The process's readiness checks, one round at a time."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._running: asyncio.Future[dict[str, bool]] | None = None

    async def check(self) -> dict[str, bool]:
        """Each check's outcome, by name: the round running now, or a new one."""
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._round())
        return await asyncio.shield(self._running)

    async def _round(self) -> dict[str, bool]:
        services = self._services
        settings = services.settings
        checks: dict[str, Awaitable[bool]] = {
            "oidc": services.jwks_reachable(),
            "ehr": services.ehr.ping("metadata"),
            "national": services.national.ping(""),
            **{
                f"municipality {code}": upstream.ping("info")
                for code, upstream in services.municipalities.items()
            },
            "audit": _audit_ready(services.audit, settings.audit_timeout_s),
        }
        if settings.redis_url is not None:
            checks["redis"] = _redis_ready(settings.redis_url.get_secret_value())
        return dict(zip(checks, await asyncio.gather(*checks.values()), strict=True))


async def _audit_ready(audit: AuditStore, timeout_s: float) -> bool:
    """True when the audit trail could take a record now (the store keeps its deadline;
    the guard is for a store that would not)."""
    try:
        async with asyncio.timeout(timeout_s + 1):
            await audit.ping()
    except (AuditUnavailable, TimeoutError):
        return False
    return True


async def _redis_ready(url: str) -> bool:
    """True when Redis answers a PING on a connection of its own, within its short
    timeouts (the shared clients fall back to local state while it is down)."""
    from redis.exceptions import RedisError

    client = redis_client(url)
    try:
        async with asyncio.timeout(READY_REDIS_TIMEOUT_S):
            return bool(await client.ping())
    except (RedisError, OSError, TimeoutError):
        return False
    finally:
        await client.aclose()
