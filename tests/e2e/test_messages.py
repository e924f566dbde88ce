"""sendMessage: validation, idempotency, acting for someone, and the next read."""

from __future__ import annotations

from gateway.persisted import OPERATIONS_DIR
from tests.e2e.conftest import Harness
from tests.e2e.messaging import (
    SEND,
    codes,
    messages,
    person_id,
    recipient,
    recipients,
    send,
    threads,
    writes,
)

INBOX = """query($id: ID!) { person(id: $id) {
  messages(first: 100) { totalCount edges { node { id subject text } } } } }"""


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


# -- recipients, the parent 12-15 rule, municipal routing ----------------------------------


async def test_recipients_are_gp_hospital_departments_and_the_municipality(
    harness: Harness,
) -> None:
    kari = person_id(harness, "kari")
    found = await recipients(harness, "kari", kari)
    kinds = [r["kind"] for r in found]
    assert kinds[0] == "GP"
    assert {"GP", "HOSPITAL", "MUNICIPALITY"} == set(kinds)
    assert kinds == sorted(kinds, key=["GP", "HOSPITAL", "MUNICIPALITY"].index)
    assert len({r["name"] for r in found}) == len(found)  # one entry per department
    (town,) = [r for r in found if r["kind"] == "MUNICIPALITY"]
    assert town["source"] == {"kind": "EHR", "municipality": None}  # Trondheim: shared EHR
    ola = await recipient(harness, "kari", person_id(harness, "ola"), "MUNICIPALITY")
    assert ola["source"] == {"kind": "MUNICIPAL", "municipality": "5037"}
    assert kari_nin(harness) not in str(found)


def kari_nin(harness: Harness) -> str:
    return harness.mocks.population.persona("kari").nin


async def test_a_parent_of_a_12_to_15_year_old_writes_only_to_gp_and_municipality(
    harness: Harness,
) -> None:
    ida, emil = person_id(harness, "ida"), person_id(harness, "emil")
    assert {r["kind"] for r in await recipients(harness, "kari", ida)} == {"GP", "MUNICIPALITY"}
    assert "HOSPITAL" in {r["kind"] for r in await recipients(harness, "kari", emil)}
    # a hospital department's recipient id (listed where the basis sees hospital care)
    hospital = await recipient(harness, "kari", emil, "HOSPITAL")
    refused = await send(
        harness,
        "kari",
        personId=ida,
        recipientId=hospital["id"],
        subject="Time",
        text="Kan vi flytte timen?",
        idempotencyKey="parent-hosp-01",
    )
    assert refused["message"] is None
    assert codes(refused) == [(["recipientId"], "RECIPIENT_NOT_ALLOWED")]
    hospital_thread = next(
        t for t in await threads(harness, "kari", ida) if t["counterpartKind"] == "HOSPITAL"
    )
    reply = await send(
        harness,
        "kari",
        personId=ida,
        threadId=hospital_thread["id"],
        text="Svar",
        idempotencyKey="parent-hosp-02",
    )
    assert codes(reply) == [(["threadId"], "RECIPIENT_NOT_ALLOWED")]
    gp = await recipient(harness, "kari", ida, "GP")
    sent = await send(
        harness,
        "kari",
        personId=ida,
        recipientId=gp["id"],
        subject="Til fastlegen",
        text="Ida trenger en time.",
        idempotencyKey="parent-gp-0001",
    )
    assert sent["userErrors"] == []
    assert sent["message"]["counterpartKind"] == "GP"
    assert "Ida trenger en time." not in {m["text"] for m in await messages(harness, "ida", ida)}
    youth_threads = {t["id"] for t in await threads(harness, "ida", ida)}
    assert sent["message"]["threadId"] not in youth_threads
    assert len(await writes(harness)) == 1


async def test_a_parent_of_a_young_child_may_write_to_the_hospital(harness: Harness) -> None:
    emil = person_id(harness, "emil")
    hospital = await recipient(harness, "kari", emil, "HOSPITAL")
    sent = await send(
        harness,
        "kari",
        personId=emil,
        recipientId=hospital["id"],
        subject="Emil",
        text="Spørsmål om Emil.",
        idempotencyKey="parent-young-01",
    )
    assert sent["userErrors"] == []
    assert sent["message"]["counterpartKind"] == "HOSPITAL"


async def test_a_recipient_not_listed_for_the_person_is_invalid(harness: Harness) -> None:
    kari, ola = person_id(harness, "kari"), person_id(harness, "ola")
    olas_town = await recipient(harness, "kari", ola, "MUNICIPALITY")
    payload = await send(
        harness,
        "kari",
        personId=kari,
        recipientId=olas_town["id"],
        subject="Hei",
        text="Hei",
        idempotencyKey="not-listed-01",
    )
    assert codes(payload) == [(["recipientId"], "INVALID")]
    both = await send(
        harness,
        "kari",
        personId=kari,
        recipientId=olas_town["id"],
        threadId=(await threads(harness, "kari", kari))[0]["id"],
        text="Hei",
        idempotencyKey="not-listed-02",
    )
    assert (["recipientId"], "INVALID") in codes(both)


