"""Batch: independent GET entries answered in one batch-response Bundle."""

from __future__ import annotations

import httpx
import orjson
import pytest

from mocks.population import Population
from tests.mocks.fhir.fhirtest import Json, included, matches, validate


def batch(*urls: str, method: str = "GET") -> Json:
    return {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"request": {"method": method, "url": url}} for url in urls],
    }


async def test_batch_with_mixed_outcomes(client: httpx.AsyncClient, population: Population) -> None:
    kari = population.persona("kari")
    request = batch(
        f"Patient/{kari.fhir_id}",
        f"Appointment?patient={kari.fhir_id}&date=ge2026-11-23&_include=Appointment:actor",
        "Patient/e00000000000000000000",
        f"/Communication?patient=Patient/{kari.fhir_id}&patient-read=false&_summary=count",
        "Nope/1",
        f"Observation?patient={kari.fhir_id}&_count=abc",
        "metadata",
        "http://ehr.test/Practitioner?_id=pr00001,pr00002",
    )
    request["entry"].append({"request": {"method": "PUT", "url": f"Patient/{kari.fhir_id}"}})
    response = await client.post("/", json=request)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fhir+json"
    answer = response.json()
    validate(answer)
    assert answer["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in answer["entry"]]
    assert statuses == [
        "200 OK",
        "200 OK",
        "404 Not Found",
        "200 OK",
        "404 Not Found",
        "400 Bad Request",
        "200 OK",
        "200 OK",
        "405 Method Not Allowed",
    ]
    resources = [e["resource"] for e in answer["entry"]]
    assert resources[0]["id"] == kari.fhir_id
    assert answer["entry"][0]["fullUrl"] == f"http://ehr.test/Patient/{kari.fhir_id}"
    assert answer["entry"][0]["response"]["etag"] == 'W/"1"'
    appointments = resources[1]
    assert appointments["type"] == "searchset"
    assert matches(appointments)
    assert included(appointments)
    assert appointments["link"][0]["url"].startswith("http://ehr.test/Appointment?")
    assert resources[2]["issue"][0]["code"] == "not-found"
    assert "entry" not in resources[3]
    assert resources[3]["total"] >= 0
    assert resources[4]["issue"][0]["code"] == "not-supported"
    assert "'_count'" in resources[5]["issue"][0]["diagnostics"]
    assert resources[6]["resourceType"] == "CapabilityStatement"
    assert sorted(matches(resources[7])) == ["pr00001", "pr00002"]
    assert resources[8]["resourceType"] == "OperationOutcome"


async def test_batch_answers_each_search_like_a_direct_search(
    client: httpx.AsyncClient, population: Population
) -> None:
    urls = [
        f"Observation?patient={population.persona(k).fhir_id}&_sort=-date" for k in ("emil", "ida")
    ]
    answer = (await client.post("/", json=batch(*urls))).json()
    for url, entry in zip(urls, answer["entry"], strict=True):
        direct = (await client.get("/" + url)).json()
        assert matches(entry["resource"]) == matches(direct) != []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b"[]", id="a-list"),
        pytest.param(orjson.dumps({"resourceType": "Patient"}), id="not-a-bundle"),
        pytest.param(orjson.dumps({"resourceType": "Bundle", "type": "searchset"}), id="searchset"),
        pytest.param(
            orjson.dumps({"resourceType": "Bundle", "type": "transaction", "entry": []}),
            id="transaction",
        ),
        pytest.param(
            orjson.dumps({"resourceType": "Bundle", "type": "batch", "entry": {"a": 1}}),
            id="entry-not-a-list",
        ),
        pytest.param(orjson.dumps(batch(*["metadata"] * 501)), id="too-many-entries"),
    ],
)
async def test_invalid_batch_bodies_are_400(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post(
        "/", content=body, headers={"content-type": "application/fhir+json"}
    )
    assert response.status_code == 400
    outcome = response.json()
    validate(outcome)
    assert outcome["resourceType"] == "OperationOutcome"


async def test_entry_without_a_request_is_answered_400_alone(client: httpx.AsyncClient) -> None:
    request = batch("metadata")
    request["entry"].insert(0, {"resource": {"resourceType": "Patient"}})
    answer = (await client.post("/", json=request)).json()
    assert [e["response"]["status"] for e in answer["entry"]] == ["400 Bad Request", "200 OK"]


async def test_strict_handling_applies_to_batch_entries(
    client: httpx.AsyncClient, population: Population
) -> None:
    url = f"Appointment?patient={population.persona('per').fhir_id}&colour=blue"
    lenient = (await client.post("/", json=batch(url))).json()
    strict = (await client.post("/", json=batch(url), headers={"Prefer": "handling=strict"})).json()
    assert lenient["entry"][0]["response"]["status"] == "200 OK"
    assert strict["entry"][0]["response"]["status"] == "400 Bad Request"
