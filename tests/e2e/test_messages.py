"""sendMessage: validation, idempotency, acting for someone, and the next read."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Harness

SEND = """
mutation($input: SendMessageInput!) {
  sendMessage(input: $input) {
    message { id threadId subject text fromPerson }
    userErrors { field code message }
  }
}
"""
INBOX = """query($id: ID!) { person(id: $id) {
  messages(first: 100) { totalCount edges { node { id subject text } } } } }"""


def person_id(harness: Harness, persona: str) -> str:
    return harness.app_services.ids.person_id(harness.mocks.population.persona(persona).nin)


async def send(harness: Harness, viewer: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = (await harness.query(viewer, SEND, {"input": fields})).json()
    assert "errors" not in body, body["errors"]
    payload: dict[str, Any] = body["data"]["sendMessage"]
    return payload


async def test_a_sent_message_is_in_the_next_read_once_however_often_retried(
    harness: Harness,
) -> None:
    target = person_id(harness, "kari")
    fields = {
        "personId": target,
        "subject": "Spørsmål",
        "text": "Kan jeg flytte timen?",
        "idempotencyKey": "retry-test-0001",
    }
    first = await send(harness, "kari", **fields)
    again = await send(harness, "kari", **fields)
    assert first["userErrors"] == []
    assert again["message"] == first["message"]
    assert first["message"]["fromPerson"] is True
    inbox = (await harness.query("kari", INBOX, {"id": target})).json()
    texts = [e["node"]["text"] for e in inbox["data"]["person"]["messages"]["edges"]]
    assert texts.count("Kan jeg flytte timen?") == 1


async def test_a_reused_key_with_other_content_is_refused(harness: Harness) -> None:
    target = person_id(harness, "kari")
    await send(
        harness, "kari", personId=target, subject="A", text="Første", idempotencyKey="reused-key-01"
    )
    second = await send(
        harness, "kari", personId=target, subject="A", text="Andre", idempotencyKey="reused-key-01"
    )
    assert second["message"] is None
    assert [(e["field"], e["code"]) for e in second["userErrors"]] == [
        (["idempotencyKey"], "KEY_REUSED")
    ]


async def test_invalid_input_names_each_field_in_the_callers_language(harness: Harness) -> None:
    target = person_id(harness, "kari")
    body = (
        await harness.query(
            "kari",
            SEND,
            {
                "input": {
                    "personId": target,
                    "text": "  ",
                    "subject": "x" * 201,
                    "idempotencyKey": "short",
                }
            },
            headers={"accept-language": "en"},
        )
    ).json()
    errors = body["data"]["sendMessage"]["userErrors"]
    assert {(tuple(e["field"]), e["code"]) for e in errors} == {
        (("text",), "REQUIRED"),
        (("subject",), "TOO_LONG"),
        (("idempotencyKey",), "INVALID"),
    }
    assert all(e["message"] and not e["message"].startswith("error.") for e in errors)


async def test_a_proxy_writes_into_the_grantors_inbox_and_is_audited(harness: Harness) -> None:
    target = person_id(harness, "ola")
    payload = await send(
        harness,
        "kari",
        personId=target,
        subject="Fra Kari",
        text="Jeg følger opp for pappa.",
        idempotencyKey="proxy-send-01",
    )
    assert payload["userErrors"] == []
    inbox = (await harness.query("ola", INBOX, {"id": target})).json()
    assert "Jeg følger opp for pappa." in [
        e["node"]["text"] for e in inbox["data"]["person"]["messages"]["edges"]
    ]
    writes = [
        r.entry async for r in harness.app_services.audit.records() if r.entry.action == "write"
    ]
    assert [(w.basis, w.categories, w.outcome) for w in writes] == [
        ("PROXY", ("messages",), "success")
    ]


async def test_someone_out_of_reach_gets_a_user_error_and_nothing_is_sent(
    harness: Harness,
) -> None:
    before = harness.mocks.ehr.total
    payload = await send(
        harness,
        "kari",
        personId=person_id(harness, "per"),
        subject="Hei",
        text="Hei",
        idempotencyKey="forbidden-01",
    )
    assert payload["message"] is None
    assert [e["code"] for e in payload["userErrors"]] == ["FORBIDDEN"]
    assert harness.mocks.ehr.total == before


async def test_a_message_a_parent_sends_is_not_shown_to_the_young_person(
    harness: Harness,
) -> None:
    ida = person_id(harness, "ida")
    sent = await send(
        harness,
        "kari",
        personId=ida,
        subject="Fra mamma",
        text="Kan helsesykepleier ringe meg?",
        idempotencyKey="parent-send-1",
    )
    assert sent["userErrors"] == []
    as_parent = (await harness.query("kari", INBOX, {"id": ida})).json()
    as_youth = (await harness.query("ida", INBOX, {"id": ida})).json()
    texts = {e["node"]["text"] for e in as_parent["data"]["person"]["messages"]["edges"]}
    assert "Kan helsesykepleier ringe meg?" in texts
    youth = as_youth["data"]["person"]["messages"]
    assert "Kan helsesykepleier ringe meg?" not in {e["node"]["text"] for e in youth["edges"]}
    assert youth["totalCount"] == len(youth["edges"])
