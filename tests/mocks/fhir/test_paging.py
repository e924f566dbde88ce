"""Paging, counts, summaries, includes and element subsets of searchset Bundles."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from mocks.fhir.appointments import held_items
from mocks.population import Population
from mocks.records import HealthRecord, RecordStore
from tests.mocks.fhir.fhirtest import (
    Json,
    all_pages,
    fetch,
    included,
    link,
    matches,
    people_where,
)


@pytest.mark.parametrize("count", [1, 7, 50, 199, 200])
async def test_paging_the_directory_yields_each_practitioner_once(
    client: httpx.AsyncClient, records: RecordStore, count: int
) -> None:
    pages = await all_pages(client, "/Practitioner", _count=str(count))
    seen = [id_ for page in pages for id_ in matches(page)]
    assert seen == [p.id for p in records.catalogue.practitioners]
    assert {page["total"] for page in pages} == {200}
    assert len(pages) == -(-200 // count)
    assert all(len(matches(page)) <= count for page in pages)


async def test_paging_a_patient_search_keeps_order_total_and_includes_per_page(
    client: httpx.AsyncClient, population: Population
) -> None:
    person = population.persona("kari")
    params = {"patient": person.fhir_id, "_sort": "-date", "_include": "Appointment:actor"}
    whole = await fetch(client, "/Appointment", **params)
    pages = await all_pages(client, "/Appointment", _count="1", **params)
    assert len(pages) == whole["total"] >= 2
    assert [id_ for page in pages for id_ in matches(page)] == matches(whole)
    for page in pages:
        assert page["total"] == whole["total"]
        resource = page["entry"][0]["resource"]
        actors = {p["actor"]["reference"] for p in resource["participant"]}
        assert set(included(page)) == actors - {f"Patient/{person.fhir_id}"}
    previous = link(pages[1], "previous")
    assert previous is not None
    assert matches(await fetch(client, previous)) == matches(pages[0])


async def test_count_is_capped_at_200_and_defaults_to_50(client: httpx.AsyncClient) -> None:
    capped = await fetch(client, "/Practitioner", _count="1000")
    assert len(matches(capped)) == 200
    assert link(capped, "next") is None
    default = await fetch(client, "/Practitioner")
    assert len(matches(default)) == 50
    assert link(default, "next") is not None


async def test_count_zero_and_summary_count_give_the_total_alone(
    client: httpx.AsyncClient, population: Population
) -> None:
    person = population.persona("ola")
    full = await fetch(client, "/Observation", patient=person.fhir_id)
    assert full["total"] > 0
    for params in ({"_summary": "count"}, {"_count": "0"}):
        bundle = await fetch(client, "/Observation", patient=person.fhir_id, **params)
        assert bundle["total"] == full["total"]
        assert "entry" not in bundle
        assert link(bundle, "next") is None


async def test_a_page_token_only_works_for_its_own_query(
    client: httpx.AsyncClient, population: Population
) -> None:
    kari, ola = population.persona("kari"), population.persona("ola")
    first = await fetch(client, "/Observation", patient=kari.fhir_id, _count="1")
    following = link(first, "next")
    assert following is not None
    token = following.split("_page=")[1]
    outcome = await fetch(client, "/Observation", 400, patient=ola.fhir_id, _count="1", _page=token)
    assert "'_page'" in outcome["issue"][0]["diagnostics"]


async def test_includes_are_listed_once_even_when_shared(
    client: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    def shares_a_location(record: HealthRecord) -> bool:
        places = [a.location_id for a in record.appointments if a.system == "ehr"]
        return len(places) != len(set(places))

    person = next(people_where(population, records, shares_a_location))
    ehr = held_items(records, person)
    bundle = await fetch(
        client, "/Appointment", patient=person.fhir_id, _include="Appointment:actor"
    )
    keys = [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]]
    assert len(keys) == len(set(keys))
    expected = {f"Practitioner/{a.practitioner_id}" for a in ehr} | {
        f"Location/{a.location_id}" for a in ehr
    }
    assert set(included(bundle)) == expected
    assert len(included(bundle)) < 2 * len(ehr)
    modes = Counter(e["search"]["mode"] for e in bundle["entry"])
    assert modes == {"match": len(ehr), "include": len(expected)}


@pytest.mark.parametrize(
    ("include", "types"),
    [
        pytest.param("Appointment:practitioner", {"Practitioner"}, id="practitioner"),
        pytest.param("Appointment:location", {"Location"}, id="location"),
        pytest.param("Appointment:actor:Location", {"Location"}, id="actor-narrowed"),
        pytest.param("Appointment:patient", {"Patient"}, id="patient"),
    ],
)
async def test_appointment_include_variants(
    client: httpx.AsyncClient, population: Population, include: str, types: set[str]
) -> None:
    person = population.persona("per")
    bundle = await fetch(client, "/Appointment", patient=person.fhir_id, _include=include)
    assert {ref.split("/")[0] for ref in included(bundle)} == types


async def test_communication_sender_and_report_result_includes(
    client: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    person = next(
        people_where(
            population,
            records,
            lambda r: any(m.system == "ehr" and m.from_patient for m in r.messages),
        )
    )
    bundle = await fetch(
        client, "/Communication", patient=person.fhir_id, _include="Communication:sender"
    )
    senders = {
        e["resource"]["sender"]["reference"]
        for e in bundle["entry"]
        if e["search"]["mode"] == "match" and "reference" in e["resource"]["sender"]
    }  # a municipality's office is a logical reference, with nothing to include
    assert set(included(bundle)) == senders
    assert f"Patient/{person.fhir_id}" in senders  # the patient replied at least once
    reports = await fetch(
        client, "/DiagnosticReport", patient=person.fhir_id, _include="DiagnosticReport:result"
    )
    results = {
        r["reference"]
        for e in reports["entry"]
        if e["search"]["mode"] == "match"
        for r in e["resource"]["result"]
    }
    assert set(included(reports)) == results
    assert len(results) == len(records.record(person.nin).labs)


async def test_elements_subset_keeps_mandatory_elements_and_tags_the_resource(
    client: httpx.AsyncClient, population: Population
) -> None:
    person = population.persona("kari")
    bundle = await fetch(
        client,
        "/Appointment",
        patient=person.fhir_id,
        _elements="start",
        _include="Appointment:location",
    )
    for entry in bundle["entry"]:
        resource: Json = entry["resource"]
        if entry["search"]["mode"] == "match":
            assert set(resource) == {"resourceType", "id", "meta", "start", "status", "participant"}
            assert resource["meta"]["tag"][0]["code"] == "SUBSETTED"
        else:  # includes are whole
            assert "name" in resource
    # the served resources themselves are untouched
    whole = await fetch(client, "/Appointment", patient=person.fhir_id)
    assert "serviceType" in whole["entry"][0]["resource"]
    assert "tag" not in whole["entry"][0]["resource"]["meta"]
