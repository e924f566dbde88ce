"""Appointments in the EHR mock: held resources, Slot/Schedule search, booking, cancel,
check-in and AppointmentResponse, all valid R4."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mocks.fhir import create_fhir_app
from mocks.fhir.appointments import MUNICIPALITY_URL, held_items
from mocks.population import Population
from mocks.records import RecordStore
from tests.mocks.fhir.fhirtest import BASE, FHIR_JSON, fetch, included, matches, validate

KEY_SYSTEM = "https://fhir.helsegraf.dev/NamingSystem/idempotency-key"
WRITE = {"content-type": FHIR_JSON}


@pytest.fixture
async def writer(records: RecordStore) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh server, so what one test writes no other test sees."""
    transport = httpx.ASGITransport(app=create_fhir_app(records))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http


def entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


async def _free_slot(writer: httpx.AsyncClient, records: RecordStore) -> dict[str, Any]:
    day = records.population.today.isoformat()
    bundle = await fetch(
        writer, "/Slot", status="free", start=f"gt{day}", _sort="start", _count="1"
    )
    return entries(bundle)[0]


def booking(patient_id: str, slot_id: str, key: str) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "identifier": [{"system": KEY_SYSTEM, "value": key}],
        "slot": [{"reference": f"Slot/{slot_id}"}],
        "participant": [{"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"}],
        "reasonCode": [{"text": "Vondt i kneet"}],
    }


async def _book(writer: httpx.AsyncClient, body: dict[str, Any], key: str) -> httpx.Response:
    headers = {"if-none-exist": f"identifier={KEY_SYSTEM}|{key}", **WRITE}
    return await writer.post("/Appointment", json=body, headers=headers)


