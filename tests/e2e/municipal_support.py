"""Helpers for the municipal-services end-to-end tests: gateways with chosen municipalities,
replicas sharing one set of mocks, and the screen's persisted operations."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from gateway.app import create_app
from gateway.persisted import OPERATIONS_DIR
from mocks.app import MockUpstreams
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import MOCK_ORIGIN, NOON, Harness, gateway_settings

PARTNER = {"act": {"client_id": "partner-portal-x"}}
SCREEN = (OPERATIONS_DIR / "municipal_services.graphql").read_text(encoding="utf-8")
APPLY = (OPERATIONS_DIR / "apply_for_municipal_service.graphql").read_text(encoding="utf-8")


async def person_id(harness: Harness, persona: str) -> str:
    return harness.app_services.ids.person_id(harness.mocks.population.persona(persona).nin)


async def read_operation(
    harness: Harness, person: str, claims: dict[str, Any], viewer: str = "kari"
) -> dict[str, Any]:
    body: dict[str, Any] = (await harness.query(viewer, SCREEN, {"id": person}, **claims)).json()
    return body


async def apply(
    harness: Harness,
    viewer: str,
    headers: dict[str, str] | None = None,
    claims: dict[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """The applyForMunicipalService payload (asserting no GraphQL error)."""
    response = await harness.query(
        viewer, APPLY, {"input": fields}, headers=headers, **(claims or {})
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    payload: dict[str, Any] = body["data"]["applyForMunicipalService"]
    return payload


@contextlib.asynccontextmanager
async def gateways(count: int = 1, **overrides: Any) -> AsyncIterator[list[Harness]]:
    """`count` gateway replicas (own idempotency memory each) over ONE set of mocks."""
    mocks = MockUpstreams(size=200, today=REFERENCE_DAY, clock=lambda: NOON)
    upstreams = mocks.asgi()  # one instance: what one replica writes, the others read
    out: list[Harness] = []
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(count):
            transport = httpx.ASGITransport(app=upstreams)
            app = create_app(
                gateway_settings(mocks, **overrides), transport=transport, clock=lambda: NOON
            )
            client = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
                )
            )
            stack.push_async_callback(app.state.services.aclose)
            out.append(Harness(mocks, client, app.state.services))
        yield out


@contextlib.asynccontextmanager
async def gateway_without(code: str) -> AsyncIterator[Harness]:
    """A gateway configured with every mock municipality but `code`."""
    mocks = MockUpstreams(size=200, today=REFERENCE_DAY)
    configured = mocks.settings_env(MOCK_ORIGIN)["municipalities"]
    configured.pop(code)
    async with gateways(1, municipalities=configured) as (harness,):
        yield harness
