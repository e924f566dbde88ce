"""`node(id:)`: any global id fetched again, under the same authorization."""

from __future__ import annotations

from typing import Any

import httpx

from resolvers.core.ids import encode
from tests.e2e.conftest import MOCK_ORIGIN, Harness
from tests.e2e.test_matrix import person_id

NODE = """
query($id: ID!) {
  node(id: $id) { id ... on Person { basis name } }
}
"""


async def node(harness: Harness, viewer: str, global_id: str) -> dict[str, Any]:
    response = await harness.query(viewer, NODE, {"id": global_id})
    body: dict[str, Any] = response.json()
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_a_person_id_is_a_node(harness: Harness) -> None:
    emil = await person_id(harness, "emil")
    body = await node(harness, "kari", emil)
    assert "errors" not in body, body
    assert body["data"]["node"]["id"] == emil
    assert body["data"]["node"]["basis"] == "PARENT"
    assert body["data"]["node"]["name"]


async def test_someone_out_of_reach_is_forbidden(harness: Harness) -> None:
    emil = await person_id(harness, "emil")
    body = await node(harness, "nils", emil)
    assert body["data"]["node"] is None
    assert codes(body) == ["FORBIDDEN"]


async def test_garbage_is_a_bad_user_input(harness: Harness) -> None:
    for bad in (
        "nonsense!",
        encode("Nothing", "ehr", "k.x"),
        encode("Appointment", "ehr", "nodot"),
    ):
        body = await node(harness, "kari", bad)
        assert body["data"]["node"] is None
        assert codes(body) == ["BAD_USER_INPUT"], bad


LAB = """
query($id: ID!) {
  person(id: $id) {
    labResults(first: 50) { id name }
    documents(first: 50) { edges { node { id title } } }
  }
}
"""
ENTITY = """
query($id: ID!) {
  node(id: $id) { id ... on LabResult { name } ... on Document { title } }
}
"""


async def test_results_and_documents_are_nodes_under_the_same_rules(harness: Harness) -> None:
    emil = await person_id(harness, "emil")
    body = (await harness.query("kari", LAB, {"id": emil})).json()
    assert "errors" not in body, body
    person = body["data"]["person"]
    listed = [(r["id"], r["name"]) for r in person["labResults"]]
    listed += [(e["node"]["id"], e["node"]["title"]) for e in person["documents"]["edges"]]
    assert listed
    for global_id, label in listed:
        again = (await harness.query("kari", ENTITY, {"id": global_id})).json()
        assert "errors" not in again, again
        found = again["data"]["node"]
        assert found["id"] == global_id
        assert label in (found.get("name"), found.get("title"))
        stranger = (await harness.query("nils", ENTITY, {"id": global_id})).json()
        assert stranger["data"]["node"] is None
        assert codes(stranger) == ["FORBIDDEN"]


async def test_a_hidden_result_is_as_absent_as_a_made_up_one(harness: Harness) -> None:
    """Every laboratory Observation the mock holds for a child, fetched as a node by the
    parent: exactly the listed ones come back, the rest fail like an id of nothing."""
    persona = harness.mocks.population.persona("emil")
    key = harness.app_services.ids.person_key(persona.nin)
    body = (await harness.query("kari", LAB, {"id": await person_id(harness, "emil")})).json()
    listed = {r["id"] for r in body["data"]["person"]["labResults"]}
    held = await mock_ids(harness, persona.fhir_id)
    assert len(held) > len(listed) > 0, "the mock should hold results the parent may not see"
    for observation in held:
        global_id = encode("LabResult", "ehr", f"{key}.{observation}")
        answer = (await harness.query("kari", ENTITY, {"id": global_id})).json()
        if global_id in listed:
            assert answer["data"]["node"]["id"] == global_id
            continue
        made_up = encode("LabResult", "ehr", f"{key}.{observation}x")
        nothing = (await harness.query("kari", ENTITY, {"id": made_up})).json()
        assert answer == nothing
        assert codes(answer) == ["FORBIDDEN"]


async def mock_ids(harness: Harness, patient: str) -> list[str]:
    transport = httpx.ASGITransport(app=harness.mocks.asgi())
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.get(
            f"{MOCK_ORIGIN}/ehr/fhir/R4/Observation",
            params={"patient": patient, "category": "laboratory", "_count": "200"},
        )
    return [e["resource"]["id"] for e in response.json().get("entry", [])]


NATIONAL = """
query($id: ID!) {
  person(id: $id) { vaccinations { id name } criticalInformation { id text } }
}
"""
NATIONAL_NODE = """
query($id: ID!) {
  node(id: $id) { id ... on Vaccination { name } ... on CriticalInformation { text } }
}
"""


async def test_vaccinations_and_critical_information_are_nodes(harness: Harness) -> None:
    for viewer, target in (("ola", "ola"), ("kari", "ola"), ("kari", "emil")):
        body = await harness.query(viewer, NATIONAL, {"id": await person_id(harness, target)})
        person = body.json()["data"]["person"]
        listed = [(v["id"], v["name"]) for v in person["vaccinations"] or []]
        listed += [(c["id"], c["text"]) for c in person["criticalInformation"] or []]
        assert listed, (viewer, target)
        for global_id, label in listed:
            found = (await harness.query(viewer, NATIONAL_NODE, {"id": global_id})).json()
            assert "errors" not in found, found
            assert found["data"]["node"]["id"] == global_id
            assert label in (found["data"]["node"].get("name"), found["data"]["node"].get("text"))
            stranger = (await harness.query("per", NATIONAL_NODE, {"id": global_id})).json()
            assert codes(stranger) == ["FORBIDDEN"]
