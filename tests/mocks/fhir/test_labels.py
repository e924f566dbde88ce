"""Security labels in meta.security and the review/release extensions, as R4."""

from __future__ import annotations

import datetime as dt

import httpx

from mocks.population import Population
from tests.mocks.fhir.fhirtest import Json, fetch, matches

CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
VISIBILITY = "https://fhir.helsegraf.dev/CodeSystem/portal-visibility"
EXT = "https://fhir.helsegraf.dev/StructureDefinition/"


def labels(resource: Json) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in resource["meta"].get("security", [])}


def extension(resource: Json, name: str) -> object:
    for found in resource.get("extension", []):
        if found["url"] == EXT + name:
            return next(v for k, v in found.items() if k.startswith("value"))
    return None


async def _search(client: httpx.AsyncClient, type_: str, patient: str, **params: str) -> list[Json]:
    bundle = await fetch(client, f"/{type_}", patient=patient, _count="200", **params)
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


async def test_karis_hiv_result_and_its_report_are_labelled(
    client: httpx.AsyncClient, population: Population
) -> None:
    kari = population.persona("kari").fhir_id
    (hiv,) = await _search(client, "Observation", kari, code="http://loinc.org|20447-9")
    assert labels(hiv) == {(ACT_CODE, "HIV")}
    reports = await _search(client, "DiagnosticReport", kari)
    labelled = [r for r in reports if labels(r)]
    assert [r["result"][0]["reference"] for r in labelled] == [f"Observation/{hiv['id']}"]
    assert labels(labelled[0]) == {(ACT_CODE, "HIV")}
    others = await _search(client, "Observation", kari, **{"code:not": "20447-9"})
    assert others
    assert not [o for o in others if "security" in o["meta"]]


async def test_restricted_appointments_and_their_invitations_are_labelled(
    client: httpx.AsyncClient, population: Population
) -> None:
    for key, service in (("kari", "Poliklinikk psykisk helse"), ("ola", "Hukommelsesklinikken")):
        patient = population.persona(key).fhir_id
        appointments = await _search(client, "Appointment", patient)
        restricted = [a for a in appointments if labels(a)]
        assert [a["serviceType"][0]["text"] for a in restricted] == [service], key
        assert labels(restricted[0]) == {(CONFIDENTIALITY, "R")}
        documents = await _search(client, "DocumentReference", patient, related=restricted[0]["id"])
        (invitation,) = documents
        assert labels(invitation) == {(CONFIDENTIALITY, "R")}
        binary = await fetch(client, invitation["content"][0]["attachment"]["url"])
        assert labels(binary) == {(CONFIDENTIALITY, "R")}


async def test_olas_withheld_result_is_marked_not_shown_electronically(
    client: httpx.AsyncClient, population: Population
) -> None:
    ola = population.persona("ola").fhir_id
    labelled = [o for o in await _search(client, "Observation", ola) if labels(o)]
    assert [o["code"]["coding"][0]["code"] for o in labelled] == ["14682-9"]
    assert labels(labelled[0]) == {(VISIBILITY, "not-shown-electronically")}


async def test_idas_message_and_reserved_medicine_are_kept_from_guardians(
    client: httpx.AsyncClient, population: Population
) -> None:
    ida = population.persona("ida").fhir_id
    kept = {(VISIBILITY, "kept-from-guardians")}
    messages = [m for m in await _search(client, "Communication", ida) if labels(m)]
    assert [(m["topic"]["text"], labels(m)) for m in messages] == [("Samtale om helse", kept)]
    medicines = [m for m in await _search(client, "MedicationStatement", ida) if labels(m)]
    assert [m["medicationCodeableConcept"]["coding"][0]["code"] for m in medicines] == ["G03AA07"]
    assert labels(medicines[0]) == kept
    appointments = await _search(client, "Appointment", ida)
    assert appointments
    # Trondheim runs on the shared EHR: her kept health-station visit is held there too
    kept_visits = [a["serviceType"][0]["text"] for a in appointments if labels(a)]
    assert kept_visits == ["Helsestasjon for ungdom"]
    assert all(labels(a) == kept for a in appointments if labels(a))


async def test_emils_results_carry_release_category_review_and_release(
    client: httpx.AsyncClient, population: Population
) -> None:
    emil = population.persona("emil").fhir_id
    found = {
        o["code"]["coding"][0]["code"]: (
            extension(o, "release-category"),
            extension(o, "reviewed") is not None,
            extension(o, "released") is not None,
        )
        for o in await _search(client, "Observation", emil)
    }
    assert {code: found[code] for code in ("6690-2", "777-3", "2823-3", "1742-6", "1920-8")} == {
        "6690-2": (1, False, False),
        "777-3": (2, False, False),
        "2823-3": (2, True, False),
        "1742-6": (3, False, False),
        "1920-8": (3, False, True),
    }
    assert found["2132-9"][0] == 4
    (potassium,) = await _search(client, "Observation", emil, code="2823-3")
    reviewed = next(e for e in potassium["extension"] if e["url"] == EXT + "reviewed")
    assert set(reviewed) == {"url", "valueDateTime"}
    taken = dt.datetime.fromisoformat(potassium["effectiveDateTime"])
    assert taken < dt.datetime.fromisoformat(reviewed["valueDateTime"])


async def test_leas_data_is_unlabelled(client: httpx.AsyncClient, population: Population) -> None:
    lea = population.persona("lea").fhir_id
    for type_ in ("Appointment", "Communication", "Observation", "MedicationStatement"):
        bundle = await fetch(client, f"/{type_}", patient=lea)
        assert matches(bundle), type_
        assert not [e for e in bundle["entry"] if "security" in e["resource"]["meta"]], type_
