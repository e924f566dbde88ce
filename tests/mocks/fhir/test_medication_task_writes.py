"""Writing MedicationStatement (patient reports, patient notes) and Task (journal requests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mocks.fhir import create_fhir_app
from mocks.population import Population
from mocks.records import RecordStore
from tests.mocks.fhir.fhirtest import BASE, FHIR_JSON, Json, fetch, matches, validate

WRITE = {"content-type": FHIR_JSON}
KEY_SYSTEM = "https://fhir.helsegraf.dev/NamingSystem/idempotency-key"
ORIGIN = "https://fhir.helsegraf.dev/CodeSystem/medication-origin"
CONFIRMATION = "https://fhir.helsegraf.dev/StructureDefinition/clinician-confirmation"
KINDS = "https://fhir.helsegraf.dev/CodeSystem/journal-request"
INPUTS = "https://fhir.helsegraf.dev/CodeSystem/journal-request-input"


@pytest.fixture
async def writer(records: RecordStore) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh server, so what one test writes no other test sees."""
    transport = httpx.ASGITransport(app=create_fhir_app(records))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http


def reported(patient_id: str, **extra: Any) -> Json:
    return {
        "resourceType": "MedicationStatement",
        "status": "active",
        "medicationCodeableConcept": {"text": "Vitamin D 10 mikrog"},
        "subject": {"reference": f"Patient/{patient_id}"},
        "informationSource": {"reference": f"Patient/{patient_id}"},
        "effectivePeriod": {"start": "2026-01-05"},
        "dosage": [{"text": "1 tablett daglig"}],
        **extra,
    }


def request(patient_id: str, **extra: Any) -> Json:
    return {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "code": {"coding": [{"system": KINDS, "code": "copy"}]},
        "for": {"reference": f"Patient/{patient_id}"},
        "input": [
            {
                "type": {"coding": [{"system": INPUTS, "code": "period"}]},
                "valuePeriod": {"start": "2020-01-01", "end": "2021-12-31"},
            }
        ],
        "note": [{"text": "Jeg ønsker kopi av journalen."}],
        **extra,
    }


async def test_a_reported_medicine_is_marked_unconfirmed_and_found(
    writer: httpx.AsyncClient, population: Population
) -> None:
    kari = population.persona("kari").fhir_id
    response = await writer.post("/MedicationStatement", json=reported(kari), headers=WRITE)
    assert response.status_code == 201, response.text
    created = response.json()
    validate(created)
    assert {"system": ORIGIN, "code": "patient-reported"} in created["meta"]["tag"]
    assert {"url": CONFIRMATION, "valueCode": "unconfirmed"} in created["extension"]
    found = await fetch(writer, "/MedicationStatement", patient=kari, status="active")
    assert created["id"] in matches(found)


async def test_a_keyed_report_is_created_once(
    writer: httpx.AsyncClient, population: Population
) -> None:
    ola = population.persona("ola").fhir_id
    body = reported(ola, identifier=[{"system": KEY_SYSTEM, "value": "k1"}])
    headers = {**WRITE, "if-none-exist": f"identifier={KEY_SYSTEM}|k1"}
    first = await writer.post("/MedicationStatement", json=body, headers=headers)
    second = await writer.post("/MedicationStatement", json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]


@pytest.mark.parametrize(
    ("change", "element"),
    [
        ({"status": "completed"}, "MedicationStatement.status"),
        ({"medicationCodeableConcept": {"text": " "}}, "medicationCodeableConcept.text"),
        ({"informationSource": {"reference": "Practitioner/pr00001"}}, "informationSource"),
        ({"effectivePeriod": {"start": "2999-01-01"}}, "effectivePeriod.start"),
        ({"dosage": [{"text": "x" * 501}]}, "dosage[0].text"),
        ({"note": [{"text": "hei"}]}, "MedicationStatement.note"),
    ],
)
async def test_invalid_reports_are_422_naming_the_element(
    writer: httpx.AsyncClient, population: Population, change: Json, element: str
) -> None:
    kari = population.persona("kari").fhir_id
    response = await writer.post("/MedicationStatement", json=reported(kari, **change))
    assert response.status_code == 422, response.text
    outcome = response.json()
    validate(outcome)
    assert element in outcome["issue"][0]["diagnostics"]
    assert "x" * 20 not in response.text