async def test_held_appointments_are_valid_and_name_their_municipality(
    client: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    for key, municipal in (("ida", True), ("per", False)):
        person = population.persona(key)
        found = entries(await fetch(client, "/Appointment", patient=person.fhir_id))
        assert [r["id"] for r in found] == [
            f"{person.fhir_id}-{a.id}" for a in held_items(records, person)
        ]
        for resource in found:
            validate(resource)
        named = {
            x["valueCode"]
            for r in found
            for x in r.get("extension", [])
            if x["url"] == MUNICIPALITY_URL
        }
        assert named == ({"5001"} if municipal else set())


async def test_free_slots_are_searched_with_their_schedules(
    client: httpx.AsyncClient, records: RecordStore
) -> None:
    day = records.population.today.isoformat()
    bundle = await fetch(
        client,
        "/Slot",
        status="free",
        start=f"gt{day}",
        _sort="start",
        _count="50",
        _include="Slot:schedule",
    )
    slots = entries(bundle)
    assert slots
    assert {s["status"] for s in slots} == {"free"}
    starts = [s["start"] for s in slots]
    assert starts == sorted(starts)
    schedules = {s["schedule"]["reference"] for s in slots}
    assert set(included(bundle)) == schedules
    busy = entries(await fetch(client, "/Slot", status="busy", _count="5"))
    assert {s["status"] for s in busy} == {"busy"}
    schedule = await fetch(client, "/" + next(iter(schedules)))
    assert {a["reference"].split("/")[0] for a in schedule["actor"]} == {"Location", "Practitioner"}


async def test_booking_takes_the_slot_once(
    writer: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    kari = population.persona("kari").fhir_id
    slot = await _free_slot(writer, records)
    first = await _book(writer, booking(kari, slot["id"], "b-1"), "b-1")
    assert first.status_code == 201, first.text
    created = first.json()
    validate(created)
    assert (created["start"], created["status"]) == (slot["start"], "booked")
    assert created["slot"] == [{"reference": f"Slot/{slot['id']}"}]
    again = await _book(writer, booking(kari, slot["id"], "b-1"), "b-1")
    assert (again.status_code, again.json()["id"]) == (200, created["id"])
    per = population.persona("per").fhir_id
    taken = await _book(writer, booking(per, slot["id"], "b-2"), "b-2")
    assert taken.status_code == 409
    assert taken.json()["resourceType"] == "OperationOutcome"
    now_busy = await fetch(writer, f"/Slot/{slot['id']}")
    assert (now_busy["status"], now_busy["meta"]["versionId"]) == ("busy", "2")
    assert created["id"] in matches(await fetch(writer, "/Appointment", patient=kari))


@pytest.mark.parametrize(
    ("change", "element"),
    [
        pytest.param({"status": "proposed"}, "Appointment.status", id="status"),
        pytest.param({"slot": []}, "Appointment.slot", id="no-slot"),
        pytest.param({"slot": [{"reference": "Slot/nope"}]}, "Appointment.slot[0]", id="unknown"),
        pytest.param({"comment": "x"}, "Appointment.comment", id="unknown-element"),
        pytest.param({"participant": []}, "Appointment.participant", id="no-patient"),
    ],
)
async def test_a_bad_booking_is_a_422_naming_the_element(
    writer: httpx.AsyncClient,
    population: Population,
    records: RecordStore,
    change: dict[str, Any],
    element: str,
) -> None:
    kari = population.persona("kari").fhir_id
    slot = await _free_slot(writer, records)
    response = await _book(writer, {**booking(kari, slot["id"], "b-3"), **change}, "b-3")
    assert response.status_code == 422, response.text
    assert element in response.json()["issue"][0]["diagnostics"]
    assert (await fetch(writer, f"/Slot/{slot['id']}"))["status"] == "free"


async def test_cancel_frees_the_slot_and_check_in_marks_arrival(
    writer: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    kari = population.persona("kari").fhir_id
    slot = await _free_slot(writer, records)
    created = (await _book(writer, booking(kari, slot["id"], "b-4"), "b-4")).json()
    changed = {**created, "status": "cancelled", "cancelationReason": {"text": "Bortreist"}}
    response = await writer.put(
        f"/Appointment/{created['id']}", json=changed, headers={"if-match": 'W/"1"', **WRITE}
    )
    assert response.status_code == 200, response.text
    validate(response.json())
    assert (await fetch(writer, f"/Slot/{slot['id']}"))["status"] == "free"
    stale = await writer.put(
        f"/Appointment/{created['id']}", json=changed, headers={"if-match": 'W/"1"', **WRITE}
    )
    assert stale.status_code == 412
    person = population.persona("kari")
    visit = next(a for a in held_items(records, person) if a.status == "booked" and not a.video)
    current = await fetch(writer, f"/Appointment/{kari}-{visit.id}")
    arrived = await writer.put(
        f"/Appointment/{current['id']}",
        json={**current, "status": "arrived"},
        headers={"if-match": 'W/"1"', **WRITE},
    )
    assert arrived.status_code == 200, arrived.text
    assert arrived.json()["status"] == "arrived"
    moved = {**arrived.json(), "start": "2030-01-01T10:00:00+01:00"}
    refused = await writer.put(
        f"/Appointment/{current['id']}", json=moved, headers={"if-match": 'W/"2"', **WRITE}
    )
    assert refused.status_code == 422
    assert "Appointment.start" in refused.json()["issue"][0]["diagnostics"]


async def test_an_appointment_the_patient_may_not_cancel_stays(
    writer: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    person = population.persona("ida")
    xray = next(a for a in held_items(records, person) if a.service == "Røntgen")
    current = await fetch(writer, f"/Appointment/{person.fhir_id}-{xray.id}")
    response = await writer.put(
        f"/Appointment/{current['id']}",
        json={**current, "status": "cancelled"},
        headers={"if-match": 'W/"1"', **WRITE},
    )
    assert response.status_code == 422
    assert response.json()["issue"][0]["code"] == "business-rule"


async def test_a_request_to_move_is_an_appointment_response(
    writer: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    person = population.persona("kari")
    target = f"{person.fhir_id}-{held_items(records, person)[0].id}"
    body = {
        "resourceType": "AppointmentResponse",
        "appointment": {"reference": f"Appointment/{target}"},
        "actor": {"reference": f"Patient/{person.fhir_id}"},
        "participantStatus": "tentative",
        "comment": "Kan vi flytte til januar?",
    }
    response = await writer.post("/AppointmentResponse", json=body, headers=WRITE)
    assert response.status_code == 201, response.text
    validate(response.json())
    found = await fetch(
        writer, "/AppointmentResponse", patient=person.fhir_id, **{"part-status": "tentative"}
    )
    assert [r["appointment"]["reference"] for r in entries(found)] == [f"Appointment/{target}"]
    other = population.persona("per").fhir_id
    foreign = await writer.post(
        "/AppointmentResponse",
        json={**body, "actor": {"reference": f"Patient/{other}"}},
        headers=WRITE,
    )
    assert foreign.status_code == 422
    assert "AppointmentResponse.appointment" in foreign.json()["issue"][0]["diagnostics"]
