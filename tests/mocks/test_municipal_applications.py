"""The municipal applications mock: offerings, seeded applications, POST with validation
(422 naming the field) and the Idempotency-Key header."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mocks.municipal import create_municipal_app
from mocks.population import Population
from mocks.records import RecordStore


@pytest.fixture
async def trondheim(records: RecordStore) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_municipal_app(records, "5001"))
    async with httpx.AsyncClient(transport=transport, base_url="http://m5001.test") as client:
        yield client


def new(population: Population, persona: str = "kari", **fields: Any) -> dict[str, Any]:
    body = {
        "nin": population.persona(persona).nin,
        "service": "safetyAlarm",
        "description": "Har falt hjemme to ganger.",
    }
    return body | fields


async def listed(client: httpx.AsyncClient, nin: str, **fields: Any) -> list[dict[str, Any]]:
    response = await client.post("/applications/_search", json={"nin": nin, **fields})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["applications"]
    return items


async def test_offerings_leave_out_what_the_municipality_no_longer_takes(
    trondheim: httpx.AsyncClient,
) -> None:
    response = await trondheim.post("/offerings/_search", json={})
    types = [o["type"] for o in response.json()["offerings"]]
    assert "homeNursing" in types
    assert "respiteCare" in types
    assert "mealDelivery" not in types


async def test_every_decision_has_the_application_it_decided(
    trondheim: httpx.AsyncClient, population: Population
) -> None:
    kari = population.persona("kari").nin
    decisions = (await trondheim.post("/services/_search", json={"nin": kari})).json()["services"]
    items = await listed(trondheim, kari)
    granted = [a for a in items if a["status"] == "granted"]
    assert {a["decisionId"] for a in granted} == {d["id"] for d in decisions}
    assert [a["submittedAt"] for a in items] == sorted(
        (a["submittedAt"] for a in items), reverse=True
    )
    pending = [a for a in items if a["status"] in ("received", "inReview")]
    assert pending
    assert all(a["expectedDecisionOn"] and not a["decidedOn"] for a in pending)
    assert all(a["unit"] == "Tildelingskontoret i Trondheim kommune" for a in items)
    assert items == await listed(trondheim, kari)  # deterministic
    assert await listed(trondheim, population.persona("emil").nin) == []


async def test_a_posted_application_is_kept_and_listed_first(
    trondheim: httpx.AsyncClient, population: Population
) -> None:
    body = new(population, wishedStart=population.today.isoformat(), contactPhone="+4791234567")
    response = await trondheim.post("/applications", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["status"], created["service"]) == ("received", "safetyAlarm")
    assert created["contactPhone"] == "+4791234567"
    expected = population.today + dt.timedelta(days=28)
    assert created["expectedDecisionOn"] == expected.isoformat()
    items = await listed(trondheim, body["nin"])
    assert items[0] == created
    assert await listed(trondheim, body["nin"], status="received") == [created]


async def test_the_same_idempotency_key_never_creates_a_second(
    trondheim: httpx.AsyncClient, population: Population
) -> None:
    body = new(population)
    headers = {"Idempotency-Key": "mock-key-000001"}
    before = len(await listed(trondheim, body["nin"]))
    first = await trondheim.post("/applications", json=body, headers=headers)
    again = await trondheim.post("/applications", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(await listed(trondheim, body["nin"])) == before + 1
    other = await trondheim.post(
        "/applications", json=new(population, description="Noe annet."), headers=headers
    )
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")
    without = await trondheim.post("/applications", json=body)
    assert without.json()["id"] != first.json()["id"]  # no key: a new application


@pytest.mark.parametrize(
    ("fields", "field", "slug"),
    [
        ({"service": "spaceTravel"}, "service", "invalid-field"),
        ({"service": "mealDelivery"}, "service", "service-not-offered"),
        ({"description": "  "}, "description", "invalid-field"),
        ({"description": "x" * 2001}, "description", "invalid-field"),
        ({"wishedStart": "2020-01-01"}, "wishedStart", "invalid-field"),
        ({"wishedStart": "soon"}, "wishedStart", "invalid-field"),
        ({"contactPhone": "12345"}, "contactPhone", "invalid-field"),
        ({"contactPhone": "+46 91234567"}, "contactPhone", "invalid-field"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field_without_its_value(
    trondheim: httpx.AsyncClient,
    population: Population,
    fields: dict[str, Any],
    field: str,
    slug: str,
) -> None:
    response = await trondheim.post("/applications", json=new(population, **fields))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/" + slug)
    assert problem["detail"].startswith(field + " ")
    for value in fields.values():
        if value.strip():
            assert value not in problem["detail"]


async def test_only_residents_may_apply(
    trondheim: httpx.AsyncClient, population: Population
) -> None:
    response = await trondheim.post("/applications", json=new(population, "ola"))
    assert response.status_code == 404
    unknown = await trondheim.post("/applications", json=new(population) | {"extra": 1})
    assert unknown.status_code == 400


async def test_a_status_filter_must_be_known(
    trondheim: httpx.AsyncClient, population: Population
) -> None:
    kari = population.persona("kari").nin
    response = await trondheim.post("/applications/_search", json={"nin": kari, "status": "x"})
    assert response.status_code == 422
    granted = await listed(trondheim, kari, status="granted")
    assert granted
    assert {a["status"] for a in granted} == {"granted"}


async def test_only_a_young_persons_pending_application_is_kept_from_guardians(
    trondheim: httpx.AsyncClient, population: Population
) -> None:
    ida = await listed(trondheim, population.persona("ida").nin)
    kari = await listed(trondheim, population.persona("kari").nin)
    assert [a["status"] for a in ida if a["keptFromGuardians"]] == ["inReview"]
    assert not any(a["keptFromGuardians"] for a in kari)
