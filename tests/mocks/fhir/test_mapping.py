"""How records become FHIR: the choices other code relies on."""

from __future__ import annotations

import dataclasses
import datetime as dt

import httpx
import pytest

from mocks.fhir.appointments import held_items
from mocks.fhir.messages import in_ehr
from mocks.fhir.people import patient
from mocks.population import Population
from mocks.records import RecordStore
from tests.mocks.fhir.fhirtest import NIN_SYSTEM, Json, fetch, people_where, validate

THREAD = "https://fhir.helsegraf.dev/NamingSystem/message-thread"
RELEASE = "https://fhir.helsegraf.dev/StructureDefinition/release-category"
VIDEO = "https://fhir.helsegraf.dev/StructureDefinition/video-join-url"


def entries(bundle: Json) -> list[Json]:
    return [e["resource"] for e in bundle.get("entry", [])]


async def test_patient_carries_identity_name_gender_and_address(
    client: httpx.AsyncClient, population: Population
) -> None:
    person = population.persona("per")
    resource = await fetch(client, f"/Patient/{person.fhir_id}")
    assert resource["identifier"][0]["system"] == NIN_SYSTEM
    assert resource["name"][0] == {
        "use": "official",
        "text": "Per Hansen",
        "family": "Hansen",
        "given": ["Per"],
    }
    assert (resource["gender"], resource["birthDate"]) == ("male", person.birth_date.isoformat())
    assert resource["address"][0]["city"] == "Oslo"
    assert "deceasedDateTime" not in resource


@pytest.mark.parametrize("code", ["6", "7"])
def test_confidential_addresses_are_left_out(population: Population, code: str) -> None:
    person = dataclasses.replace(population.persona("kari"), confidential_address=code)
    resource = patient(person, population.today).resource
    validate(resource)
    assert "address" not in resource


def test_the_deceased_have_a_date_of_death(population: Population) -> None:
    died = dt.date(2026, 1, 5)
    person = dataclasses.replace(population.persona("ola"), deceased=died)
    resource = patient(person, population.today).resource
    validate(resource)
    assert resource["deceasedDateTime"] == "2026-01-05"


async def test_video_appointments_are_virtual_with_a_join_link(
    client: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    person = next(people_where(population, records, lambda r: any(a.video for a in r.appointments)))
    ehr = {f"{person.fhir_id}-{a.id}": a for a in held_items(records, person)}
    resources = entries(await fetch(client, "/Appointment", patient=person.fhir_id))
    assert {r["id"] for r in resources} == set(ehr)
    for resource in resources:
        item = ehr[resource["id"]]
        code = resource["appointmentType"]["coding"][0]["code"]
        links = [x["valueUrl"] for x in resource.get("extension", []) if x["url"] == VIDEO]
        assert (code, len(links)) == (("VR", 1) if item.video else ("AMB", 0))
        assert resource["minutesDuration"] == item.minutes
        assert resource["status"] == item.status
        assert dt.datetime.fromisoformat(resource["start"]) == item.start
        actors = [p["actor"]["reference"] for p in resource["participant"]]
        assert actors == [
            f"Patient/{person.fhir_id}",
            f"Practitioner/{item.practitioner_id}",
            f"Location/{item.location_id}",
        ]
        assert {p["status"] for p in resource["participant"]} == {"accepted"}


async def test_messages_are_threaded_by_part_of_and_in_response_to(
    client: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    person = next(
        people_where(
            population,
            records,
            lambda r: any(m.system == "ehr" and m.from_patient for m in r.messages),
        )
    )
    messages = [m for m in records.record(person.nin).messages if in_ehr(m, person)]
    resources = entries(await fetch(client, "/Communication", patient=person.fhir_id))
    assert len(resources) == len(messages)
    previous: dict[str, str] = {}
    for message, resource in zip(messages, resources, strict=True):
        assert resource["id"] == f"{person.fhir_id}-{message.id}"
        assert resource["partOf"] == [
            {"identifier": {"system": THREAD, "value": message.thread_id}}
        ]
        assert resource["topic"]["text"] == message.subject
        assert resource["payload"][0]["contentString"] == message.text
        replying_to = previous.get(message.thread_id)
        if replying_to is None:
            assert "inResponseTo" not in resource
        else:
            assert resource["inResponseTo"] == [{"reference": f"Communication/{replying_to}"}]
        previous[message.thread_id] = resource["id"]
        if message.from_patient or message.system == "ehr":
            sender = "Patient" if message.from_patient else "Practitioner"
            assert resource["sender"]["reference"].startswith(f"{sender}/")
        else:  # the municipality's office, identified logically
            assert resource["sender"]["identifier"]["value"].startswith("municipality:")
        assert resource["subject"] == {"reference": f"Patient/{person.fhir_id}"}
    assert any("inResponseTo" in r for r in resources)


async def test_lab_results_and_their_reports(
    client: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    person = population.persona("kari")
    labs = {f"{person.fhir_id}-{lab.id}": lab for lab in records.record(person.nin).labs}
    observations = entries(
        await fetch(client, "/Observation", patient=person.fhir_id, category="laboratory")
    )
    assert {o["id"] for o in observations} == set(labs)
    for resource in observations:
        lab = labs[resource["id"]]
        quantity = resource["valueQuantity"]
        assert quantity["value"] == lab.value
        assert quantity["system"] == "http://unitsofmeasure.org"
        assert quantity["code"] == ("m[IU]/L" if lab.unit == "mIU/L" else lab.unit)
        flag = resource["interpretation"][0]["coding"][0]["code"]
        assert flag == ("H" if lab.value > lab.high else "L" if lab.value < lab.low else "N")
        assert resource["referenceRange"][0]["low"]["value"] == lab.low
        assert resource["code"]["coding"][0] == {
            "system": "http://loinc.org",
            "code": lab.code,
            "display": lab.display,
        }
        assert resource["extension"] == [{"url": RELEASE, "valueInteger": lab.release_category}]
    reports = entries(await fetch(client, "/DiagnosticReport", patient=person.fhir_id))
    assert {r["id"] for r in reports} == {
        f"{person.fhir_id}-{lab.report_id}" for lab in labs.values()
    }
    for report in reports:
        members = {ref["reference"].split("/")[1] for ref in report["result"]}
        assert {labs[m].report_id for m in members} == {report["id"].split("-", 1)[1]}
        assert report["category"][0]["coding"][0]["code"] == "LAB"


async def test_medication_statements_are_the_ehr_listed_medicines(
    client: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    person = population.persona("ola")
    medicines = records.record(person.nin).medications
    resources = entries(
        await fetch(client, "/MedicationStatement", patient=person.fhir_id, status="active")
    )
    listed = [m for m in medicines if m.ehr_id]
    assert [r["id"] for r in resources] == [f"{person.fhir_id}-{m.ehr_id}" for m in listed]
    for resource, medicine in zip(resources, listed, strict=True):
        assert resource["medicationCodeableConcept"]["coding"][0] == {
            "system": "http://www.whocc.no/atc",
            "code": medicine.atc,
            "display": medicine.name,
        }
        assert resource["dosage"][0]["text"] == medicine.dosage
        assert resource["effectivePeriod"]["start"] == medicine.started.isoformat()
