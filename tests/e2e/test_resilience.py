"""A failing or slow upstream costs only its own fields."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.app import create_app
from tests.e2e.conftest import NOON, Harness, gateway_settings
from tests.e2e.test_home import HOME


def _errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body.get("errors", []))


async def test_ehr_down_keeps_national_and_municipal_data(harness: Harness) -> None:
    harness.mocks.ehr.faults.error_rate = 1.0
    response = await harness.query("kari", HOME)
    assert response.status_code == 200
    body = response.json()
    person = body["data"]["viewer"]["person"]
    assert person["name"] == "Kari Nordmann"
    assert person["unreadMessageCount"] is None
    assert person["labResults"] is None
    # merged lists keep what the other sources gave (Trondheim's appointments are all in the
    # shared EHR, so kari has none left: see test_appointment_routing for an API municipality)
    assert person["appointments"] is None
    assert {s["kind"] for m in person["medications"] for s in m["sources"]} == {"NATIONAL"}
    assert person["vaccinations"]
    errors = _errors(body)
    assert errors
    assert {e["extensions"]["source"] for e in errors} == {"EHR"}
    assert {e["extensions"]["code"] for e in errors} == {"UPSTREAM_UNAVAILABLE"}
    paths = {tuple(e["path"]) for e in errors}
    assert ("viewer", "person", "labResults") in paths
    assert ("viewer", "person", "appointments") in paths
    for error in errors:
        assert "mocks.test" not in error["message"]


async def test_national_down_keeps_ehr_data(harness: Harness) -> None:
    harness.mocks.national.faults.error_rate = 1.0
    body = (await harness.query("kari", HOME)).json()
    person = body["data"]["viewer"]["person"]
    assert person["name"] is None
    assert person["labResults"]
    assert person["unreadMessageCount"] is not None
    assert {s["kind"] for m in person["medications"] for s in m["sources"]} == {"EHR"}
    assert person["vaccinations"] is None  # both of its sources need the registry
    assert {e["extensions"]["source"] for e in _errors(body)} == {"NATIONAL"}


async def test_municipality_down_costs_only_municipal_entries(harness: Harness) -> None:
    harness.mocks.municipal["5001"].faults.error_rate = 1.0
    body = (await harness.query("kari", HOME)).json()
    person = body["data"]["viewer"]["person"]
    assert {e["node"]["source"]["kind"] for e in person["appointments"]["edges"]} == {"EHR"}
    assert {e["extensions"]["source"] for e in _errors(body)} == {"MUNICIPAL 5001"}


async def test_slow_upstream_times_out_within_its_own_deadline() -> None:
    from mocks.app import MockUpstreams
    from tests.conftest import REFERENCE_DAY

    mocks = MockUpstreams(size=50, today=REFERENCE_DAY, clock=lambda: NOON)
    mocks.ehr.faults.latency_ms = 2_000
    settings = gateway_settings(
        mocks, ehr={"url": "http://mocks.test/ehr/fhir/R4", "timeout_s": 0.2}
    )
    app = create_app(settings, transport=httpx.ASGITransport(app=mocks.asgi()), clock=lambda: NOON)
    token = mocks.issuer.token_for(mocks.population.persona("kari"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        response = await client.post(
            "/graphql", json={"query": HOME}, headers={"authorization": f"Bearer {token}"}
        )
    await app.state.services.aclose()
    body = response.json()
    assert body["data"]["viewer"]["person"]["name"] == "Kari Nordmann"
    assert body["data"]["viewer"]["person"]["labResults"] is None
    codes = {(e["extensions"]["source"], e["extensions"]["code"]) for e in body["errors"]}
    assert codes == {("EHR", "UPSTREAM_TIMEOUT")}


@pytest.mark.parametrize("fault", ["malformed", "reset"])
async def test_broken_upstream_answers_are_contained(harness: Harness, fault: str) -> None:
    setattr(harness.mocks.ehr.faults, fault, True)
    body = (await harness.query("kari", HOME)).json()
    assert body["data"]["viewer"]["person"]["name"] == "Kari Nordmann"
    assert {e["extensions"]["source"] for e in _errors(body)} == {"EHR"}
