"""Queries and helpers shared by the messaging e2e tests."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Harness

SEND = """
mutation($input: SendMessageInput!) {
  sendMessage(input: $input) {
    message { id threadId subject text fromPerson counterpartKind source { kind municipality } }
    userErrors { field code message }
  }
}
"""
MARK = """
mutation($input: MarkMessagesReadInput!) {
  markMessagesRead(input: $input) {
    messages { id read }
    userErrors { field code message }
  }
}
"""
INBOX = """query($id: ID!) { person(id: $id) {
  unreadMessageCount
  messages(first: 100) { totalCount edges { node {
    id threadId subject text read fromPerson counterpart counterpartKind
    source { kind municipality } } } } } }"""
THREADS = """query($id: ID!, $filter: ThreadFilter) { person(id: $id) {
  unreadMessageCount
  threads(first: 20, filter: $filter) { totalCount edges { node {
    id subject counterpart counterpartKind lastMessageAt unreadCount messageCount
    source { kind municipality }
    messages(first: 20) { totalCount edges { node { id sentAt text read fromPerson } } }
  } } } } }"""
RECIPIENTS = """query($id: ID!) { person(id: $id) {
  messageRecipients { id name kind source { kind municipality } } } }"""


def person_id(harness: Harness, persona: str) -> str:
    return harness.app_services.ids.person_id(harness.mocks.population.persona(persona).nin)


async def ok(harness: Harness, viewer: str, query: str, variables: dict[str, Any]) -> Any:
    """The data of a query that must not have errors."""
    body = (await harness.query(viewer, query, variables)).json()
    assert "errors" not in body, body["errors"]
    return body["data"]


async def send(harness: Harness, viewer: str, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await ok(harness, viewer, SEND, {"input": fields}))["sendMessage"]
    return payload


async def mark(harness: Harness, viewer: str, **fields: Any) -> dict[str, Any]:
    data = await ok(harness, viewer, MARK, {"input": fields})
    payload: dict[str, Any] = data["markMessagesRead"]
    return payload


async def inbox(harness: Harness, viewer: str, target: str) -> dict[str, Any]:
    person: dict[str, Any] = (await ok(harness, viewer, INBOX, {"id": target}))["person"]
    return person


async def messages(harness: Harness, viewer: str, target: str) -> list[dict[str, Any]]:
    return [e["node"] for e in (await inbox(harness, viewer, target))["messages"]["edges"]]


async def threads(
    harness: Harness, viewer: str, target: str, filter: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    data = await ok(harness, viewer, THREADS, {"id": target, "filter": filter})
    return [e["node"] for e in data["person"]["threads"]["edges"]]


async def recipients(harness: Harness, viewer: str, target: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await ok(harness, viewer, RECIPIENTS, {"id": target}))["person"][
        "messageRecipients"
    ]
    return found


async def recipient(harness: Harness, viewer: str, target: str, kind: str) -> dict[str, Any]:
    return next(r for r in await recipients(harness, viewer, target) if r["kind"] == kind)


def codes(payload: dict[str, Any]) -> list[tuple[list[str], str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def writes(harness: Harness) -> list[Any]:
    """The audit trail's successful write entries so far."""
    return [
        r.entry
        async for r in harness.app_services.audit.records()
        if r.entry.action == "write" and r.entry.outcome == "success"
    ]
