"""The server's work per request is one person's, never a walk over the population."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from mocks.fhir import create_fhir_app
from mocks.population import Person, Population
from mocks.records import RecordStore
from tests.conftest import REFERENCE_DAY
from tests.mocks.fhir.fhirtest import BASE, NIN_SYSTEM


class UnscannablePopulation(Population):
    """A population that fails any attempt to iterate over it."""

    def __iter__(self) -> Iterator[Person]:
        raise AssertionError("the FHIR mock walked the whole population")

    def __len__(self) -> int:
        raise AssertionError("the FHIR mock counted the whole population")


async def test_reads_searches_and_batches_never_walk_the_population() -> None:
    population = UnscannablePopulation(size=50, today=REFERENCE_DAY)
    kari = population.persona("kari")
    app = create_fhir_app(RecordStore(population))
    urls = [
        f"/Patient?identifier={NIN_SYSTEM}|{kari.nin}",
        f"/Patient/{kari.fhir_id}",
        f"/Appointment?patient={kari.fhir_id}&_include=Appointment:actor",
        f"/Communication?subject=Patient/{kari.fhir_id}&patient-read=false",
        f"/Observation?patient={kari.fhir_id}&_sort=-date&_count=1",
        f"/DocumentReference?patient={kari.fhir_id}",
        "/Practitioner?_count=5",
        "/metadata",
    ]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        for url in urls:
            response = await client.get(url)
            assert response.status_code == 200, url
            assert response.json()["resourceType"] != "OperationOutcome"
        batch = {
            "resourceType": "Bundle",
            "type": "batch",
            "entry": [{"request": {"method": "GET", "url": url.lstrip("/")}} for url in urls],
        }
        response = await client.post("/", json=batch)
        assert [e["response"]["status"] for e in response.json()["entry"]] == ["200 OK"] * len(urls)
