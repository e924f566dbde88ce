"""The municipal messaging API: listing with paging, sending once per key, marking read,
and its errors (unknown resident, unknown message or thread, shared-EHR municipality)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mocks.municipal import create_municipal_app
from mocks.population import Population
from mocks.records import RecordStore
from mocks.registry import MUNICIPALITY_BY_CODE


@pytest.fixture
async def levanger(records: RecordStore) -> AsyncIterator[httpx.AsyncClient]:
    """A fresh Levanger API per test (sent messages live in the app's memory)."""
    transport = httpx.ASGITransport(app=create_municipal_app(records, "5037"))
    async with httpx.AsyncClient(transport=transport, base_url="http://m5037.test") as client:
        yield client


async def _all(client: httpx.AsyncClient, nin: str, **extra: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    body: dict[str, Any] = {"nin": nin, "pageSize": 1, **extra}
    while True:
        response = await client.post("/messages/_search", json=body)
        assert response.status_code == 200, response.text
        page = response.json()
        found.extend(page["messages"])
        if not page["nextPageToken"]:
            return found
        body = {**body, "pageToken": page["nextPageToken"]}


def _send(nin: str, key: str, **extra: Any) -> dict[str, Any]:
    return {
        "nin": nin,
        "text": "Hei",
        "subject": "Spørsmål",
        "sentBy": "SELF",
        "idempotencyKey": key,
        **extra,
    }


async def test_lists_the_residents_municipal_messages_newest_first_in_pages(
    levanger: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    ola = population.persona("ola")
    found = await _all(levanger, ola.nin)
    expected = [m for m in records.record(ola.nin).messages if m.system == "municipal"]
    assert sorted(m["id"] for m in found) == sorted(m.id for m in expected)
    sent = [m["sentAt"] for m in found]
    assert sent == sorted(sent, reverse=True)
    assert ola.nin not in str(found)
    unread = await _all(levanger, ola.nin, unreadOnly=True)
    assert all(not m["read"] and not m["fromResident"] for m in unread)


async def test_a_send_is_stored_once_per_key_and_a_reused_key_is_a_409(
    levanger: httpx.AsyncClient, population: Population
) -> None:
    ola = population.persona("ola").nin
    first = await levanger.post("/messages", json=_send(ola, "key-00001"))
    again = await levanger.post("/messages", json=_send(ola, "key-00001"))
    other = await levanger.post("/messages", json=_send(ola, "key-00001", text="Annet"))
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert again.json() == first.json()
    assert other.json()["type"].endswith("idempotency-key-reused")
    ids = [m["id"] for m in await _all(levanger, ola)]
    assert ids.count(first.json()["message"]["id"]) == 1
    reply = await levanger.post(
        "/messages",
        json=_send(ola, "key-00002", threadId=first.json()["message"]["threadId"], subject=None),
    )
    assert reply.status_code == 201
    assert reply.json()["message"]["subject"] == "Spørsmål"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"text": " "}, "text"),
        ({"subject": None}, "subject"),
        ({"sentBy": "NURSE"}, "sentBy"),
        ({"idempotencyKey": "short"}, "idempotencyKey"),
        ({"threadId": "no/such"}, "threadId"),
    ],
)
async def test_invalid_sends_are_400s_naming_the_field(
    levanger: httpx.AsyncClient, population: Population, change: dict[str, Any], field: str
) -> None:
    ola = population.persona("ola").nin
    response = await levanger.post("/messages", json=_send(ola, "key-00009", **change))
    assert response.status_code == 400
    assert field in response.json()["detail"]
    assert ola not in response.text


async def test_marking_read_only_for_messages_to_the_resident(
    levanger: httpx.AsyncClient, population: Population
) -> None:
    ola = population.persona("ola").nin
    found = await _all(levanger, ola)
    to_ola = next(m for m in found if not m["fromResident"])
    from_ola = next((m for m in found if m["fromResident"]), None)
    done = await levanger.post(f"/messages/{to_ola['id']}/read", json={"nin": ola})
    assert done.status_code == 200
    assert done.json()["message"]["read"] is True
    assert next(m for m in await _all(levanger, ola) if m["id"] == to_ola["id"])["read"] is True
    if from_ola is not None:
        refused = await levanger.post(f"/messages/{from_ola['id']}/read", json={"nin": ola})
        assert refused.status_code == 409
    missing = await levanger.post("/messages/ms-none/read", json={"nin": ola})
    assert missing.status_code == 404
    thread = await levanger.post("/messages", json=_send(ola, "key-00003", threadId="mt-none"))
    assert thread.status_code == 404


async def test_strangers_and_shared_ehr_municipalities(
    levanger: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    kari = population.persona("kari").nin  # lives in Trondheim
    response = await levanger.post("/messages/_search", json={"nin": kari})
    assert response.status_code == 404
    assert kari not in response.text
    shared = next((c for c, m in MUNICIPALITY_BY_CODE.items() if m.on_shared_ehr), None)
    if shared is None:
        pytest.skip("no mock municipality is on the shared EHR")
    transport = httpx.ASGITransport(app=create_municipal_app(records, shared))
    async with httpx.AsyncClient(transport=transport, base_url="http://shared.test") as client:
        refused = await client.post("/messages/_search", json={"nin": kari})
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("messages-on-shared-ehr")