async def test_a_note_is_appended_with_if_match_and_nothing_else_changes(
    writer: httpx.AsyncClient, population: Population
) -> None:
    kari = population.persona("kari").fhir_id
    statement = matches(await fetch(writer, "/MedicationStatement", patient=kari))[0]
    current = await fetch(writer, f"/MedicationStatement/{statement}")
    note = {"text": "Tar den om kvelden", "authorReference": {"reference": f"Patient/{kari}"}}
    updated = {**current, "note": [*current.get("note", []), note]}
    url = f"/MedicationStatement/{statement}"
    ok = await writer.put(url, json=updated, headers={**WRITE, "if-match": 'W/"1"'})
    assert ok.status_code == 200, ok.text
    stored = ok.json()
    validate(stored)
    assert stored["meta"]["versionId"] == "2"
    assert stored["note"][-1]["text"] == "Tar den om kvelden"
    assert "time" in stored["note"][-1]
    stale = await writer.put(url, json=updated, headers={**WRITE, "if-match": 'W/"1"'})
    assert stale.status_code == 412
    other = {
        **stored,
        "note": [*stored["note"], {**note, "authorReference": {"reference": "Patient/x"}}],
    }
    refused = await writer.put(url, json=other, headers={**WRITE, "if-match": 'W/"2"'})
    assert refused.status_code == 422
    assert "authorReference" in refused.json()["issue"][0]["diagnostics"]
    dosage = {**stored, "dosage": [{"text": "annet"}], "note": [*stored["note"], note]}
    refused = await writer.put(url, json=dosage, headers={**WRITE, "if-match": 'W/"2"'})
    assert refused.status_code == 422
    rewritten = {**stored, "note": [note]}
    refused = await writer.put(url, json=rewritten, headers={**WRITE, "if-match": 'W/"2"'})
    assert refused.status_code == 422


async def test_a_journal_request_is_created_as_a_requested_task(
    writer: httpx.AsyncClient, population: Population
) -> None:
    emil = population.persona("emil").fhir_id
    response = await writer.post("/Task", json=request(emil), headers=WRITE)
    assert response.status_code == 201, response.text
    created = response.json()
    validate(created)
    assert created["status"] == "requested"
    assert created["requester"] == {"reference": f"Patient/{emil}"}
    assert created["input"][0]["valuePeriod"] == {"start": "2020-01-01", "end": "2021-12-31"}
    found = await fetch(writer, "/Task", patient=emil, status="requested")
    journal = [  # questionnaire tasks are Tasks too
        e["resource"]["id"]
        for e in found.get("entry", [])
        if e["resource"]["code"]["coding"][0]["system"].endswith("/journal-request")
    ]
    assert journal == [created["id"]]


@pytest.mark.parametrize(
    ("change", "element"),
    [
        ({"status": "completed"}, "Task.status"),
        ({"code": {"coding": [{"system": KINDS, "code": "delete"}]}}, "Task.code"),
        ({"for": {"reference": "Patient/nobody"}}, "Task.for"),
        ({"requester": {"reference": "Patient/other"}}, "Task.requester"),
        ({"note": [{"text": ""}]}, "Task.note[0].text"),
        (
            {
                "input": [
                    {
                        "type": {"coding": [{"system": INPUTS, "code": "period"}]},
                        "valuePeriod": {"start": "2022-01-01", "end": "2021-01-01"},
                    }
                ]
            },
            "Task.input[0].valuePeriod",
        ),
        ({"businessStatus": {"text": "x"}}, "Task.businessStatus"),
    ],
)
async def test_invalid_journal_requests_are_422_naming_the_element(
    writer: httpx.AsyncClient, population: Population, change: Json, element: str
) -> None:
    emil = population.persona("emil").fhir_id
    response = await writer.post("/Task", json=request(emil, **change), headers=WRITE)
    assert response.status_code == 422, response.text
    validate(response.json())
    assert element in response.json()["issue"][0]["diagnostics"]
