"""markMessagesRead: who may, what may be marked, idempotency, audit and the next read."""

from __future__ import annotations

from typing import Any

from gateway.persisted import OPERATIONS_DIR
from tests.e2e.conftest import Harness
from tests.e2e.messaging import (
    MARK,
    codes,
    inbox,
    mark,
    messages,
    person_id,
    send,
    threads,
    writes,
)


async def unread_to(harness: Harness, viewer: str, target: str) -> list[dict[str, Any]]:
    return [m for m in await messages(harness, viewer, target) if not m["read"]]


async def test_marking_read_drops_the_unread_count_in_the_next_read(harness: Harness) -> None:
    kari = person_id(harness, "kari")
    before = await inbox(harness, "kari", kari)
    target = (await unread_to(harness, "kari", kari))[0]
    done = await mark(
        harness, "kari", personId=kari, messageIds=[target["id"]], idempotencyKey="mark-self-1"
    )
    assert done["userErrors"] == []
    assert done["messages"] == [{"id": target["id"], "read": True}]
    after = await inbox(harness, "kari", kari)
    assert after["unreadMessageCount"] == before["unreadMessageCount"] - 1
    (now,) = [m for m in after["messages"]["edges"] if m["node"]["id"] == target["id"]]
    assert now["node"]["read"] is True
    (entry,) = await writes(harness)
    assert (entry.basis, entry.categories, entry.outcome) == ("SELF", ("messages",), "success")
    assert entry.resources == (f"EHR/Communication/{_upstream(harness, target)}",)


def _upstream(harness: Harness, message: dict[str, Any]) -> str:
    from resolvers.core.ids import decode

    return decode(message["id"])[2].partition(".")[2]


async def test_a_whole_thread_is_marked_at_once(harness: Harness) -> None:
    kari = person_id(harness, "kari")
    thread = next(t for t in await threads(harness, "kari", kari) if t["unreadCount"] > 0)
    before = (await inbox(harness, "kari", kari))["unreadMessageCount"]
    done = await mark(
        harness, "kari", personId=kari, threadId=thread["id"], idempotencyKey="mark-thread-1"
    )
    assert done["userErrors"] == []
    assert len(done["messages"]) == thread["messageCount"] - sum(
        1 for e in thread["messages"]["edges"] if e["node"]["fromPerson"]
    )
    (again,) = [t for t in await threads(harness, "kari", kari) if t["id"] == thread["id"]]
    assert again["unreadCount"] == 0
    after = (await inbox(harness, "kari", kari))["unreadMessageCount"]
    assert after == before - thread["unreadCount"]


async def test_a_retry_marks_once_and_a_reused_key_is_refused(harness: Harness) -> None:
    kari = person_id(harness, "kari")
    first, second = (await unread_to(harness, "kari", kari))[:2]
    fields = {"personId": kari, "messageIds": [first["id"]], "idempotencyKey": "mark-retry-01"}
    one = await mark(harness, "kari", **fields)
    two = await mark(harness, "kari", **fields)
    assert one == two
    assert one["userErrors"] == []
    puts = sum(n for k, n in harness.mocks.ehr.requests.items() if k.startswith("PUT "))
    assert puts == 1  # the retry sent nothing upstream
    other = await mark(harness, "kari", **{**fields, "messageIds": [second["id"]]})
    assert codes(other) == [(["idempotencyKey"], "KEY_REUSED")]
    assert len(await writes(harness)) == 2  # the first and its retry; the refusal wrote nothing
    still = {m["id"] for m in await unread_to(harness, "kari", kari)}
    assert second["id"] in still
    assert first["id"] not in still


async def test_only_visible_messages_to_the_person_can_be_marked(harness: Harness) -> None:
    kari, ida, ola = (
        person_id(harness, "kari"),
        person_id(harness, "ida"),
        person_id(harness, "ola"),
    )
    own = next(m for m in await messages(harness, "kari", kari) if m["fromPerson"])
    someone_elses = (await messages(harness, "kari", ola))[0]
    kept = {m["id"] for m in await messages(harness, "ida", ida)} - {
        m["id"] for m in await messages(harness, "kari", ida)
    }
    done = await mark(
        harness,
        "kari",
        personId=kari,
        messageIds=[own["id"], someone_elses["id"]],
        idempotencyKey="mark-bad-01",
    )
    assert done["messages"] is None
    assert codes(done) == [(["messageIds", "0"], "NOT_TO_PERSON"), (["messageIds", "1"], "INVALID")]
    hidden = await mark(
        harness, "kari", personId=ida, messageIds=sorted(kept), idempotencyKey="mark-bad-02"
    )
    assert codes(hidden) == [(["messageIds", "0"], "INVALID")]
    assert await writes(harness) == []


