"""The FHIR mock's questionnaires, pregnancy care, follow-up programmes and measurements."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from mocks.fhir.questionnaires import ORIGIN_SYSTEM
from mocks.population import Population
from tests.mocks.fhir.fhirtest import FHIR_JSON, PERSONAS, fetch, validate

TYPES = ("Task", "QuestionnaireResponse", "EpisodeOfCare", "Observation", "CarePlan")
TASK_CODE = "https://fhir.helsegraf.dev/CodeSystem/task-code|complete-questionnaire"
KEY_SYSTEM = "https://fhir.helsegraf.dev/NamingSystem/idempotency-key"


def resources(bundle: dict[str, Any], mode: str = "match") -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


@pytest.mark.parametrize("persona", PERSONAS)
async def test_every_served_resource_is_valid_r4(
    client: httpx.AsyncClient, population: Population, persona: str
) -> None:
    patient = population.persona(persona).fhir_id
    for type_ in TYPES:
        await fetch(client, f"/{type_}", patient=patient, _count="200")  # validates each
    bundle = await fetch(client, "/Task", patient=patient, code=TASK_CODE, _include="Task:focus")
    forms = resources(bundle, "include")
    assert forms
    for form in forms:
        validate(form)


async def test_pregnancy_episode_checks_and_document(
    client: httpx.AsyncClient, population: Population
) -> None:
    anna = population.persona("anna").fhir_id
    episodes = resources(
        await fetch(client, "/EpisodeOfCare", patient=anna, type="http://snomed.info/sct|77386006")
    )
    assert len(episodes) == 1
    episode = f"EpisodeOfCare/{episodes[0]['id']}"
    checks = [
        a
        for a in resources(await fetch(client, "/Appointment", patient=anna, _count="200"))
        if any(s["reference"] == episode for s in a.get("supportingInformation", []))
    ]
    assert {a["status"] for a in checks} == {"fulfilled", "booked"}
    docs = resources(await fetch(client, "/DocumentReference", patient=anna))
    assert any(
        episode in [c["reference"] for c in d.get("context", {}).get("encounter", [])] for d in docs
    )
    kari = population.persona("kari").fhir_id
    pregnant = await fetch(
        client, "/EpisodeOfCare", patient=kari, type="http://snomed.info/sct|77386006"
    )
    assert resources(pregnant) == []


def _response(patient: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "meta": {"tag": [{"system": ORIGIN_SYSTEM, "code": "patient-reported"}]},
        "questionnaire": "https://fhir.helsegraf.dev/Questionnaire/q-pre-visit",
        "status": "completed",
        "subject": {"reference": f"Patient/{patient}"},
        "source": {"reference": f"Patient/{patient}"},
        "item": items,
    }


ITEMS = [
    {"linkId": "reason", "answer": [{"valueString": "Vondt i kneet"}]},
    {"linkId": "pain", "answer": [{"valueInteger": 4}]},
    {"linkId": "medicines-changed", "answer": [{"valueBoolean": False}]},
]


async def test_answers_are_created_once_and_complete_the_task(
    client: httpx.AsyncClient, population: Population
) -> None:
    patient = population.persona("per").fhir_id
    key = uuid.uuid4().hex
    body = {**_response(patient, ITEMS), "identifier": [{"system": KEY_SYSTEM, "value": key}]}
    headers = {"content-type": FHIR_JSON, "if-none-exist": f"identifier={KEY_SYSTEM}|{key}"}
    first = await client.post("/QuestionnaireResponse", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await client.post("/QuestionnaireResponse", json=body, headers=headers)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    validate(first.json())
    assert first.json()["identifier"] == {"system": KEY_SYSTEM, "value": key}
    tasks = resources(await fetch(client, "/Task", patient=patient, code=TASK_CODE))
    task = next(t for t in tasks if t["focus"]["reference"] == "Questionnaire/q-pre-visit")
    changed = {
        **task,
        "status": "completed",
        "output": [
            {
                "valueReference": {"reference": f"QuestionnaireResponse/{first.json()['id']}"},
                "type": {"text": "answers"},
            }
        ],
    }
    version = task["meta"]["versionId"]
    put = await client.put(
        f"/Task/{task['id']}",
        json=changed,
        headers={"content-type": FHIR_JSON, "if-match": f'W/"{version}"'},
    )
    assert put.status_code == 200, put.text
    validate(put.json())
    assert put.json()["status"] == "completed"
    back = {**put.json(), "status": "requested"}
    undo = await client.put(
        f"/Task/{task['id']}",
        json=back,
        headers={"content-type": FHIR_JSON, "if-match": f'W/"{put.json()["meta"]["versionId"]}"'},
    )
    assert undo.status_code == 422
    assert "Task.status" in undo.text


@pytest.mark.parametrize(
    ("items", "element"),
    [
        (ITEMS[:2], "QuestionnaireResponse.item[2]"),
        (
            [ITEMS[0], {"linkId": "pain", "answer": [{"valueString": "4"}]}, ITEMS[2]],
            "item[1].answer[0]",
        ),
        ([*ITEMS, {"linkId": "other", "answer": [{"valueBoolean": True}]}], "item[3].linkId"),
    ],
)
async def test_bad_answers_are_422_naming_the_element(
    client: httpx.AsyncClient, population: Population, items: list[dict[str, Any]], element: str
) -> None:
    patient = population.persona("per").fhir_id
    response = await client.post(
        "/QuestionnaireResponse",
        json=_response(patient, items),
        headers={"content-type": FHIR_JSON},
    )
    assert response.status_code == 422
    assert element in response.text
    assert "Vondt" not in response.text


def _measurement(patient: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "meta": {"tag": [{"system": ORIGIN_SYSTEM, "code": "patient-reported"}]},
        "status": "preliminary",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "performer": [{"reference": f"Patient/{patient}"}],
        "effectiveDateTime": "2026-01-05T08:00:00+01:00",
        "valueQuantity": {
            "value": 80.5,
            "unit": "kg",
            "system": "http://unitsofmeasure.org",
            "code": "kg",
        },
    }
    return body | changes


async def test_patient_reported_measurements(
    client: httpx.AsyncClient, population: Population
) -> None:
    patient = population.persona("per").fhir_id
    created = await client.post(
        "/Observation", json=_measurement(patient), headers={"content-type": FHIR_JSON}
    )
    assert created.status_code == 201, created.text
    validate(created.json())
    found = resources(await fetch(client, "/Observation", patient=patient, category="vital-signs"))
    assert created.json()["id"] in {o["id"] for o in found}
    for changes, element in (
        ({"status": "final"}, "Observation.status"),
        ({"effectiveDateTime": "2999-01-01T08:00:00+01:00"}, "Observation.effectiveDateTime"),
        (
            {
                "valueQuantity": {
                    "value": 80,
                    "unit": "lb",
                    "system": "http://unitsofmeasure.org",
                    "code": "[lb_av]",
                }
            },
            "Observation.valueQuantity",
        ),
        ({"performer": [{"reference": "Practitioner/pr00001"}]}, "Observation.performer"),
    ):
        response = await client.post(
            "/Observation",
            json=_measurement(patient, **changes),
            headers={"content-type": FHIR_JSON},
        )
        assert response.status_code == 422, changes
        assert element in response.text


async def test_generated_people_get_pregnancies_and_programmes_deterministically(
    client: httpx.AsyncClient, population: Population
) -> None:
    from mocks.fhir.careplans import programme_of
    from mocks.fhir.pregnancy import pregnancy

    today, seed = population.today, population.seed
    generated = [p for p in population if p.persona is None]
    pregnant = [p for p in generated if pregnancy(p, today, seed) is not None]
    following = [p for p in generated if programme_of(p, today, seed) is not None]
    assert pregnant
    assert following
    assert all(p.female and 20 <= p.age_on(today) <= 42 for p in pregnant)
    assert [p.nin for p in pregnant] == [
        p.nin for p in generated if pregnancy(p, today, seed) is not None
    ]
    for person in (pregnant[0], following[0]):
        for type_ in ("EpisodeOfCare", "Observation", "CarePlan", "Appointment"):
            await fetch(client, f"/{type_}", patient=person.fhir_id, _count="200")
