"""The medication list as a Node with origin and confirmation; adding a medicine and
commenting on one (validated, idempotent, audited, shown in the next read)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.persisted import OPERATIONS_DIR, document_hash
from sources.ehr import EhrClient
from sources.errors import UpstreamConflict
from tests.e2e.conftest import Harness
from tests.e2e.test_matrix import person_id

LIST = """
query($id: ID!) { person(id: $id) { medications {
  id name atc origin originText confirmation packageLeafletUrl
  comments { text origin at }
  entriesBySource { origin confirmation source { kind } }
} } }
"""
ADD = """
mutation($input: AddMedicationInput!) { addMedication(input: $input) {
  medication { id name origin confirmation confirmationText dosage startedOn }
  userErrors { field code message }
} }
"""
COMMENT = """
mutation($input: CommentOnMedicationInput!) { commentOnMedication(input: $input) {
  medication { id comments { text origin } }
  userErrors { field code message }
} }
"""
ADD_OPERATION = (OPERATIONS_DIR / "add_medication.graphql").read_text(encoding="utf-8")
NODE = "query($id: ID!) { node(id: $id) { id ... on Medication { name origin } } }"


async def medicines(harness: Harness, viewer: str, target: str) -> list[dict[str, Any]]:
    body = (
        await harness.query(
            viewer,
            LIST,
            {"id": await person_id(harness, target)},
            headers={"accept-language": "en"},
        )
    ).json()
    assert "errors" not in body, body["errors"]
    found: list[dict[str, Any]] = body["data"]["person"]["medications"]
    return found


async def mutate(
    harness: Harness, viewer: str, document: str, *, language: str = "en", **fields: Any
) -> dict[str, Any]:
    body = (
        await harness.query(
            viewer, document, {"input": fields}, headers={"accept-language": language}
        )
    ).json()
    assert "errors" not in body, body["errors"]
    payload: dict[str, Any] = next(iter(body["data"].values()))
    return payload


async def test_entries_carry_origin_confirmation_and_a_leaflet_link(harness: Harness) -> None:
    found = await medicines(harness, "kari", "kari")
    assert found
    for medicine in found:
        assert medicine["confirmation"] == "CONFIRMED"
        assert medicine["origin"] in ("PRESCRIPTION", "CLINICIAN")
        assert medicine["packageLeafletUrl"] == (
            f"https://www.felleskatalogen.no/medisin/atc-register/{medicine['atc']}"
        )
        kinds = {e["source"]["kind"]: e["origin"] for e in medicine["entriesBySource"]}
        assert kinds.get("NATIONAL", "PRESCRIPTION") == "PRESCRIPTION"
        assert kinds.get("EHR", "CLINICIAN") == "CLINICIAN"
    body = (await harness.query("kari", NODE, {"id": found[0]["id"]})).json()
    assert body["data"]["node"] == {
        "id": found[0]["id"],
        "name": found[0]["name"],
        "origin": found[0]["origin"],
    }


async def test_an_added_medicine_is_reported_and_unconfirmed_once(harness: Harness) -> None:
    kari = await person_id(harness, "kari")
    fields = {
        "personId": kari,
        "name": "Vitamin D",
        "strength": "10 mikrog",
        "dosage": "1 tablett daglig",
        "startedOn": "2026-01-05",
        "idempotencyKey": "add-medicine-01",
    }
    first = await mutate(harness, "kari", ADD, **fields)
    again = await mutate(harness, "kari", ADD, **fields)
    assert first["userErrors"] == []
    assert again == first
    added = first["medication"]
    assert (added["name"], added["origin"], added["confirmation"]) == (
        "Vitamin D 10 mikrog",
        "REPORTED_BY_PATIENT",
        "UNCONFIRMED",
    )
    assert added["confirmationText"] == "Not yet confirmed by a clinician"
    listed = [m for m in await medicines(harness, "kari", "kari") if m["name"] == added["name"]]
    assert len(listed) == 1
    assert listed[0]["id"] == added["id"]
    assert listed[0]["packageLeafletUrl"] is None
    reused = await mutate(harness, "kari", ADD, **{**fields, "dosage": "2 tabletter"})
    assert [(e["field"], e["code"]) for e in reused["userErrors"]] == [
        (["idempotencyKey"], "KEY_REUSED")
    ]


async def test_invalid_additions_name_each_field_in_the_callers_language(
    harness: Harness,
) -> None:
    payload = await mutate(
        harness,
        "kari",
        ADD,
        language="nn",
        personId=await person_id(harness, "kari"),
        name=" ",
        reason="x" * 501,
        startedOn="2027-01-01",
        idempotencyKey="add-medicine-02",
    )
    assert payload["medication"] is None
    errors = {e["field"][0]: (e["code"], e["message"]) for e in payload["userErrors"]}
    assert errors == {
        "name": ("REQUIRED", "Feltet må fyllast ut."),
        "reason": ("TOO_LONG", errors["reason"][1]),
        "startedOn": ("DATE_IN_FUTURE", "Datoen kan ikkje vere fram i tid."),
    }


async def test_a_comment_is_stored_once_and_shown_in_the_next_read(harness: Harness) -> None:
    audit = harness.app_services.audit
    found = await medicines(harness, "kari", "ola")  # as full proxy
    target = next(
        m for m in found if any(e["source"]["kind"] == "EHR" for e in m["entriesBySource"])
    )
    before = (await audit.head())[0]
    fields = {
        "personId": await person_id(harness, "ola"),
        "medicationId": target["id"],
        "text": "Tar den om kvelden.",
        "idempotencyKey": "comment-medicine-01",
    }
    first = await mutate(harness, "kari", COMMENT, **fields)
    again = await mutate(harness, "kari", COMMENT, **fields)
    assert first["userErrors"] == []
    assert again == first
    assert first["medication"]["comments"] == [{"text": "Tar den om kvelden.", "origin": "PATIENT"}]
    writes = [
        r.entry async for r in audit.records() if r.seq > before and r.entry.action == "write"
    ]
    # one write record per request (the retry is recorded too), naming the statement
    assert [(e.basis, e.categories) for e in writes] == [("PROXY", ("prescriptions",))] * 2
    assert writes[0].resources == writes[1].resources
    assert writes[0].resources[0].startswith("EHR/MedicationStatement/")
    after = {m["id"]: m for m in await medicines(harness, "ola", "ola")}
    assert [c["text"] for c in after[target["id"]]["comments"]] == ["Tar den om kvelden."]
    assert after[target["id"]]["comments"][0]["at"]


async def test_comments_need_a_medicine_of_this_person_in_the_record(harness: Harness) -> None:
    kari = await person_id(harness, "kari")
    national_only = [
        m
        for m in await medicines(harness, "kari", "kari")
        if {e["source"]["kind"] for e in m["entriesBySource"]} == {"NATIONAL"}
    ]
    olas = (await medicines(harness, "ola", "ola"))[0]["id"]
    cases = [("not-an-id", "INVALID"), (olas, "INVALID")]
    cases += [(m["id"], "MEDICATION_NOT_IN_RECORD") for m in national_only[:1]]
    for n, (medication_id, code) in enumerate(cases):
        payload = await mutate(
            harness,
            "kari",
            COMMENT,
            personId=kari,
            medicationId=medication_id,
            text="Hei",
            idempotencyKey=f"comment-invalid-{n:02d}",
        )
        assert payload["medication"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["medicationId"], code)
        ]


async def test_who_may_change_the_list(harness: Harness) -> None:
    for viewer, target in (("nils", "berit"), ("nils", "arne"), ("kari", "emil"), ("kari", "ida")):
        payload = await mutate(
            harness,
            viewer,
            ADD,
            personId=await person_id(harness, target),
            name="Paracet",
            idempotencyKey=f"add-{target}-0001",
        )
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["personId"], "CATEGORY_UNAVAILABLE")
        ], target


async def test_a_reserved_prescription_stays_hidden_from_guardians(harness: Harness) -> None:
    as_parent = await medicines(harness, "kari", "ida")
    ida = harness.mocks.population.persona("ida").nin
    reserved = [
        use for use in harness.mocks.store.record(ida).medications if use.reserved_from_guardians
    ]
    assert reserved
    names = {m["name"] for m in as_parent}
    assert not {use.name for use in reserved} & names
    assert as_parent  # the rest are shown


async def test_a_comment_that_keeps_conflicting_is_a_user_error_and_may_be_retried(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def conflict(self: EhrClient, resource: dict[str, Any], patient_id: str) -> Any:
        raise UpstreamConflict("EHR", "update MedicationStatement", "HTTP 412")

    kari = await person_id(harness, "kari")
    found = await medicines(harness, "kari", "kari")
    target = next(
        m for m in found if any(e["source"]["kind"] == "EHR" for e in m["entriesBySource"])
    )
    fields = {
        "personId": kari,
        "medicationId": target["id"],
        "text": "Bivirkninger?",
        "idempotencyKey": "comment-conflict-01",
    }
    with monkeypatch.context() as patched:
        patched.setattr(EhrClient, "update", conflict)
        refused = await mutate(harness, "kari", COMMENT, **fields)
    assert refused["medication"] is None
    assert [(e["field"], e["code"], e["message"]) for e in refused["userErrors"]] == [
        (
            ["medicationId"],
            "MEDICATION_CHANGED",
            "The medicine was changed at the same time. Please try again.",
        )
    ]
    retried = await mutate(harness, "kari", COMMENT, **fields)
    assert retried["userErrors"] == []
    assert [c["text"] for c in retried["medication"]["comments"]] == ["Bivirkninger?"]


async def _as_partner(harness: Harness, scope: str, fields: dict[str, Any]) -> dict[str, Any]:
    token = harness.token("kari", act={"client_id": "partner-x"}, scope=scope)
    response = await harness.client.post(
        "/graphql",
        json={
            "documentId": f"sha256:{document_hash(ADD_OPERATION)}",
            "variables": {"input": fields},
        },
        headers={"authorization": f"Bearer {token}"},
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    payload: dict[str, Any] = body["data"]["addMedication"]
    return payload


async def test_partners_add_medicines_only_with_the_write_scope(harness: Harness) -> None:
    fields = {"personId": await person_id(harness, "kari"), "name": "Tran"}
    read_only = await _as_partner(
        harness, "helsegraf:prescriptions.read", {**fields, "idempotencyKey": "partner-add-01"}
    )
    assert [(e["field"], e["code"]) for e in read_only["userErrors"]] == [
        (["personId"], "CATEGORY_UNAVAILABLE")
    ]
    allowed = await _as_partner(
        harness,
        "helsegraf:prescriptions.read helsegraf:prescriptions.write",
        {**fields, "idempotencyKey": "partner-add-02"},
    )
    assert allowed["userErrors"] == []
    assert allowed["medication"]["origin"] == "REPORTED_BY_PATIENT"
