"""Conversations: grouping, order, counts, filters, node(id:), replies and the thread screen."""

from __future__ import annotations

from typing import Any

from gateway.persisted import OPERATIONS_DIR
from tests.e2e.conftest import Harness
from tests.e2e.messaging import (
    inbox,
    messages,
    ok,
    person_id,
    recipient,
    send,
    threads,
)

NODE = """query($id: ID!) { node(id: $id) {
  id
  ... on Message { text threadId }
  ... on MessageThread { subject messageCount }
} }"""


async def test_threads_group_every_message_newest_activity_first(harness: Harness) -> None:
    kari = person_id(harness, "kari")
    found = await threads(harness, "kari", kari)
    listed = await messages(harness, "kari", kari)
    assert len(found) >= 2
    last = [t["lastMessageAt"] for t in found]
    assert last == sorted(last, reverse=True)
    assert sum(t["messageCount"] for t in found) == len(listed)
    for thread in found:
        sent = [e["node"]["sentAt"] for e in thread["messages"]["edges"]]
        assert sent == sorted(sent)  # oldest first within a conversation
        assert sent[-1] == thread["lastMessageAt"]
        unread = sum(1 for e in thread["messages"]["edges"] if not e["node"]["read"])
        assert thread["unreadCount"] == unread
    by_thread = {m["threadId"] for m in listed}
    assert by_thread == {t["id"] for t in found}
    total = await inbox(harness, "kari", kari)
    assert sum(t["unreadCount"] for t in found) == total["unreadMessageCount"]


async def test_filters_by_counterpart_and_unread(harness: Harness) -> None:
    kari = person_id(harness, "kari")
    every = await threads(harness, "kari", kari)
    kinds = {t["counterpartKind"] for t in every}
    assert {"HOSPITAL", "MUNICIPALITY"} <= kinds
    for kind in ("HOSPITAL", "GP", "MUNICIPALITY"):
        chosen = await threads(harness, "kari", kari, {"counterpart": kind})
        assert [t["id"] for t in chosen] == [t["id"] for t in every if t["counterpartKind"] == kind]
    unread = await threads(harness, "kari", kari, {"unreadOnly": True})
    assert unread
    assert all(t["unreadCount"] > 0 for t in unread)
    assert len(unread) == sum(1 for t in every if t["unreadCount"] > 0)


async def test_a_reply_joins_the_thread_and_goes_to_its_counterpart(harness: Harness) -> None:
    kari = person_id(harness, "kari")
    hospital = await recipient(harness, "kari", kari, "HOSPITAL")
    started = await send(
        harness,
        "kari",
        personId=kari,
        recipientId=hospital["id"],
        subject="Ny samtale",
        text="Første melding",
        idempotencyKey="thread-start-1",
    )
    assert started["userErrors"] == []
    assert started["message"]["counterpartKind"] == "HOSPITAL"
    thread_id = started["message"]["threadId"]
    reply = await send(
        harness,
        "kari",
        personId=kari,
        threadId=thread_id,
        text="Et tillegg",
        idempotencyKey="thread-reply-1",
    )
    assert reply["userErrors"] == []
    assert reply["message"]["threadId"] == thread_id
    (thread,) = [t for t in await threads(harness, "kari", kari) if t["id"] == thread_id]
    assert thread["messageCount"] == 2
    assert thread["subject"] == "Ny samtale"
    assert thread["counterpart"] == hospital["name"]
    assert thread["counterpartKind"] == "HOSPITAL"
    texts = [e["node"]["text"] for e in thread["messages"]["edges"]]
    assert texts == ["Første melding", "Et tillegg"]


async def test_a_thread_id_of_someone_else_is_invalid(harness: Harness) -> None:
    kari, ola = person_id(harness, "kari"), person_id(harness, "ola")
    olas = (await threads(harness, "kari", ola))[0]["id"]
    reply = await send(
        harness, "kari", personId=kari, threadId=olas, text="Hei", idempotencyKey="wrong-thread-1"
    )
    assert reply["message"] is None
    assert [(e["field"], e["code"]) for e in reply["userErrors"]] == [(["threadId"], "INVALID")]


async def test_node_fetches_messages_and_threads_under_the_same_rules(harness: Harness) -> None:
    kari = person_id(harness, "kari")
    thread = (await threads(harness, "kari", kari))[0]
    message_id = thread["messages"]["edges"][0]["node"]["id"]
    found = (await ok(harness, "kari", NODE, {"id": thread["id"]}))["node"]
    assert (found["id"], found["messageCount"]) == (thread["id"], thread["messageCount"])
    found = (await ok(harness, "kari", NODE, {"id": message_id}))["node"]
    assert found["id"] == message_id
    assert found["threadId"] == thread["id"]
    for other in ("per", "frode"):
        body = (await harness.query(other, NODE, {"id": message_id})).json()
        assert body["data"]["node"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_a_kept_message_is_no_node_for_the_parent(harness: Harness) -> None:
    ida = person_id(harness, "ida")
    own = {m["id"] for m in await messages(harness, "ida", ida)}
    parents = {m["id"] for m in await messages(harness, "kari", ida)}
    hidden = own - parents
    assert hidden  # ida keeps a message from her guardians
    body = (await harness.query("kari", NODE, {"id": hidden.pop()})).json()
    assert body["data"]["node"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_the_thread_operation_opens_one_conversation(harness: Harness) -> None:
    kari = person_id(harness, "kari")
    thread = (await threads(harness, "kari", kari))[0]
    document = (OPERATIONS_DIR / "thread.graphql").read_text(encoding="utf-8")
    data: dict[str, Any] = await ok(harness, "kari", document, {"id": thread["id"]})
    opened = data["node"]
    assert opened["id"] == thread["id"]
    assert opened["messages"]["totalCount"] == thread["messageCount"]
    inbox_doc = (OPERATIONS_DIR / "inbox.graphql").read_text(encoding="utf-8")
    listed = await ok(harness, "kari", inbox_doc, {"id": kari})
    assert thread["id"] in {e["node"]["id"] for e in listed["person"]["threads"]["edges"]}


async def test_the_threads_shown_are_audited_with_their_messages(harness: Harness) -> None:
    audit = harness.app_services.audit
    before = (await audit.head())[0]
    only_threads = """query($id: ID!) { person(id: $id) { threads(first: 20) {
      edges { node { subject counterpart lastMessageAt unreadCount } } } } }"""
    data = await ok(harness, "kari", only_threads, {"id": person_id(harness, "kari")})
    assert data["person"]["threads"]["edges"]
    entries = [r.entry async for r in audit.records()][before:]
    references = {ref for e in entries for ref in e.resources}
    assert references
    assert all("/Communication/" in ref or "/message/" in ref for ref in references)
