"""The municipal home-care visits mock: who gets visits, the window, statuses, filters."""

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


async def visits(client: httpx.AsyncClient, nin: str, **fields: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    body: dict[str, Any] = {"nin": nin, **fields}
    while True:
        response = await client.post("/home-care/visits/_search", json=body)
        assert response.status_code == 200, response.text
        out.extend(response.json()["visits"])
        token = response.json()["nextPageToken"]
        if not token:
            return out
        body = {**body, "pageToken": token}


async def test_a_granted_home_nursing_decision_brings_daily_visits(
    trondheim: httpx.AsyncClient, population: Population
) -> None:
    kari = population.persona("kari")
    decisions = (await trondheim.post("/services/_search", json={"nin": kari.nin})).json()
    assert [(d["type"], d["status"]) for d in decisions["services"]] == [("homeNursing", "granted")]
    found = await visits(trondheim, kari.nin)
    assert len(found) == 43  # three weeks back, today, three weeks ahead
    today = population.today.isoformat()
    for visit in found:
        assert visit["service"] == "homeNursing"
        assert visit["tasks"]
        assert visit["team"] == "Hjemmetjenesten i Trondheim"
        day = visit["start"][:10]
        if visit["status"] != "cancelled":
            assert visit["status"] == ("done" if day < today else "planned")
    assert kari.address.street not in str(found)
    assert found == await visits(trondheim, kari.nin)  # deterministic


async def test_no_decision_no_visits(trondheim: httpx.AsyncClient, population: Population) -> None:
    assert await visits(trondheim, population.persona("emil").nin) == []


async def test_from_and_to_bound_the_days(
    trondheim: httpx.AsyncClient, population: Population
) -> None:
    kari = population.persona("kari").nin
    start = population.today
    end = start + dt.timedelta(days=2)
    found = await visits(trondheim, kari, **{"from": start.isoformat(), "to": end.isoformat()})
    assert [v["start"][:10] for v in found] == [
        (start + dt.timedelta(days=n)).isoformat() for n in range(3)
    ]
    backwards = await trondheim.post(
        "/home-care/visits/_search",
        json={"nin": kari, "from": end.isoformat(), "to": start.isoformat()},
    )
    assert backwards.status_code == 400
