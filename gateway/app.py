"""The Starlette application factory."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.download import download
from gateway.endpoint import graphql
from gateway.notifications import notifications
from gateway.readiness import Readiness
from gateway.services import Services, oslo_now
from gateway.settings import Settings
from gateway.wiring import Clock


async def healthz(request: Request) -> JSONResponse:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Readiness (`gateway/readiness.py`): 200 when every check passes, else 503 naming
    the failing ones."""
    results = await request.app.state.readiness.check()
    ready = all(results.values())
    return JSONResponse(
        {
            "status": "ready" if ready else "not ready",
            "checks": {k: "ok" if v else "failing" for k, v in results.items()},
        },
        status_code=200 if ready else 503,
    )


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
    app.state.readiness = Readiness(services)
    return app
