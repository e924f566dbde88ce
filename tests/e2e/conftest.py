"""The real gateway app against the real mock upstreams, all in-process over ASGI."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from mocks.app import MockUpstreams
from mocks.oidc import DEFAULT_AUDIENCE
from mocks.population import OSLO
from tests.conftest import REFERENCE_DAY

MOCK_ORIGIN = "http://mocks.test"
# Every gateway gets its own audit file below one directory removed when the run ends.
_AUDIT_ROOT = tempfile.TemporaryDirectory(prefix="helsegraf-audit-")
NOON = dt.datetime.combine(REFERENCE_DAY, dt.time(12, 0), tzinfo=OSLO)


@dataclass
class Harness:
    """A running gateway, its mocks, and helpers to query as a persona."""

    mocks: MockUpstreams
    client: httpx.AsyncClient
    app_services: Services

    def token(self, persona: str, **overrides: Any) -> str:
        return self.mocks.issuer.token_for(
            self.mocks.population.persona(persona), overrides=overrides
        )

    async def query(
        self,
        persona: str | None,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        **claims: Any,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if persona is not None:
            sent["authorization"] = f"Bearer {self.token(persona, **claims)}"
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return await self.client.post("/graphql", json=body, headers=sent)


def gateway_settings(mocks: MockUpstreams, **overrides: Any) -> Settings:
    """Settings for the gateway against `mocks`; fresh SQLite audit and user-data files per
    call. Every destination and the token audience are named explicitly, as production
    requires (`env="production"` with an `id_secret` needs nothing more)."""
    directory = Path(tempfile.mkdtemp(dir=_AUDIT_ROOT.name))
    values = mocks.settings_env(MOCK_ORIGIN) | {
        "env": "test",
        "oidc_audience": DEFAULT_AUDIENCE,
        "audit_path": str(directory / "audit.sqlite3"),
        "userdata_path": str(directory / "userdata.sqlite3"),
    }
    return Settings.model_validate(values | overrides)


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    """A fresh gateway and fresh mocks per test (counters and faults start clean)."""
    mocks = MockUpstreams(size=200, today=REFERENCE_DAY, clock=lambda: NOON)
    transport = httpx.ASGITransport(app=mocks.asgi())
    app = create_app(gateway_settings(mocks), transport=transport, clock=lambda: NOON)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        yield Harness(mocks, client, app.state.services)
        await app.state.services.aclose()
