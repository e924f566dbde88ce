"""Every resource and Bundle the mock serves is valid R4 (checked with fhir.resources)."""

from __future__ import annotations

import httpx
import pytest

from mocks.population import Population
from tests.mocks.fhir.fhirtest import PERSONAS, Json, all_pages, fetch, included, validate

COMPARTMENT_TYPES = (
    "Appointment",
    "Communication",
    "Observation",
    "DiagnosticReport",
    "MedicationStatement",
    "Immunization",
    "DocumentReference",
    "AuditEvent",
)
INCLUDES = {
    "Appointment": "Appointment:actor",
    "Communication": "Communication:sender",
    "DiagnosticReport": "DiagnosticReport:result",
    "DocumentReference": "DocumentReference:related",
}


@pytest.mark.parametrize("persona", PERSONAS)
async def test_every_resource_of_a_persona_is_valid_and_reads_back_identically(
    client: httpx.AsyncClient, population: Population, persona: str
) -> None:
    person = population.persona(persona)
    patient = await fetch(client, f"/Patient/{person.fhir_id}")
    assert patient["identifier"] == [
        {"use": "official", "system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": person.nin}
    ]
    served: dict[str, list[Json]] = {}
    for type_ in COMPARTMENT_TYPES:
        params = {"patient": person.fhir_id, "_count": "200"}
        if type_ in INCLUDES:
            params["_include"] = INCLUDES[type_]
        bundle = await fetch(client, f"/{type_}", **params)  # validates the whole Bundle
        assert bundle["type"] == "searchset"
        entries = bundle.get("entry", [])
        served[type_] = [e["resource"] for e in entries if e["search"]["mode"] == "match"]
        assert bundle["total"] == len(served[type_])
        for entry in entries:
            validate(entry["resource"])
            resource = entry["resource"]
            assert (
                entry["fullUrl"] == f"http://ehr.test/{resource['resourceType']}/{resource['id']}"
            )
            assert await fetch(client, entry["fullUrl"]) == resource
        if type_ in INCLUDES:
            assert included(bundle), f"{INCLUDES[type_]} included nothing"
    # every persona has EHR data of each kind except immunizations
    assert {t for t, found in served.items() if found} == set(COMPARTMENT_TYPES) - {"Immunization"}
    for document in served["DocumentReference"]:
        binary = await fetch(client, document["content"][0]["attachment"]["url"])
        assert binary["resourceType"] == "Binary"
        assert binary["contentType"] == "text/plain"


async def test_practitioner_and_location_directories_are_valid(client: httpx.AsyncClient) -> None:
    # Locations: 40 over the first three municipalities, 4 GP offices and 4 health
    # stations of Bergen's own.
    for type_, size in (("Practitioner", 200), ("Location", 48)):
        pages = await all_pages(client, f"/{type_}", _count="100")
        resources = [e["resource"] for page in pages for e in page.get("entry", [])]
        assert len(resources) == size
        for resource in resources:
            validate(resource)
            assert resource["resourceType"] == type_


async def test_capability_statement_is_valid_r4_and_declares_the_custom_parameter(
    client: httpx.AsyncClient,
) -> None:
    statement = await fetch(client, "/metadata")
    assert statement["fhirVersion"] == "4.0.1"
    assert "json" in statement["format"]
    rest = statement["rest"][0]
    by_type = {r["type"]: r for r in rest["resource"]}
    assert set(by_type) >= {
        "Patient",
        "Practitioner",
        "Location",
        "Binary",
        *COMPARTMENT_TYPES,
    }
    params = {p["name"]: p for p in by_type["Communication"]["searchParam"]}
    assert params["patient-read"] == {
        "name": "patient-read",
        "type": "token",
        "documentation": params["patient-read"]["documentation"],
        "definition": "https://fhir.helsegraf.dev/SearchParameter/Communication-patient-read",
    }
    assert "Appointment:actor" in by_type["Appointment"]["searchInclude"]
    assert {"date", "status", "patient"} <= {
        p["name"] for p in by_type["Appointment"]["searchParam"]
    }
    assert {"code": "batch"} in rest["interaction"]


async def test_error_bodies_are_valid_operation_outcomes(client: httpx.AsyncClient) -> None:
    for url, status in (("/Patient/nope", 404), ("/Nope/1", 404), ("/Appointment", 400)):
        outcome = await fetch(client, url, status)
        assert outcome["resourceType"] == "OperationOutcome"
