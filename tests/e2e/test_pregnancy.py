"""Digital pregnancy care end to end: anna's pregnancy, who may see it, null when none."""

from __future__ import annotations

from typing import Any

from gateway.persisted import OPERATIONS_DIR
from tests.e2e.conftest import Harness
from tests.e2e.test_matrix import person_id

PREGNANCY = (OPERATIONS_DIR / "pregnancy.graphql").read_text(encoding="utf-8")
ONLY = "query($id: ID!) { person(id: $id) { pregnancy { estimatedDueDate } } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on Document { title } } }"


async def ask(harness: Harness, viewer: str, target: str, query: str = PREGNANCY) -> dict[str, Any]:
    variables = {"id": await person_id(harness, target)}
    body: dict[str, Any] = (await harness.query(viewer, query, variables)).json()
    return body


async def test_anna_sees_her_pregnancy_care(harness: Harness) -> None:
    body = await ask(harness, "anna", "anna")
    assert "errors" not in body, body.get("errors")
    care = body["data"]["person"]["pregnancy"]
    assert care["status"] == "ACTIVE"
    assert care["week"] == 24
    assert care["estimatedDueDate"] > care["started"]
    kinds = {m["type"] for m in care["healthCard"]}
    assert kinds == {"BLOOD_PRESSURE", "WEIGHT", "FUNDAL_HEIGHT"}
    assert {m["origin"] for m in care["healthCard"]} == {"CLINICIAN"}
    statuses = [c["status"] for c in care["checks"]]
    assert "DONE" in statuses
    assert "BOOKED" in statuses
    starts = [c["start"] for c in care["checks"]]
    assert starts == sorted(starts)
    (document,) = care["documents"]
    fetched = (await harness.query("anna", NODE, {"id": document["id"]})).json()
    assert fetched["data"]["node"]["title"] == document["title"]
    forms = body["data"]["person"]["questionnaires"]["edges"]
    assert [e["node"]["title"] for e in forms] == ["Svangerskapsskjema"]


async def test_no_pregnancy_is_null_without_error(harness: Harness) -> None:
    body = await ask(harness, "kari", "kari")
    assert "errors" not in body, body.get("errors")
    assert body["data"]["person"]["pregnancy"] is None


async def test_bases(harness: Harness) -> None:
    # proxies that read health information (standard, read-only) get the field; none of
    # their grantors is pregnant, so it is null without an error
    for viewer, target in (("nils", "berit"), ("nils", "arne"), ("kari", "ola")):
        body = await ask(harness, viewer, target, ONLY)
        assert "errors" not in body, (viewer, target, body.get("errors"))
    for viewer, target, reason in (
        ("kari", "emil", "CHILD_0_11"),
        ("kari", "ida", "CHILD_12_15"),
        ("nils", "solveig", "PROXY_COMMUNICATE_ONLY"),
    ):
        body = await ask(harness, viewer, target, ONLY)
        assert body["data"]["person"]["pregnancy"] is None
        assert [e["extensions"]["reason"] for e in body["errors"]] == [reason]


async def test_partner_scope(harness: Harness) -> None:
    anna = await person_id(harness, "anna")
    body = (await harness.query("anna", ONLY, {"id": anna})).json()
    assert body["data"]["person"]["pregnancy"]["estimatedDueDate"]
    token = harness.token("anna", act={"client_id": "partner-x"}, scope="helsegraf:results.read")
    from gateway.persisted import document_hash

    response = await harness.client.post(
        "/graphql",
        json={"documentId": f"sha256:{document_hash(PREGNANCY)}", "variables": {"id": anna}},
        headers={"authorization": f"Bearer {token}"},
    )
    denied = response.json()
    assert denied["data"]["person"]["pregnancy"] is None
    token = harness.token("anna", act={"client_id": "partner-x"}, scope="helsegraf:pregnancy.read")
    response = await harness.client.post(
        "/graphql",
        json={"documentId": f"sha256:{document_hash(PREGNANCY)}", "variables": {"id": anna}},
        headers={"authorization": f"Bearer {token}"},
    )
    allowed = response.json()
    assert allowed["data"]["person"]["pregnancy"]["week"] == 24
    assert allowed["data"]["person"]["pregnancy"]["documents"] == []  # no documents scope


async def test_reading_is_audited(harness: Harness) -> None:
    audit = harness.app_services.audit
    before = (await audit.head())[0]
    assert "errors" not in await ask(harness, "anna", "anna", ONLY)
    entries = [r.entry async for r in audit.records() if r.seq > before]
    assert len(entries) == 1
    assert entries[0].categories == ("pregnancy",)
    assert any(r.startswith("EHR/EpisodeOfCare/") for r in entries[0].resources)
