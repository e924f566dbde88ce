"""Helpers for FHIR mock tests: fetching, following pages, and R4 validation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
from fhir.resources.R4B import get_fhir_model_class

from mocks.population import Person, Population
from mocks.records import HealthRecord, RecordStore

Json = dict[str, Any]
BASE = "http://ehr.test"
PERSONAS = (
    *("kari", "ola", "emil", "ida", "jonas", "per", "frode", "mona", "lea", "nils", "thea"),
    *("berit", "arne", "solveig", "gunnar", "anna"),
)
FHIR_JSON = "application/fhir+json"
NIN_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.1"
PATIENT_READ = "https://fhir.helsegraf.dev/StructureDefinition/patient-read"


def validate(resource: Json) -> None:
    """Raise unless `resource` is a valid FHIR resource of its declared type."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


async def fetch(client: httpx.AsyncClient, url: str, expect: int = 200, /, **params: str) -> Json:
    """GET `url`, check status and content type, validate and return the body."""
    response = await client.get(url, params=params or None)
    assert response.status_code == expect, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    body: Json = response.json()
    validate(body)
    return body


def matches(bundle: Json) -> list[str]:
    """Ids of the `match` entries of a searchset, in order."""
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def included(bundle: Json) -> list[str]:
    """`Type/id` of the `include` entries of a searchset, in order."""
    return [
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in bundle.get("entry", [])
        if e["search"]["mode"] == "include"
    ]


def link(bundle: Json, relation: str) -> str | None:
    """The url of the bundle's link with this relation, if any."""
    return next((lk["url"] for lk in bundle.get("link", []) if lk["relation"] == relation), None)


async def all_pages(client: httpx.AsyncClient, url: str, **params: str) -> list[Json]:
    """Every page of a search, following `next` links until there are none."""
    pages = [await fetch(client, url, **params)]
    while (following := link(pages[-1], "next")) is not None:
        assert len(pages) < 500, "paging does not end"
        pages.append(await fetch(client, following))
    return pages


def people_where(
    population: Population, records: RecordStore, test: Callable[[HealthRecord], bool]
) -> Iterator[Person]:
    """People whose record passes `test` (tests may scan; the server may not)."""
    return (p for p in population if test(records.record(p.nin)))
