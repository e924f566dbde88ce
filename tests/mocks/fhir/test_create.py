"""Creating Communications: directly and in a batch, kept for later reads and searches."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mocks.fhir import create_fhir_app
from mocks.population import Population
from mocks.records import RecordStore
from tests.mocks.fhir.fhirtest import BASE, FHIR_JSON, Json, fetch, matches, validate

THREAD = "https://fhir.helsegraf.dev/NamingSystem/message-thread"
PATIENT_READ = "https://fhir.helsegraf.dev/StructureDefinition/patient-read"
VISIBILITY = "https://fhir.helsegraf.dev/CodeSystem/portal-visibility"


@pytest.fixture
async def writer(records: RecordStore) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh server, so what one test creates no other test sees."""
    transport = httpx.ASGITransport(app=create_fhir_app(records))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http


def message(patient_id: str, text: str = "Hei, jeg har et spørsmål.", **extra: Any) -> Json:
    return {
        "resourceType": "Communication",
        "status": "completed",
        "subject": {"reference": f"Patient/{patient_id}"},
        "sender": {"reference": f"Patient/{patient_id}"},
        "recipient": [{"reference": "Practitioner/pr00001"}],
        "topic": {"text": "Spørsmål om time"},
        "payload": [{"contentString": text}],
        **extra,
    }


async def test_a_created_message_is_read_and_found_by_search(
    writer: httpx.AsyncClient, population: Population
) -> None:
    ida = population.persona("ida").fhir_id
    before = matches(await fetch(writer, "/Communication", patient=ida, _count="200"))
    kept = [{"system": VISIBILITY, "code": "kept-from-guardians"}]
    body = message(
        ida, meta={"security": kept}, partOf=[{"identifier": {"system": THREAD, "value": "th1"}}]
    )
    response = await writer.post("/Communication", json=body, headers={"content-type": FHIR_JSON})
    assert response.status_code == 201, response.text
    created = response.json()
    validate(created)
    assert created["id"].startswith(f"{ida}-")
    assert created["meta"]["versionId"] == "1"
    assert created["meta"]["security"] == kept
    assert response.headers["location"] == f"{BASE}/Communication/{created['id']}/_history/1"
    assert response.headers["etag"] == 'W/"1"'
    assert {"url": PATIENT_READ, "valueBoolean": True} in created["extension"]
    assert created["payload"] == body["payload"]
    assert "sent" in created
    assert await fetch(writer, f"/Communication/{created['id']}") == created
    after = await fetch(
        writer, "/Communication", patient=f"Patient/{ida}", _count="200", _sort="-date"
    )
    assert sorted(matches(after)) == sorted([*before, created["id"]])
    assert matches(after)[0] == created["id"]  # sent now: the newest
    sent_by_patient = await fetch(writer, "/Communication", sender=f"Patient/{ida}", patient=ida)
    assert created["id"] in matches(sent_by_patient)


async def test_a_reply_in_a_thread_and_what_other_servers_see(
    writer: httpx.AsyncClient, client: httpx.AsyncClient, population: Population
) -> None:
    kari = population.persona("kari").fhir_id
    earlier = matches(await fetch(writer, "/Communication", patient=kari))[0]
    reply = message(kari, inResponseTo=[{"reference": f"Communication/{earlier}"}])
    response = await writer.post("/Communication", json=reply)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["inResponseTo"] == reply["inResponseTo"]
    # a server over the same records that did not take the write does not have it
    assert (await client.get(f"/Communication/{created['id']}")).status_code == 404


async def test_a_create_inside_a_batch(writer: httpx.AsyncClient, population: Population) -> None:
    ola = population.persona("ola").fhir_id
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"request": {"method": "POST", "url": "Communication"}, "resource": message(ola)},
            {"request": {"method": "POST", "url": "Communication"}, "resource": message(ola, "")},
            {
                "request": {"method": "POST", "url": "Patient"},
                "resource": {"resourceType": "Patient"},
            },
            {"request": {"method": "GET", "url": f"Communication?patient={ola}&_count=200"}},
        ],
    }
    answer = (await writer.post("/", json=bundle)).json()
    validate(answer)
    statuses = [e["response"]["status"] for e in answer["entry"]]
    assert statuses == [
        "201 Created",
        "422 Unprocessable Entity",
        "405 Method Not Allowed",
        "200 OK",
    ]
    created = answer["entry"][0]
    assert created["fullUrl"] == f"{BASE}/Communication/{created['resource']['id']}"
    assert created["response"]["location"] == created["fullUrl"] + "/_history/1"
    assert created["response"]["etag"] == 'W/"1"'
    assert "payload[0].contentString" in answer["entry"][1]["resource"]["issue"][0]["diagnostics"]
    # entries run in order, so the search after the create finds it
    assert created["resource"]["id"] in matches(answer["entry"][3]["resource"])


