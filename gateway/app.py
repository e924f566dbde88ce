"""The Starlette application factory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.audit import AuditStore, AuditUnavailable
from gateway.download import download
from gateway.endpoint import graphql
from gateway.notifications import notifications
from gateway.ratelimit import redis_client
from gateway.services import Clock, Services, oslo_now
from gateway.settings import Settings

READY_REDIS_TIMEOUT_S = 1.0  # connect and PING; the client's own timeouts are shorter


async def healthz(request: Request) -> JSONResponse:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Readiness: the token keys, every upstream, the audit trail (it could take a record
    now) and Redis when configured can be reached. The checks run together, each within
    its own deadline (the audit trail's: `HELSEGRAF_AUDIT_TIMEOUT_S`), so a store that
    hangs makes the answer "not ready", never a hung probe."""
    services: Services = request.app.state.services
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
    results = dict(zip(checks, await asyncio.gather(*checks.values()), strict=True))
    ready = all(results.values())
    return JSONResponse(
        {
            "status": "ready" if ready else "not ready",
            "checks": {k: "ok" if v else "failing" for k, v in results.items()},
        },
        status_code=200 if ready else 503,
    )


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


def _cors(settings: Settings) -> list[Middleware]:
    """CORS for the configured origins only; none configured, no CORS headers at all.
    Bearer tokens, not cookies, carry identity, so credentials are never allowed."""
    if not settings.cors_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", "accept-language", "x-request-id"],
            expose_headers=["x-request-id", "retry-after"],
            allow_credentials=False,
            max_age=600,
        )
    ]


def create_app(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock = oslo_now,
) -> Starlette:
    """The gateway app for `settings`. `transport` stands in for the network in tests."""
    services = Services.build(settings, transport=transport, clock=clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await services.aclose()

    app = Starlette(
        middleware=_cors(settings),
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/documents/{id}", download, methods=["GET"]),
            Route("/notifications", notifications, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    return app
