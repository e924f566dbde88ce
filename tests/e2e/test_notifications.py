"""Upstream change notifications end cached answers at once: a revoked power of attorney
is gone from the next read, in every process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from gateway.app import create_app
from gateway.notifications import signature
from gateway.persisted import OPERATIONS_DIR
from mocks.app import MockUpstreams
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import NOON, gateway_settings

SECRET = "a notification secret of at least thirty-two characters"
HOME = (OPERATIONS_DIR / "home.graphql").read_text(encoding="utf-8")


@pytest.fixture
async def setup() -> AsyncIterator[tuple[MockUpstreams, httpx.AsyncClient]]:
    mocks = MockUpstreams(size=200, today=REFERENCE_DAY, clock=lambda: NOON)
    app = create_app(
        gateway_settings(mocks, notification_secret=SECRET),
        transport=httpx.ASGITransport(app=mocks.asgi()),
        clock=lambda: NOON,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw.test"
    ) as client:
        yield mocks, client
    await app.state.services.aclose()


async def represented(mocks: MockUpstreams, client: httpx.AsyncClient) -> list[str]:
    token = mocks.issuer.token_for(mocks.population.persona("kari"))
    response = await client.post(
        "/graphql", json={"query": HOME}, headers={"authorization": f"Bearer {token}"}
    )
    return sorted(r["person"]["name"] for r in response.json()["data"]["viewer"]["representations"])


async def notify(client: httpx.AsyncClient, document: Any, secret: str = SECRET) -> httpx.Response:
    body = orjson.dumps(document)
    return await client.post(
        "/notifications",
        content=body,
        headers={
            "content-type": "application/json",
            "x-helsegraf-signature": signature(secret.encode(), body),
        },
    )


async def test_a_revoked_power_of_attorney_is_gone_after_the_notification(
    setup: tuple[MockUpstreams, httpx.AsyncClient],
) -> None:
    mocks, client = setup
    population = mocks.population
    kari, ola = population.persona("kari"), population.persona("ola")
    before = await represented(mocks, client)
    assert ola.name in before
    power = next(p for p in population.powers_of_attorney if p.holder == kari.nin)
    population.powers_of_attorney.remove(power)  # revoked in the national registry
    assert await represented(mocks, client) == before  # the cached answer, until told
    response = await notify(
        client,
        {
            "events": [
                {"source": "national", "kind": "power-of-attorney", "subjects": [ola.nin, kari.nin]}
            ]
        },
    )
    assert response.status_code == 202
    assert response.json() == {"invalidated": 2}
    after = await represented(mocks, client)
    assert ola.name not in after
    assert set(after) == set(before) - {ola.name}


@pytest.mark.parametrize(
    "document",
    [
        pytest.param({}, id="no-events"),
        pytest.param({"events": []}, id="empty"),
        pytest.param({"events": [{"source": "elsewhere", "subjects": []}]}, id="unknown-source"),
        pytest.param({"events": [{"source": "ehr", "subjects": ["12345678901"]}]}, id="bad-id"),
        pytest.param({"events": [{"source": "ehr", "subjects": "x"}]}, id="not-a-list"),
        pytest.param([1, 2], id="not-an-object"),
    ],
)
async def test_a_malformed_notification_is_a_400_that_echoes_nothing(
    setup: tuple[MockUpstreams, httpx.AsyncClient], document: Any
) -> None:
    _, client = setup
    response = await notify(client, document)
    assert response.status_code == 400
    assert "12345678901" not in response.text


async def test_a_wrong_or_missing_signature_is_refused(
    setup: tuple[MockUpstreams, httpx.AsyncClient],
) -> None:
    mocks, client = setup
    document = {"events": [{"source": "ehr", "subjects": [mocks.population.persona("kari").nin]}]}
    wrong = await notify(client, document, secret=SECRET + "x")
    missing = await client.post("/notifications", content=orjson.dumps(document))
    assert wrong.status_code == missing.status_code == 401
    assert mocks.population.persona("kari").nin not in wrong.text


async def test_without_a_secret_there_is_no_such_route() -> None:
    mocks = MockUpstreams(size=200, today=REFERENCE_DAY, clock=lambda: NOON)
    app = create_app(
        gateway_settings(mocks),
        transport=httpx.ASGITransport(app=mocks.asgi()),
        clock=lambda: NOON,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw.test"
    ) as client:
        response = await client.post("/notifications", content=b"{}")
    await app.state.services.aclose()
    assert response.status_code == 404