async def test_municipal_messages_come_from_where_the_municipality_keeps_them(
    harness: Harness,
) -> None:
    ola = person_id(harness, "ola")
    record = harness.mocks.store.record(harness.mocks.population.persona("ola").nin)
    listed = await messages(harness, "kari", ola)
    municipal = [m for m in listed if m["source"]["kind"] == "MUNICIPAL"]
    assert len(municipal) == sum(1 for m in record.messages if m.system == "municipal")
    assert len(listed) == len(record.messages)  # each once, from one place
    assert {m["counterpartKind"] for m in municipal} == {"MUNICIPALITY"}
    kari = person_id(harness, "kari")
    harness.mocks.reset_counters()
    mine = await messages(harness, "kari", kari)
    assert len(mine) == len(harness.mocks.store.record(kari_nin(harness)).messages)
    trondheim = harness.mocks.municipal["5001"].requests
    assert not [k for k in trondheim if "messages" in k]


async def test_a_message_to_a_municipality_with_its_own_api_is_sent_there_once(
    harness: Harness,
) -> None:
    ola = person_id(harness, "ola")
    town = await recipient(harness, "kari", ola, "MUNICIPALITY")
    fields = {
        "personId": ola,
        "recipientId": town["id"],
        "subject": "Hjemmetjenesten",
        "text": "Pappa trenger hjelp med strømpene.",
        "idempotencyKey": "muni-send-0001",
    }
    ehr_before = harness.mocks.ehr.requests.copy()
    first = await send(harness, "kari", **fields)
    again = await send(harness, "kari", **fields)
    assert first["userErrors"] == []
    assert again["message"] == first["message"]
    assert first["message"]["source"] == {"kind": "MUNICIPAL", "municipality": "5037"}
    assert not [
        k
        for k in harness.mocks.ehr.requests - ehr_before
        if k.startswith("POST /ehr/fhir/R4/Communication")
    ]
    texts = [m["text"] for m in await messages(harness, "ola", ola)]
    assert texts.count("Pappa trenger hjelp med strømpene.") == 1
    reply = await send(
        harness,
        "kari",
        personId=ola,
        threadId=first["message"]["threadId"],
        text="Og med medisinene.",
        idempotencyKey="muni-send-0002",
    )
    assert reply["message"]["threadId"] == first["message"]["threadId"]
    (thread,) = [
        t for t in await threads(harness, "ola", ola) if t["id"] == reply["message"]["threadId"]
    ]
    assert thread["messageCount"] == 2
    assert thread["source"] == {"kind": "MUNICIPAL", "municipality": "5037"}


async def test_read_only_and_communicate_only_proxies_and_partners_sending(
    harness: Harness,
) -> None:
    arne, solveig = person_id(harness, "arne"), person_id(harness, "solveig")
    refused = await send(
        harness, "nils", personId=arne, subject="Hei", text="Hei", idempotencyKey="ro-send-01"
    )
    assert codes(refused) == [(["personId"], "CATEGORY_UNAVAILABLE")]
    allowed = await send(
        harness, "nils", personId=solveig, subject="Hei", text="Hei", idempotencyKey="co-send-01"
    )
    assert allowed["userErrors"] == []
    kari = person_id(harness, "kari")
    document = (OPERATIONS_DIR / "send_message.graphql").read_text(encoding="utf-8")
    variables = {
        "input": {
            "personId": kari,
            "subject": "Fra partner",
            "text": "Hei",
            "idempotencyKey": "partner-send-1",
        }
    }
    partner = {"act": {"client_id": "partner-portal-x"}}
    body = (
        await harness.query("kari", document, variables, scope="helsegraf:messages.read", **partner)
    ).json()
    assert codes(body["data"]["sendMessage"]) == [(["personId"], "CATEGORY_UNAVAILABLE")]
    scopes = "helsegraf:messages.read helsegraf:messages.write"
    body = (await harness.query("kari", document, variables, scope=scopes, **partner)).json()
    assert body["data"]["sendMessage"]["userErrors"] == []
    assert [e.basis for e in await writes(harness)] == ["PROXY", "PARTNER"]


async def test_user_errors_in_nynorsk(harness: Harness) -> None:
    ida = person_id(harness, "ida")
    hospital = await recipient(harness, "kari", person_id(harness, "emil"), "HOSPITAL")
    body = (
        await harness.query(
            "kari",
            SEND,
            {
                "input": {
                    "personId": ida,
                    "recipientId": hospital["id"],
                    "subject": "Hei",
                    "text": "Hei",
                    "idempotencyKey": "nynorsk-01",
                }
            },
            headers={"accept-language": "nn"},
        )
    ).json()
    (error,) = body["data"]["sendMessage"]["userErrors"]
    assert error["field"] == ["recipientId"]
    assert (
        error["message"] == "Du kan ikkje skrive til denne mottakaren på vegner av denne personen."
    )


async def test_recipients_never_reveal_hospital_care_the_basis_hides(harness: Harness) -> None:
    """The youth basis does not include hospital appointments: the departments the young
    person visited are not listed as recipients either (nor the GP without `gp`)."""
    ida = person_id(harness, "ida")
    kinds = {r["kind"] for r in await recipients(harness, "ida", ida)}
    assert "HOSPITAL" not in kinds
    assert "GP" in kinds  # the youth basis reads `gp`
