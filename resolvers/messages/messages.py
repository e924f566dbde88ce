"""Messages between the person and their care providers: one inbox merged from the EHR
and, for municipalities not on the shared EHR, the municipality's messaging API."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from authz import filters
from authz.categories import Category
from resolvers.core.access import Subject
from resolvers.core.common import PageInfo, Source, gather_sources, page, path_of, source
from resolvers.core.context import Context
from resolvers.core.guard import require, served, visible, watch
from resolvers.core.i18n import add_texts
from resolvers.core.node import Node, fetches, node_id
from resolvers.core.routing import municipal_route
from sources import models
from sources.errors import UpstreamError

CATEGORY = Category.MESSAGES
EHR_SOURCE = "ehr"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

add_texts(
    {
        "error.RECIPIENT_NOT_ALLOWED": {
            "nb": "Du kan ikke skrive til denne mottakeren på vegne av denne personen.",
            "nn": "Du kan ikkje skrive til denne mottakaren på vegner av denne personen.",
            "en": "You may not write to this recipient on this person's behalf.",
        },
        "error.NOT_TO_PERSON": {
            "nb": "Bare meldinger til personen kan merkes som lest.",
            "nn": "Berre meldingar til personen kan merkast som lesne.",
            "en": "Only messages to the person can be marked as read.",
        },
        "error.CONFLICT": {
            "nb": "Meldingen ble endret samtidig. Prøv igjen.",
            "nn": "Meldinga vart endra samtidig. Prøv igjen.",
            "en": "The message changed meanwhile. Please try again.",
        },
    }
)


@strawberry.enum(description="Who is on the care side of a message or conversation.")
class CounterpartKind(Enum):
    HOSPITAL = strawberry.enum_value("HOSPITAL", description="A hospital department.")
    GP = strawberry.enum_value("GP", description="The regular GP's office (fastlegekontor).")
    MUNICIPALITY = strawberry.enum_value(
        "MUNICIPALITY", description="The municipality's health and care services."
    )


def source_key(ref: models.SourceRef) -> str:
    """The source part of an id: `ehr`, or `m` and the municipality code."""
    return EHR_SOURCE if ref.municipality is None else f"m{ref.municipality}"


def thread_key(record: models.Message) -> str:
    """The conversation a message belongs to (a message without one is its own)."""
    return record.thread_id or f"single-{record.id}"


@strawberry.type(description="One message to or from the person.")
class Message(Node):
    subject_: strawberry.Private[Subject]
    record: strawberry.Private[models.Message]

    @strawberry.field(description="Opaque global id (`node(id:)` fetches it again).")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        key = source_key(self.record.source)
        return node_id(info, self.subject_, "Message", key, self.record.id)

    @strawberry.field(description="Id of the conversation (`MessageThread`) it belongs to.")
    def thread_id(self, info: Info[Context, None]) -> strawberry.ID:
        key = source_key(self.record.source)
        return node_id(info, self.subject_, "MessageThread", key, thread_key(self.record))

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

    @strawberry.field(description="True once the person has read it (always true for their own).")
    def read(self) -> bool:
        return self.record.read

    @strawberry.field(
        description="The care-side sender or recipient (clinician, department, office), when known."
    )
    def counterpart(self) -> str | None:
        return self.record.counterpart

    @strawberry.field(description="Which kind of care provider is on the other side.")
    def counterpart_kind(self) -> CounterpartKind:
        return CounterpartKind(self.record.counterpart_kind)

    @strawberry.field(description="The system the message was read from.")
    def source(self, info: Info[Context, None]) -> Source:
        return source(self.record.source, info)


@strawberry.type(description="One message in a list, with its cursor.")
class MessageEdge:
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: Message = strawberry.field(description="The message.")


@strawberry.type(description="A page of messages.")
class MessageConnection:
    edges: list[MessageEdge] = strawberry.field(description="The messages on this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="How many messages the list holds.")


def unread(record: models.Message) -> bool:
    """A message to the person that they have not read."""
    return not record.read and not record.from_patient


async def _ehr(info: Info[Context, None], subject: Subject) -> list[models.Message]:
    ehr = info.context.ehr
    async with watch(info.context, subject, CATEGORY):
        patient = await ehr.patient_id(subject.nin)
        return [] if patient is None else await ehr.messages.of(patient)


async def _municipal(
    info: Info[Context, None], subject: Subject, municipality: str
) -> list[models.Message]:
    async with watch(info.context, subject, CATEGORY):
        return await info.context.municipal.messages.of(municipality, subject.nin)


async def inbox(info: Info[Context, None], subject: Subject) -> list[models.Message]:
    """Every message this view may see, newest first: the EHR's, and the municipality's
    own when it is not on the shared EHR (so nothing appears twice), with the kinds of
    care provider its grant reads (the youth basis: GP and municipality). A failing
    source is reported and the other still shows."""
    require(info.context, subject, CATEGORY)
    calls = [_ehr(info, subject)]
    try:
        route = await municipal_route(info, subject)
    except UpstreamError as failure:  # the registry is down: the EHR's messages still show
        info.context.report(failure, path_of(info))
    else:
        if route.api and route.municipality is not None:
            calls.append(_municipal(info, subject, route.municipality))
    found = [m for part in await gather_sources(info, calls) for m in part]
    policy = info.context.access.policy
    found = [m for m in found if filters.message_shown(policy, subject.view, m.counterpart_kind)]
    shown = visible(info.context, subject, found, lambda m: m.security)
    return sorted(shown, key=lambda m: (m.sent_at or EPOCH, m.id), reverse=True)


def references(records: list[models.Message]) -> list[str]:
    """The audit references of messages."""
    return [
        f"EHR/Communication/{m.id}"
        if m.source.municipality is None
        else f"MUNICIPAL {m.source.municipality}/message/{m.id}"
        for m in records
    ]


async def unread_message_count(info: Info[Context, None], subject: Subject) -> int:
    """Unread messages to the person that this view may see, over every source."""
    shown = await inbox(info, subject)
    served(info.context, subject, CATEGORY)
    return sum(1 for m in shown if unread(m))


async def messages_of(
    info: Info[Context, None], subject: Subject, first: int, after: str | None, unread_only: bool
) -> MessageConnection:
    """The person's messages, newest first."""
    shown = await inbox(info, subject)
    if unread_only:
        shown = [m for m in shown if unread(m)]
    chosen, page_info = page(shown, first, after)
    served(info.context, subject, CATEGORY, references([m for _, m in chosen]))
    return MessageConnection(
        edges=[MessageEdge(cursor=c, node=Message(subject_=subject, record=m)) for c, m in chosen],
        page_info=page_info,
        total_count=len(shown),
    )


@fetches("Message")
async def fetch_message(
    info: Info[Context, None], subject: Subject, source_id: str, upstream_id: str
) -> Message | None:
    """One message through the inbox's guarded path; None when absent or hidden."""
    found = next(
        (
            m
            for m in await inbox(info, subject)
            if m.id == upstream_id and source_key(m.source) == source_id
        ),
        None,
    )
    if found is None:
        return None
    served(info.context, subject, CATEGORY, references([found]))
    return Message(subject_=subject, record=found)
