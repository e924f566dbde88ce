"""Reads: resources with version metadata, 404s for unknown ids and types, Binary."""

from __future__ import annotations

import base64

import httpx
import pytest

from mocks.population import Population
from tests.mocks.fhir.fhirtest import fetch


async def test_read_carries_version_metadata_and_headers(
    client: httpx.AsyncClient, population: Population
) -> None:
    person = population.persona("ola")
    response = await client.get(f"/Patient/{person.fhir_id}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fhir+json"
    patient = response.json()
    assert patient["meta"]["versionId"] == "1"
    assert patient["meta"]["lastUpdated"].endswith(("+01:00", "+02:00"))
    assert response.headers["etag"] == 'W/"1"'
    assert response.headers["last-modified"].endswith("GMT")


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/Patient/e00000000000000000000", id="unknown-patient"),
        pytest.param("/Appointment/e00000000000000000000-ap1", id="unknown-patient-prefix"),
        pytest.param("/Appointment/{patient}-apnothere", id="unknown-record-of-known-patient"),
        pytest.param("/Observation/{patient}", id="patient-id-as-observation-id"),
        pytest.param("/Practitioner/pr99999", id="unknown-practitioner"),
        pytest.param("/Location/nowhere", id="unknown-location"),
        pytest.param("/Binary/{patient}-x-inv", id="unknown-binary"),
        pytest.param("/Immunization/{patient}-im1", id="no-ehr-immunizations"),
    ],
)
async def test_unknown_ids_are_404_not_found(
    client: httpx.AsyncClient, population: Population, path: str
) -> None:
    url = path.format(patient=population.persona("kari").fhir_id)
    outcome = await fetch(client, url, 404)
    assert outcome["issue"][0]["code"] == "not-found"


@pytest.mark.parametrize("path", ["/Medication/x", "/Encounter?patient=x", "/patient/x"])
async def test_unknown_types_are_404_not_supported(client: httpx.AsyncClient, path: str) -> None:
    outcome = await fetch(client, path, 404)
    assert outcome["issue"][0]["code"] == "not-supported"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("PUT", "/Patient/x", 405, id="update"),
        pytest.param("DELETE", "/Appointment/x", 405, id="delete"),
        pytest.param("PATCH", "/Appointment/x", 405, id="patch"),
        pytest.param("POST", "/Immunization", 405, id="create"),
        pytest.param("GET", "/Appointment/x/_history/1/extra", 404, id="unknown-endpoint"),
    ],
)
async def test_other_interactions_answer_with_an_operation_outcome(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path, json={"resourceType": "Appointment"})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/fhir+json"
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_binary_reads_as_fhir_json_or_as_its_own_content(
    client: httpx.AsyncClient, population: Population
) -> None:
    person = population.persona("jonas")
    documents = await fetch(client, "/DocumentReference", patient=person.fhir_id)
    attachment = documents["entry"][0]["resource"]["content"][0]["attachment"]
    assert attachment["contentType"] == "text/plain"
    assert attachment["url"].startswith("Binary/")
    binary = await fetch(client, attachment["url"])
    text = base64.b64decode(binary["data"])
    assert len(text) == attachment["size"]
    assert text.decode().startswith(attachment["title"])
    assert person.given_name in text.decode()
    raw = await client.get(attachment["url"], headers={"accept": "text/plain"})
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "text/plain; charset=utf-8"
    assert raw.content == text