async def test_user_errors_are_in_the_callers_language(harness: Harness) -> None:
    kari = person_id(harness, "kari")
    texts = {}
    for language in ("en", "nn", "nb"):
        body = (
            await harness.query(
                "kari",
                MARK,
                {"input": {"personId": kari, "idempotencyKey": "x"}},
                headers={"accept-language": language},
            )
        ).json()
        errors = body["data"]["markMessagesRead"]["userErrors"]
        assert [(e["field"], e["code"]) for e in errors] == [
            (["idempotencyKey"], "INVALID"),
            (["messageIds"], "REQUIRED"),
        ]
        texts[language] = errors[1]["message"]
    assert texts["en"] == "This field is required."
    assert len(set(texts.values())) == 3


async def test_a_parents_mark_is_audited_as_the_parents(harness: Harness) -> None:
    emil = person_id(harness, "emil")
    target = (await unread_to(harness, "kari", emil))[0]
    done = await mark(
        harness, "kari", personId=emil, messageIds=[target["id"]], idempotencyKey="mark-parent-1"
    )
    assert done["userErrors"] == []
    (entry,) = await writes(harness)
    kari_nin = harness.mocks.population.persona("kari").nin
    emil_nin = harness.mocks.population.persona("emil").nin
    assert (entry.actor, entry.subject, entry.basis) == (kari_nin, emil_nin, "PARENT")
    assert target["id"] not in {m["id"] for m in await unread_to(harness, "kari", emil)}


async def test_a_communicate_only_proxy_may_mark_a_read_only_proxy_may_not(
    harness: Harness,
) -> None:
    solveig, arne = person_id(harness, "solveig"), person_id(harness, "arne")
    target = next(m for m in await messages(harness, "nils", solveig) if not m["fromPerson"])
    done = await mark(
        harness, "nils", personId=solveig, messageIds=[target["id"]], idempotencyKey="mark-proxy-1"
    )
    assert done["userErrors"] == []
    assert done["messages"] == [{"id": target["id"], "read": True}]
    assert [e.basis for e in await writes(harness)] == ["PROXY"]
    arnes = (await messages(harness, "nils", arne))[0]
    refused = await mark(
        harness, "nils", personId=arne, messageIds=[arnes["id"]], idempotencyKey="mark-proxy-2"
    )
    assert codes(refused) == [(["personId"], "CATEGORY_UNAVAILABLE")]


async def test_municipal_messages_are_marked_in_the_municipality(harness: Harness) -> None:
    ola = person_id(harness, "ola")
    target = next(
        m for m in await unread_to(harness, "kari", ola) if m["source"]["kind"] == "MUNICIPAL"
    )
    calls = dict(harness.mocks.municipal["5037"].requests)
    done = await mark(
        harness, "kari", personId=ola, messageIds=[target["id"]], idempotencyKey="mark-muni-01"
    )
    assert done["userErrors"] == []
    assert harness.mocks.municipal["5037"].requests != calls
    assert target["id"] not in {m["id"] for m in await unread_to(harness, "ola", ola)}


async def test_partner_scopes_decide_reading_and_marking(harness: Harness) -> None:
    kari = person_id(harness, "kari")
    target = (await unread_to(harness, "kari", kari))[0]
    document = (OPERATIONS_DIR / "mark_messages_read.graphql").read_text(encoding="utf-8")
    variables = {
        "input": {
            "personId": kari,
            "messageIds": [target["id"]],
            "idempotencyKey": "partner-mark-1",
        }
    }
    partner = {"act": {"client_id": "partner-portal-x"}}
    read_only = (
        await harness.query("kari", document, variables, scope="helsegraf:messages.read", **partner)
    ).json()
    assert codes(read_only["data"]["markMessagesRead"]) == [(["personId"], "CATEGORY_UNAVAILABLE")]
    scopes = "helsegraf:messages.read helsegraf:messages.write"
    allowed = (await harness.query("kari", document, variables, scope=scopes, **partner)).json()
    assert allowed["data"]["markMessagesRead"]["userErrors"] == []
    (entry,) = await writes(harness)
    assert entry.basis == "PARTNER"


async def test_a_message_sent_then_answered_is_unread_until_marked(harness: Harness) -> None:
    kari = person_id(harness, "kari")
    sent = await send(
        harness, "kari", personId=kari, subject="Hei", text="Spørsmål", idempotencyKey="mark-own-01"
    )
    own = await mark(
        harness,
        "kari",
        personId=kari,
        messageIds=[sent["message"]["id"]],
        idempotencyKey="mark-own-02",
    )
    assert codes(own) == [(["messageIds", "0"], "NOT_TO_PERSON")]
