"""Messages in the EHR mock: counterpart categories, municipal messages of shared-EHR
residents, logical recipients on create, and R4 validity of all of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mocks.fhir import create_fhir_app
from mocks.population import Population
from mocks.records import RecordStore
from mocks.registry import MUNICIPALITY_BY_CODE
from tests.mocks.fhir.fhirtest import BASE, FHIR_JSON, fetch, validate
from tests.mocks.fhir.test_create import message

COUNTERPART = "https://fhir.helsegraf.dev/CodeSystem/message-counterpart"
RECIPIENT = "https://fhir.helsegraf.dev/NamingSystem/message-recipient"
WRITE = {"content-type": FHIR_JSON}


@pytest.fixture
async def writer(records: RecordStore) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_fhir_app(records))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http


def _kind(resource: dict[str, Any]) -> str:
    (concept,) = resource["category"]
    (coding,) = concept["coding"]
    assert coding["system"] == COUNTERPART
    return str(coding["code"])


async def _communications(client: httpx.AsyncClient, patient: str) -> list[dict[str, Any]]:
    bundle = await fetch(client, "/Communication", patient=patient, _count="200")
    return [e["resource"] for e in bundle.get("entry", [])]


@pytest.mark.parametrize("persona", ["kari", "ola", "solveig", "ida"])
async def test_every_message_names_its_counterpart_kind_and_validates(
    writer: httpx.AsyncClient, population: Population, records: RecordStore, persona: str
) -> None:
    person = population.persona(persona)
    found = await _communications(writer, person.fhir_id)
    for resource in found:
        validate(resource)
    kinds = [_kind(r) for r in found]
    shared = MUNICIPALITY_BY_CODE[person.address.municipality].on_shared_ehr
    record = records.record(person.nin)
    expected_municipal = sum(1 for m in record.messages if m.system == "municipal") if shared else 0
    assert kinds.count("municipality") == expected_municipal
    ehr = [m for m in record.messages if m.system == "ehr"]
    assert kinds.count("hospital") == sum(1 for m in ehr if m.counterpart in (None, "hospital"))
    assert kinds.count("gp") == sum(1 for m in ehr if m.counterpart == "gp")
    for resource in found:
        if _kind(resource) == "municipality":
            sender = resource["sender"]
            from_patient = sender.get("reference", "").startswith("Patient/")
            party = resource["recipient"][0] if from_patient else sender
            assert party["identifier"]["system"] == RECIPIENT
            assert party["identifier"]["value"] == f"municipality:{person.address.municipality}"


async def test_a_message_to_a_logical_recipient_is_created_and_validates(
    writer: httpx.AsyncClient, population: Population
) -> None:
    kari = population.persona("kari").fhir_id
    body = message(
        kari,
        recipient=[
            {
                "identifier": {"system": RECIPIENT, "value": "gp:9100013"},
                "display": "Trondheim legekontor",
            }
        ],
        category=[{"coding": [{"system": COUNTERPART, "code": "gp"}]}],
    )
    created = await writer.post("/Communication", json=body, headers=WRITE)
    assert created.status_code == 201, created.text
    resource = created.json()
    validate(resource)
    assert _kind(resource) == "gp"
    assert resource["recipient"] == body["recipient"]
    read = await fetch(writer, f"/Communication/{resource['id']}")
    assert read["category"] == body["category"]


@pytest.mark.parametrize(
    ("change", "element"),
    [
        ({"category": [{"coding": [{"system": COUNTERPART, "code": "pharmacy"}]}]}, "category[0]"),
        ({"category": [{"coding": []}]}, "category[0].coding"),
        (
            {"recipient": [{"identifier": {"system": "urn:x", "value": "gp:1"}}]},
            "recipient[0].identifier",
        ),
        (
            {"recipient": [{"identifier": {"system": RECIPIENT, "value": "clinic 12"}}]},
            "recipient[0].identifier",
        ),
    ],
)
async def test_a_bad_category_or_recipient_is_a_422_naming_the_element(
    writer: httpx.AsyncClient, population: Population, change: dict[str, Any], element: str
) -> None:
    kari = population.persona("kari").fhir_id
    response = await writer.post("/Communication", json=message(kari, **change), headers=WRITE)
    assert response.status_code == 422
    outcome = response.json()
    validate(outcome)
    assert f"Communication.{element}" in outcome["issue"][0]["diagnostics"]
    assert "clinic 12" not in response.text