Mutation = Callable[[Json, str], Json]  # (a valid message from kari, ola's Patient id)
INVALID: list[Any] = [
    pytest.param(lambda m, _: {**m, "status": None}, "Communication.status", id="no-status"),
    pytest.param(lambda m, _: {**m, "status": "sent"}, "Communication.status", id="bad-status"),
    pytest.param(lambda m, _: {**m, "subject": None}, "Communication.subject", id="no-subject"),
    pytest.param(
        lambda m, _: {**m, "subject": {"reference": "Practitioner/pr00001"}},
        "Communication.subject",
        id="subject-not-a-patient",
    ),
    pytest.param(
        lambda m, _: {**m, "subject": {"reference": "Patient/e0000000000000000000"}},
        "Communication.subject",
        id="unknown-patient",
    ),
    pytest.param(lambda m, _: {**m, "payload": []}, "Communication.payload", id="no-payload"),
    pytest.param(
        lambda m, _: {**m, "payload": [{"contentString": "   "}]},
        "Communication.payload[0].contentString",
        id="blank-text",
    ),
    pytest.param(
        lambda m, _: {**m, "partOf": [{"reference": "x"}]},
        "Communication.partOf[0]",
        id="part-of-without-thread-identifier",
    ),
    pytest.param(
        lambda m, ola: {**m, "inResponseTo": [{"reference": f"Communication/{ola}-ms0"}]},
        "Communication.inResponseTo[0]",
        id="reply-to-unknown-message",
    ),
    pytest.param(
        lambda m, _: {**m, "meta": {"security": [{"code": "R"}]}},
        "Communication.meta.security",
        id="label-without-system",
    ),
    pytest.param(lambda m, _: {**m, "note": "x"}, "Communication.note", id="unknown-element"),
    pytest.param(lambda m, _: {**m, "sent": "yesterday"}, "Communication.sent", id="bad-sent"),
]


@pytest.mark.parametrize(("mutate", "element"), INVALID)
async def test_invalid_messages_are_422_naming_the_element(
    writer: httpx.AsyncClient, population: Population, mutate: Mutation, element: str
) -> None:
    kari, ola = population.persona("kari"), population.persona("ola")
    response = await writer.post("/Communication", json=mutate(message(kari.fhir_id), ola.fhir_id))
    assert response.status_code == 422, response.text
    outcome = response.json()
    validate(outcome)
    assert outcome["issue"][0]["diagnostics"].startswith(element)
    for person in (kari, ola):
        assert person.nin not in response.text
        assert person.fhir_id not in response.text


async def test_a_reply_to_another_patients_message_is_refused(
    writer: httpx.AsyncClient, population: Population
) -> None:
    ola = population.persona("ola").fhir_id
    olas = matches(await fetch(writer, "/Communication", patient=ola))[0]
    body = message(
        population.persona("kari").fhir_id, inResponseTo=[{"reference": f"Communication/{olas}"}]
    )
    response = await writer.post("/Communication", json=body)
    assert response.status_code == 422
    assert "Communication.inResponseTo[0]" in response.text
    assert olas not in response.text


@pytest.mark.parametrize(
    ("url", "content", "kind", "status"),
    [
        pytest.param("/Communication", b"{nope", FHIR_JSON, 400, id="not-json"),
        pytest.param(
            "/Communication", b'{"resourceType": "Patient"}', FHIR_JSON, 400, id="wrong-type"
        ),
        pytest.param("/Communication", b"{}", "text/plain", 415, id="not-json-media-type"),
        pytest.param("/Patient", b'{"resourceType": "Patient"}', FHIR_JSON, 405, id="patient"),
        pytest.param("/Nope", b"{}", FHIR_JSON, 404, id="unknown-type"),
    ],
)
async def test_creates_that_cannot_be_processed(
    writer: httpx.AsyncClient, url: str, content: bytes, kind: str, status: int
) -> None:
    response = await writer.post(url, content=content, headers={"content-type": kind})
    assert response.status_code == status, response.text
    validate(response.json())
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_capability_statement_declares_create_for_the_writable_types_only(
    client: httpx.AsyncClient,
) -> None:
    statement = await fetch(client, "/metadata")
    creatable = [
        r["type"]
        for r in statement["rest"][0]["resource"]
        if {"code": "create"} in r["interaction"]
    ]
    assert {"Communication", "MedicationStatement", "Task", "Observation"} <= set(creatable)
    assert not {"Patient", "Practitioner", "Location", "DiagnosticReport"} & set(creatable)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    element=st.sampled_from(
        [
            "status",
            "subject",
            "sender",
            "recipient",
            "payload",
            "partOf",
            "inResponseTo",
            "topic",
            "meta",
            "extension",
            "sent",
            "identifier",
        ]
    ),
    value=JSON_VALUES,
)
async def test_any_value_of_any_element_is_answered_without_a_server_error(
    records: RecordStore, population: Population, element: str, value: Any
) -> None:
    kari = population.persona("kari")
    body = {**message(kari.fhir_id), element: value}
    transport = httpx.ASGITransport(app=create_fhir_app(records))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        response = await http.post("/Communication", json=body)
    assert response.status_code in (201, 400, 422), response.text
    validate(response.json())
    if response.status_code != 201:
        assert kari.nin not in response.text
