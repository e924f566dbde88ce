"""Mounted under a prefix (as the gateway's mocks are), every url keeps the prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from mocks.population import Population
from tests.mocks.fhir.fhirtest import all_pages, fetch, link

PREFIX = "/ehr/fhir/R4"
ROOT = f"http://ehr.test{PREFIX}/"


@pytest.fixture
async def mounted(fhir_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    outer = Starlette(routes=[Mount(PREFIX, app=fhir_app)])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=outer), base_url="http://ehr.test"
    ) as http:
        yield http


async def test_links_and_full_urls_carry_the_mount_prefix(
    mounted: httpx.AsyncClient, population: Population
) -> None:
    person = population.persona("kari")
    pages = await all_pages(mounted, f"{PREFIX}/Observation", patient=person.fhir_id, _count="2")
    assert len(pages) >= 2
    for page in pages:
        for relation in ("self", "next", "previous"):
            url = link(page, relation)
            assert url is None or url.startswith(f"{ROOT}Observation?"), url
        for entry in page["entry"]:
            assert entry["fullUrl"].startswith(f"{ROOT}Observation/")
            assert (await fetch(mounted, entry["fullUrl"]))["id"] == entry["resource"]["id"]
    statement = await fetch(mounted, f"{PREFIX}/metadata")
    assert statement["implementation"]["url"] == ROOT


async def test_batch_through_the_mount(mounted: httpx.AsyncClient, population: Population) -> None:
    person = population.persona("ola")
    request = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"request": {"method": "GET", "url": f"Patient/{person.fhir_id}"}},
            {"request": {"method": "GET", "url": f"{ROOT}Appointment?patient={person.fhir_id}"}},
        ],
    }
    answer = (await mounted.post(f"{PREFIX}/", json=request)).json()
    assert [e["response"]["status"] for e in answer["entry"]] == ["200 OK", "200 OK"]
    assert answer["entry"][0]["fullUrl"] == f"{ROOT}Patient/{person.fhir_id}"
    assert link(answer["entry"][1]["resource"], "self") == (
        f"{ROOT}Appointment?patient={person.fhir_id}"
    )
