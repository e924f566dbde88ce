"""The generic write rules: conditional create, versioned update, and their errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mocks.fhir import create_fhir_app
from mocks.population import Population
from mocks.records import RecordStore
from tests.mocks.fhir.fhirtest import BASE, FHIR_JSON, fetch, matches, validate
from tests.mocks.fhir.test_create import PATIENT_READ, message

KEY_SYSTEM = "https://fhir.helsegraf.dev/NamingSystem/idempotency-key"
WRITE = {"content-type": FHIR_JSON}


@pytest.fixture
async def writer(records: RecordStore) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh server, so what one test writes no other test sees."""
    transport = httpx.ASGITransport(app=create_fhir_app(records))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http


def keyed(patient_id: str, key: str) -> dict[str, Any]:
    return message(patient_id, identifier=[{"system": KEY_SYSTEM, "value": key}])


async def test_a_conditional_create_writes_once(
    writer: httpx.AsyncClient, population: Population
) -> None:
    kari = population.persona("kari").fhir_id
    condition = {"if-none-exist": f"identifier={KEY_SYSTEM}|k-1", **WRITE}
    first = await writer.post("/Communication", json=keyed(kari, "k-1"), headers=condition)
    again = await writer.post("/Communication", json=keyed(kari, "k-1"), headers=condition)
    other = await writer.post(
        "/Communication",
        json=keyed(kari, "k-2"),
        headers={"if-none-exist": f"identifier={KEY_SYSTEM}|k-2", **WRITE},
    )
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert again.json()["id"] == first.json()["id"] != other.json()["id"]
    found = matches(await fetch(writer, "/Communication", patient=kari, _count="500"))
    assert found.count(first.json()["id"]) == 1


async def test_an_unsupported_condition_is_a_400(
    writer: httpx.AsyncClient, population: Population
) -> None:
    kari = population.persona("kari").fhir_id
    response = await writer.post(
        "/Communication", json=keyed(kari, "k-3"), headers={"if-none-exist": "status=x", **WRITE}
    )
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


async def created(writer: httpx.AsyncClient, patient_id: str) -> dict[str, Any]:
    body = message(patient_id, sender={"reference": "Practitioner/pr00001"})
    response = await writer.post("/Communication", json=body, headers=WRITE)
    assert response.status_code == 201, response.text
    resource: dict[str, Any] = response.json()
    return resource


def read_flag(resource: dict[str, Any]) -> bool | None:
    flags = [e["valueBoolean"] for e in resource["extension"] if e["url"] == PATIENT_READ]
    return flags[0] if flags else None


async def test_an_update_needs_the_current_version_and_bumps_it(
    writer: httpx.AsyncClient, population: Population
) -> None:
    kari = population.persona("kari").fhir_id
    current = await created(writer, kari)
    assert read_flag(current) is False
    unread = {"patient-read": "false", "_count": "500"}
    assert current["id"] in matches(await fetch(writer, "/Communication", patient=kari, **unread))
    url = f"/Communication/{current['id']}"
    marked = {
        **current,
        "extension": [
            *(e for e in current["extension"] if e["url"] != PATIENT_READ),
            {"url": PATIENT_READ, "valueBoolean": True},
        ],
    }
    missing = await writer.put(url, json=marked, headers=WRITE)
    stale = await writer.put(url, json=marked, headers={"if-match": 'W/"7"', **WRITE})
    assert (missing.status_code, stale.status_code) == (428, 412)
    done = await writer.put(url, json=marked, headers={"if-match": 'W/"1"', **WRITE})
    assert done.status_code == 200, done.text
    assert done.headers["etag"] == 'W/"2"'
    validate(done.json())
    again = await writer.put(url, json=marked, headers={"if-match": 'W/"1"', **WRITE})
    assert again.status_code == 412
    reread = (await writer.get(url)).json()
    assert reread["meta"]["versionId"] == "2"
    assert read_flag(reread) is True
    still = matches(await fetch(writer, "/Communication", patient=kari, **unread))
    assert current["id"] not in still


async def test_an_update_may_not_change_anything_else(
    writer: httpx.AsyncClient, population: Population
) -> None:
    kari = population.persona("kari").fhir_id
    current = await created(writer, kari)
    url = f"/Communication/{current['id']}"
    changed = {**current, "payload": [{"contentString": "Noe annet"}]}
    response = await writer.put(url, json=changed, headers={"if-match": 'W/"1"', **WRITE})
    assert response.status_code == 422
    assert "Communication.payload" in response.text
    assert "Noe annet" not in response.text


async def test_types_without_writes_refuse_them(
    writer: httpx.AsyncClient, population: Population
) -> None:
    kari = population.persona("kari").fhir_id
    body = {"resourceType": "Location", "id": "x"}
    assert (await writer.put("/Location/x", json=body, headers=WRITE)).status_code == 405
    patient = {"resourceType": "Patient", "id": kari}
    put = await writer.put(f"/Patient/{kari}", json=patient, headers={"if-match": 'W/"1"', **WRITE})
    assert put.status_code == 405
