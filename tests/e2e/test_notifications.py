"""Upstream change notifications end cached answers at once: a revoked power of attorney
is gone from the next read, in every process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from starlette.types import ASGIApp

from gateway.app import create_app
from gateway.notifications import signature
from gateway.persisted import OPERATIONS_DIR
from mocks.app import MockUpstreams
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import NOON, gateway_settings

SECRET = "a notification secret of at least thirty-two characters"
HOME = (OPERATIONS_DIR / "home.graphql").read_text(encoding="utf-8")
Setup = tuple[MockUpstreams, httpx.AsyncClient, ASGIApp]


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    mocks = MockUpstreams(size=200, today=REFERENCE_DAY, clock=lambda: NOON)
    upstreams = mocks.asgi()  # the gateway's and the test's view of the same EHR
    app = create_app(
        gateway_settings(mocks, notification_secret=SECRET),
        transport=httpx.ASGITransport(app=upstreams),
        clock=lambda: NOON,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw.test"
    ) as client:
        yield mocks, client, upstreams
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


async def test_a_revoked_power_of_attorney_is_gone_at_once_and_its_notification_taken(
    setup: Setup,
) -> None:
    """Registry facts are checked on every request (tests/e2e/test_registry_revalidation.py):
    the revoked power is gone before anyone tells the gateway; the notification is taken."""
    mocks, client, _ = setup
    population = mocks.population
    kari, ola = population.persona("kari"), population.persona("ola")
    before = await represented(mocks, client)
    assert ola.name in before
    power = next(p for p in population.powers_of_attorney if p.holder == kari.nin)
    population.revoke_power(power.id)  # revoked in the national registry
    after = await represented(mocks, client)
    assert set(after) == set(before) - {ola.name}
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
    assert await represented(mocks, client) == after


async def test_a_change_in_the_record_shows_once_notified(setup: Setup) -> None:
    """A clinician's message lands in the EHR: the cached inbox stands until the EHR says
    whose record changed, and ends at once when it does."""
    mocks, client, upstreams = setup
    kari = mocks.population.persona("kari")

    async def messages() -> int:
        token = mocks.issuer.token_for(kari)
        response = await client.post(
            "/graphql",
            json={"query": "{ viewer { person { messages(first: 50) { totalCount } } } }"},
            headers={"authorization": f"Bearer {token}"},
        )
        return int(response.json()["data"]["viewer"]["person"]["messages"]["totalCount"])

    before = await messages()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=upstreams), base_url="http://mocks.test"
    ) as ehr:
        written = await ehr.post(
            "/ehr/fhir/R4/Communication",
            json={
                "resourceType": "Communication",
                "status": "completed",
                "subject": {"reference": f"Patient/{kari.fhir_id}"},
                "payload": [{"contentString": "Svar på blodprøven: alt normalt."}],
            },
            headers={"content-type": "application/fhir+json"},
        )
    assert written.status_code == 201, written.text
    assert await messages() == before  # the cached answer, until told
    document = {"events": [{"source": "ehr", "subjects": [kari.nin]}]}
    assert (await notify(client, document)).status_code == 202
    assert await messages() == before + 1


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
    setup: Setup, document: Any
) -> None:
    _, client, _ = setup
    response = await notify(client, document)
    assert response.status_code == 400
    assert "12345678901" not in response.text


async def test_a_wrong_or_missing_signature_is_refused(
    setup: Setup,
) -> None:
    mocks, client, _ = setup
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
