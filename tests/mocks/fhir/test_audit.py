"""AuditEvent: the EHR's own access log, searchable per patient, valid R4."""

from __future__ import annotations

import datetime as dt

import httpx

from mocks.population import Population
from tests.mocks.fhir.fhirtest import fetch, matches

DCM = "http://dicom.nema.org/resources/ontology/DCM"


async def test_each_patient_has_a_small_valid_access_log(
    client: httpx.AsyncClient, population: Population
) -> None:
    for key in ("kari", "ola", "emil", "lea"):
        person = population.persona(key)
        bundle = await fetch(client, "/AuditEvent", patient=person.fhir_id)  # validates R4
        events = [e["resource"] for e in bundle.get("entry", [])]
        assert 2 <= len(events) <= 6, key
        for event in events:
            assert event["type"] == {"system": DCM, "code": "110110", "display": "Patient Record"}
            assert event["action"] == "R"
            assert event["entity"][0]["what"]["reference"] == f"Patient/{person.fhir_id}"
            agent = event["agent"][0]
            assert agent["who"]["display"]
            assert agent["role"][0]["text"] in ("Lege", "Sykepleier")
            assert event["source"]["observer"]["display"] == "Helseplattformen"
            assert dt.datetime.fromisoformat(event["recorded"]).date() < population.today
            assert person.nin not in str(event)
            assert await fetch(client, f"/AuditEvent/{event['id']}") == event


async def test_newest_first_count_and_date_filters(
    client: httpx.AsyncClient, population: Population
) -> None:
    patient = population.persona("kari").fhir_id
    every = await fetch(client, "/AuditEvent", patient=patient, _sort="-date")
    recorded = [e["resource"]["recorded"] for e in every["entry"]]
    times = [dt.datetime.fromisoformat(r) for r in recorded]
    assert times == sorted(times, reverse=True)
    first = await fetch(client, "/AuditEvent", patient=patient, _sort="-date", _count="1")
    assert matches(first) == matches(every)[:1]
    assert first["total"] == len(times)
    cut = times[0].date().isoformat()
    recent = await fetch(client, "/AuditEvent", patient=patient, date=f"ge{cut}")
    assert set(matches(recent)) == {
        id_ for id_, t in zip(matches(every), times, strict=True) if t.date().isoformat() >= cut
    }
    assert matches(recent)


async def test_logs_are_per_patient_and_need_a_patient(
    client: httpx.AsyncClient, population: Population
) -> None:
    kari = await fetch(client, "/AuditEvent", patient=population.persona("kari").fhir_id)
    ola = await fetch(client, "/AuditEvent", patient=population.persona("ola").fhir_id)
    assert not set(matches(kari)) & set(matches(ola))
    outcome = await fetch(client, "/AuditEvent", 400)
    assert outcome["issue"][0]["code"] == "too-costly"
