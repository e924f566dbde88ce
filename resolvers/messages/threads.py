"""Conversations: the inbox grouped by thread, newest activity first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import strawberry
from strawberry.types import Info

from resolvers.core.access import Subject
from resolvers.core.common import PageInfo, Source, page, source
from resolvers.core.context import Context
from resolvers.core.guard import served
from resolvers.core.node import Node, fetches, node_id
from resolvers.messages.messages import (
    CATEGORY,
    EPOCH,
    CounterpartKind,
    Message,
    MessageConnection,
    MessageEdge,
    inbox,
    references,
    source_key,
    thread_key,
    unread,
)
from sources import models


@dataclass(frozen=True, slots=True)
class Conversation:
    """The visible messages of one thread, oldest first."""

    source_id: str
    key: str
    messages: tuple[models.Message, ...]

    @property
    def last(self) -> models.Message:
        return self.messages[-1]

    @property
    def care_side(self) -> models.Message:
        """The newest message naming the care-side party (replies go there)."""
        named = [m for m in self.messages if m.counterpart_key or m.counterpart]
        return named[-1] if named else self.last


def conversations(records: list[models.Message]) -> list[Conversation]:
    """Messages grouped by (source, thread), the thread with the newest message first."""
    groups: dict[tuple[str, str], list[models.Message]] = {}
    for record in records:
        groups.setdefault((source_key(record.source), thread_key(record)), []).append(record)
    found = [Conversation(src, key, _in_order(items)) for (src, key), items in groups.items()]
    return sorted(found, key=lambda c: (c.last.sent_at or EPOCH, c.key), reverse=True)


def _in_order(items: list[models.Message]) -> tuple[models.Message, ...]:
    """Oldest first; of messages sent in the same second, an answer after what it answers."""
    by_id = {m.id: m for m in items}

    def depth(message: models.Message) -> int:
        seen: set[str] = set()
        while message.in_response_to in by_id and message.id not in seen:
            seen.add(message.id)
            message = by_id[message.in_response_to]
        return len(seen)

    return tuple(sorted(items, key=lambda m: (m.sent_at or EPOCH, depth(m), m.id)))


async def conversation(
    info: Info[Context, None], subject: Subject, source_id: str, key: str
) -> Conversation | None:
    """One visible conversation of the subject; None when absent or hidden."""
    for found in conversations(await inbox(info, subject)):
        if found.source_id == source_id and found.key == key:
            return found
    return None


@strawberry.input(description="Which conversations to list.")
class ThreadFilter:
    unread_only: bool = strawberry.field(
        default=False, description="Only conversations with unread messages to the person."
    )
    counterpart: CounterpartKind | None = strawberry.field(
        default=None, description="Only conversations with this kind of care provider."
    )


@strawberry.type(description="A conversation between the person and one care provider.")
class MessageThread(Node):
    subject_: strawberry.Private[Subject]
    conversation: strawberry.Private[Conversation]

    @strawberry.field(description="Opaque global id (`node(id:)` fetches it again).")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        found = self.conversation
        return node_id(info, self.subject_, "MessageThread", found.source_id, found.key)

    @strawberry.field(description="The subject line the conversation started with.")
    def subject(self) -> str | None:
        return next((m.subject for m in self.conversation.messages if m.subject), None)

    @strawberry.field(description="The care provider on the other side (department, office).")
    def counterpart(self) -> str | None:
        return self.conversation.care_side.counterpart

    @strawberry.field(description="Which kind of care provider is on the other side.")
    def counterpart_kind(self) -> CounterpartKind:
        return CounterpartKind(self.conversation.care_side.counterpart_kind)

    @strawberry.field(description="When the newest message was sent.")
    def last_message_at(self) -> dt.datetime | None:
        return self.conversation.last.sent_at

    @strawberry.field(description="How many messages to the person are unread.")
    def unread_count(self) -> int:
        return sum(1 for m in self.conversation.messages if unread(m))

    @strawberry.field(description="How many messages the conversation holds.")
    def message_count(self) -> int:
        return len(self.conversation.messages)

    @strawberry.field(description="The system the conversation is kept in.")
    def source(self, info: Info[Context, None]) -> Source:
        return source(self.conversation.last.source, info)

    @strawberry.field(description="The messages, oldest first.")
    def messages(
        self, info: Info[Context, None], first: int = 50, after: str | None = None
    ) -> MessageConnection:
        items = self.conversation.messages
        chosen, page_info = page(items, first, after)
        served(info.context, self.subject_, CATEGORY, references([m for _, m in chosen]))
        return MessageConnection(
            edges=[
                MessageEdge(cursor=c, node=Message(subject_=self.subject_, record=m))
                for c, m in chosen
            ],
            page_info=page_info,
            total_count=len(items),
        )


@strawberry.type(description="One conversation in a list, with its cursor.")
class MessageThreadEdge:
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: MessageThread = strawberry.field(description="The conversation.")


@strawberry.type(description="A page of conversations, newest activity first.")
class MessageThreadConnection:
    edges: list[MessageThreadEdge] = strawberry.field(description="The conversations on this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="How many conversations the list holds.")


async def threads_of(
    info: Info[Context, None],
    subject: Subject,
    first: int,
    after: str | None,
    filter: ThreadFilter | None,
) -> MessageThreadConnection:
    """The person's conversations, newest activity first."""
    chosen_filter = filter or ThreadFilter()
    found = conversations(await inbox(info, subject))
    if chosen_filter.unread_only:
        found = [c for c in found if any(unread(m) for m in c.messages)]
    if chosen_filter.counterpart is not None:
        kind = chosen_filter.counterpart.name
        found = [c for c in found if c.care_side.counterpart_kind == kind]
    chosen, page_info = page(found, first, after)
    # a thread shows its subject, counterpart, dates and unread count: its messages
    served(info.context, subject, CATEGORY, references([m for _, t in chosen for m in t.messages]))
    return MessageThreadConnection(
        edges=[
            MessageThreadEdge(cursor=c, node=MessageThread(subject_=subject, conversation=t))
            for c, t in chosen
        ],
        page_info=page_info,
        total_count=len(found),
    )


@fetches("MessageThread")
async def fetch_thread(
    info: Info[Context, None], subject: Subject, source_id: str, upstream_id: str
) -> MessageThread | None:
    """One conversation through the inbox's guarded path; None when absent or hidden."""
    found = await conversation(info, subject, source_id, upstream_id)
    if found is None:
        return None
    served(info.context, subject, CATEGORY, references(list(found.messages)))
    return MessageThread(subject_=subject, conversation=found)
