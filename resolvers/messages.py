"""Messages between the person and their care providers."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from gateway.access import Subject
from gateway.context import Context
from gateway.ids import encode
from resolvers.common import PageInfo, Source, page, source
from resolvers.guard import require, served, visible, watch
from sources import models


@strawberry.type(description="One message to or from the person.")
class Message:
    record: strawberry.Private[models.Message]

    @strawberry.field(description="Opaque id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode("Message", "ehr", self.record.id))

    @strawberry.field(description="Opaque id of the conversation this message belongs to.")
    def thread_id(self) -> strawberry.ID | None:
        thread = self.record.thread_id
        return None if thread is None else strawberry.ID(encode("Thread", "ehr", thread))

    @strawberry.field(description="When it was sent.")
    def sent_at(self) -> dt.datetime | None:
        return self.record.sent_at

    @strawberry.field(description="True when the person (or someone acting for them) wrote it.")
    def from_person(self) -> bool:
        return self.record.from_patient

    @strawberry.field(description="The subject line.")
    def subject(self) -> str | None:
        return self.record.subject

    @strawberry.field(description="The message text.")
    def text(self) -> str:
        return self.record.text

    @strawberry.field(description="True once the person has read it.")
    def read(self) -> bool:
        return self.record.read

    @strawberry.field(description="The sender or office on the care side, when known.")
    def counterpart(self) -> str | None:
        return self.record.counterpart

    @strawberry.field(description="The system the message was read from.")
    def source(self, info: Info[Context, None]) -> Source:
        return source(self.record.source, info)


@strawberry.type(description="One message in a list, with its cursor.")
class MessageEdge:
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: Message = strawberry.field(description="The message.")


@strawberry.type(description="A page of messages, newest first.")
class MessageConnection:
    edges: list[MessageEdge] = strawberry.field(description="The messages on this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="How many messages the list holds.")


async def _visible_messages(info: Info[Context, None], subject: Subject) -> list[models.Message]:
    require(info, subject, "messages")
    ctx = info.context
    async with watch(info, subject, "messages"):
        patient = await ctx.ehr.patient_id(subject.nin)
        records = [] if patient is None else await ctx.ehr.messages(patient)
    return visible(info, subject, records, lambda m: m.security)


async def unread_message_count(info: Info[Context, None], subject: Subject) -> int:
    """Unread messages to the person that this view may see."""
    shown = await _visible_messages(info, subject)
    served(info, subject, "messages")
    return sum(1 for m in shown if not m.read and not m.from_patient)


async def messages_of(
    info: Info[Context, None], subject: Subject, first: int, after: str | None, unread_only: bool
) -> MessageConnection:
    """The person's messages, newest first."""
    shown = await _visible_messages(info, subject)
    if unread_only:
        shown = [m for m in shown if not m.read and not m.from_patient]
    chosen, page_info = page(shown, first, after)
    served(info, subject, "messages", (f"EHR/Communication/{m.id}" for _, m in chosen))
    return MessageConnection(
        edges=[MessageEdge(cursor=c, node=Message(record=m)) for c, m in chosen],
        page_info=page_info,
        total_count=len(shown),
    )
