"""Referrals, waiting-list places, care teams and journal requests: valid R4, searchable."""

from __future__ import annotations

import httpx
import pytest

from mocks.population import Population
from tests.mocks.fhir.fhirtest import PERSONAS, Json, fetch, matches

TYPES = ("ServiceRequest", "EpisodeOfCare", "CareTeam", "Task")
EXT = "https://fhir.helsegraf.dev/StructureDefinition/"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def resources(bundle: Json) -> list[Json]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


@pytest.mark.parametrize("persona", PERSONAS)
async def test_every_persona_has_valid_referrals_a_care_team_and_a_journal_request(
    client: httpx.AsyncClient, population: Population, persona: str
) -> None:
    person = population.persona(persona)
    for type_ in TYPES:
        bundle = await fetch(client, f"/{type_}", patient=person.fhir_id)  # validates
        found = resources(bundle)
        assert found, type_
        for resource in found:
            assert resource["id"].startswith(f"{person.fhir_id}-")
            assert await fetch(client, f"/{type_}/{resource['id']}") == resource


async def test_waiting_list_places_point_at_their_referral(
    client: httpx.AsyncClient, population: Population
) -> None:
    kari = population.persona("kari").fhir_id
    requests = {r["id"]: r for r in resources(await fetch(client, "/ServiceRequest", patient=kari))}
    episodes = resources(await fetch(client, "/EpisodeOfCare", patient=kari))
    assert episodes
    for episode in episodes:
        target = episode["referralRequest"][0]["reference"].removeprefix("ServiceRequest/")
        request = requests[target]
        status = next(e["valueCode"] for e in request["extension"] if e["url"].endswith("status"))
        assert (status, episode["status"]) in {("accepted", "waitlist"), ("scheduled", "planned")}
        by_referral = await fetch(
            client,
            "/EpisodeOfCare",
            patient=kari,
            **{"incoming-referral": f"ServiceRequest/{target}"},
        )
        assert matches(by_referral) == [episode["id"]]
    rejected = await fetch(client, "/ServiceRequest", patient=kari, status="revoked")
    assert all(r["status"] == "revoked" for r in resources(rejected))


@pytest.mark.parametrize("persona", ["kari", "ola"])
async def test_psychiatric_referrals_are_labelled(
    client: httpx.AsyncClient, population: Population, persona: str
) -> None:
    person = population.persona(persona)
    labelled = [
        r
        for r in resources(await fetch(client, "/ServiceRequest", patient=person.fhir_id))
        if {"system": ACT_CODE, "code": "PSY", "display": "psychiatry information sensitivity"}
        in r.get("meta", {}).get("security", [])
    ]
    assert len(labelled) == 1


async def test_care_team_participants_have_a_role_and_a_work_phone_only(
    client: httpx.AsyncClient, population: Population
) -> None:
    emil = population.persona("emil").fhir_id
    (team,) = resources(await fetch(client, "/CareTeam", patient=emil))
    roles = {p["role"][0]["coding"][0]["code"] for p in team["participant"]}
    assert {"contact-physician", "contact-nurse", "gp"} <= roles
    for participant in team["participant"]:
        (contact,) = participant["extension"]
        assert contact["url"] == EXT + "participant-contact"
        assert contact["valueContactPoint"]["use"] == "work"
        assert participant["member"]["reference"].startswith("Practitioner/")
    practitioner = await fetch(client, f"/{team['participant'][0]['member']['reference']}")
    assert "telecom" not in practitioner


async def test_searches_need_a_patient(client: httpx.AsyncClient) -> None:
    for type_ in TYPES:
        response = await client.get(f"/{type_}", params={"status": "active"})
        assert response.status_code == 400, type_
