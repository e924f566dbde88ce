"""Journal requests: the list, filing one (validated, idempotent, audited), bases, node ids."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Harness
from tests.e2e.test_matrix import person_id

LIST = """
query($id: ID!) { person(id: $id) { journalRequests(first: 20) {
  totalCount
  edges { node { id kind kindText status statusText requestedAt periodFrom periodTo message } }
} } }
"""
REQUEST = """
mutation($input: RequestJournalAccessInput!) { requestJournalAccess(input: $input) {
  journalRequest { id kind status statusText periodFrom periodTo message }
  userErrors { field code message }
} }
"""
NODE = "query($id: ID!) { node(id: $id) { id ... on JournalRequest { kind status } } }"


async def listed(harness: Harness, viewer: str, target: str) -> dict[str, Any]:
    body: dict[str, Any] = (
        await harness.query(
            viewer,
            LIST,
            {"id": await person_id(harness, target)},
            headers={"accept-language": "en"},
        )
    ).json()
    return body


async def request(
    harness: Harness, viewer: str, target: str, *, language: str = "en", **fields: Any
) -> dict[str, Any]:
    variables = {"input": {"personId": await person_id(harness, target), **fields}}
    body: dict[str, Any] = (
        await harness.query(viewer, REQUEST, variables, headers={"accept-language": language})
    ).json()
    assert "errors" not in body, body["errors"]
    payload: dict[str, Any] = body["data"]["requestJournalAccess"]
    return payload


def requests_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["node"] for e in body["data"]["person"]["journalRequests"]["edges"]]


async def test_a_request_is_filed_once_and_listed_first(harness: Harness) -> None:
    before = requests_of(await listed(harness, "kari", "kari"))
    assert [(r["status"], r["statusText"]) for r in before] == [("COMPLETED", "Completed")]
    fields: dict[str, Any] = {
        "kind": "COPY",
        "period": {"from": "2020-01-01", "to": "2021-12-31"},
        "message": "Til ny fastlege.",
        "idempotencyKey": "journal-request-01",
    }
    first = await request(harness, "kari", "kari", **fields)
    again = await request(harness, "kari", "kari", **fields)
    assert first["userErrors"] == []
    assert again == first
    made = first["journalRequest"]
    assert (made["kind"], made["status"], made["statusText"]) == ("COPY", "REQUESTED", "Requested")
    assert (made["periodFrom"], made["periodTo"]) == ("2020-01-01", "2021-12-31")
    after = requests_of(await listed(harness, "kari", "kari"))
    assert len(after) == 2  # the retry wrote nothing upstream
    assert after[0]["id"] == made["id"]
    assert after[0]["message"] == "Til ny fastlege."
    body = (await harness.query("kari", NODE, {"id": made["id"]})).json()
    assert body["data"]["node"] == {"id": made["id"], "kind": "COPY", "status": "REQUESTED"}


async def test_the_same_key_with_other_input_is_refused(harness: Harness) -> None:
    await request(harness, "kari", "kari", kind="COPY", idempotencyKey="journal-request-02")
    second = await request(
        harness, "kari", "kari", kind="ACCESS", idempotencyKey="journal-request-02"
    )
    assert second["journalRequest"] is None
    assert [(e["field"], e["code"]) for e in second["userErrors"]] == [
        (["idempotencyKey"], "KEY_REUSED")
    ]


async def test_invalid_input_names_each_field_in_the_callers_language(harness: Harness) -> None:
    payload = await request(
        harness,
        "kari",
        "kari",
        language="nn",
        kind="CORRECTION",
        period={"from": "2024-01-01", "to": "2023-01-01"},
        idempotencyKey="short",
    )
    assert payload["journalRequest"] is None
    errors = {e["field"][0]: (e["code"], e["message"]) for e in payload["userErrors"]}
    assert errors["idempotencyKey"][0] == "INVALID"
    assert errors["message"] == ("REQUIRED", "Feltet må fyllast ut.")
    assert errors["period"][0] == "INVALID"


async def test_who_may_file_and_read_requests(harness: Harness) -> None:
    emil = await request(harness, "kari", "emil", kind="ACCESS", idempotencyKey="journal-emil-01")
    assert emil["userErrors"] == []
    assert requests_of(await listed(harness, "kari", "emil"))[0]["status"] == "REQUESTED"
    ola = await request(harness, "kari", "ola", kind="COPY", idempotencyKey="journal-ola-0001")
    assert ola["userErrors"] == []
    for viewer, target in (("kari", "ida"), ("nils", "berit"), ("nils", "arne")):
        refused = await request(
            harness, viewer, target, kind="COPY", idempotencyKey=f"journal-{target}-01"
        )
        assert refused["journalRequest"] is None
        assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
            (["personId"], "CATEGORY_UNAVAILABLE")
        ], target
    ida = await listed(harness, "kari", "ida")
    assert ida["data"]["person"]["journalRequests"] is None
    assert ida["errors"][0]["extensions"]["reason"] == "CHILD_12_15"


async def test_the_write_is_audited(harness: Harness) -> None:
    audit = harness.app_services.audit
    before = (await audit.head())[0]
    made = await request(harness, "kari", "ola", kind="ACCESS", idempotencyKey="journal-audit-01")
    writes = [
        r.entry async for r in audit.records() if r.seq > before and r.entry.action == "write"
    ]
    assert [(e.basis, e.categories) for e in writes] == [("PROXY", ("journal_requests",))]
    assert writes[0].resources[0].startswith("EHR/Task/")
    assert made["journalRequest"]["status"] == "REQUESTED"
