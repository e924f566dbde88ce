"""One timeline across every source: what happened, newest first, each event linking to
the entity it is about.

Each feature contributes events through `@contributes(kind, category)`: an async function
returning the person's events of that kind this view may see (not yet audited). The
timeline asks only the contributors whose category the viewer's basis may read — the
categories it lacks are in `Person.restrictions`, never reported again here — runs them
concurrently (a failing source is reported beside the data and costs only its events),
merges, filters and pages. Only the events on the page are audited, each under its
category.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from authz.categories import Category
from resolvers.core.access import Subject
from resolvers.core.common import PageInfo, Source, gather_sources, page
from resolvers.core.context import Context
from resolvers.core.guard import may, served
from resolvers.core.i18n import add_texts, text
from resolvers.core.node import Node
from resolvers.core.ranges import DateRange


@strawberry.enum(description="What a timeline event is about.")
class TimelineKind(Enum):
    APPOINTMENT = strawberry.enum_value("APPOINTMENT", description="An appointment.")
    MESSAGE = strawberry.enum_value("MESSAGE", description="A message sent or received.")
    DOCUMENT = strawberry.enum_value("DOCUMENT", description="A letter, summary or note.")
    LAB_RESULT = strawberry.enum_value("LAB_RESULT", description="A laboratory result.")
    VACCINATION = strawberry.enum_value("VACCINATION", description="A vaccination given.")
    CRITICAL_INFORMATION = strawberry.enum_value(
        "CRITICAL_INFORMATION", description="Critical information registered."
    )
    MEDICATION = strawberry.enum_value("MEDICATION", description="A medicine started.")
    REFERRAL = strawberry.enum_value("REFERRAL", description="A referral received.")
    QUESTIONNAIRE = strawberry.enum_value("QUESTIONNAIRE", description="A questionnaire.")
    MEASUREMENT = strawberry.enum_value("MEASUREMENT", description="A home measurement.")
    MUNICIPAL_SERVICE = strawberry.enum_value(
        "MUNICIPAL_SERVICE", description="A municipal care-service decision or application."
    )


add_texts(
    {
        "timeline.APPOINTMENT": {"nb": "Time", "nn": "Time", "en": "Appointment"},
        "timeline.MESSAGE": {"nb": "Melding", "nn": "Melding", "en": "Message"},
        "timeline.DOCUMENT": {"nb": "Dokument", "nn": "Dokument", "en": "Document"},
        "timeline.LAB_RESULT": {"nb": "Prøvesvar", "nn": "Prøvesvar", "en": "Test result"},
        "timeline.VACCINATION": {"nb": "Vaksine", "nn": "Vaksine", "en": "Vaccination"},
        "timeline.CRITICAL_INFORMATION": {
            "nb": "Kritisk informasjon",
            "nn": "Kritisk informasjon",
            "en": "Critical information",
        },
        "timeline.MEDICATION": {"nb": "Legemiddel", "nn": "Legemiddel", "en": "Medicine"},
        "timeline.REFERRAL": {"nb": "Henvisning", "nn": "Tilvising", "en": "Referral"},
        "timeline.QUESTIONNAIRE": {"nb": "Skjema", "nn": "Skjema", "en": "Questionnaire"},
        "timeline.MEASUREMENT": {"nb": "Måling", "nn": "Måling", "en": "Measurement"},
        "timeline.MUNICIPAL_SERVICE": {
            "nb": "Kommunal tjeneste",
            "nn": "Kommunal teneste",
            "en": "Municipal service",
        },
    }
)


@dataclass(frozen=True, slots=True)
class Event:
    """One event as a contributor sees it."""

    at: dt.datetime
    title: str
    node: Any  # the Node the event is about
    reference: str  # the audit reference, e.g. "EHR/Observation/{id}"
    source: Source | None = None
    category: Category | None = None  # the audit category, when not the contributor's first


Contributor = Callable[[Info[Context, None], Subject], Awaitable[list[Event]]]


@dataclass(frozen=True, slots=True)
class _Registered:
    kind: TimelineKind
    categories: tuple[Category, ...]
    fetch: Contributor


CONTRIBUTORS: list[_Registered] = []


def contributes(kind: TimelineKind, *categories: Category) -> Callable[[Contributor], Contributor]:
    """Register a source of timeline events of `kind`, asked when the viewer may read any
    of `categories` (events are audited under the first unless they name their own)."""

    def register(fn: Contributor) -> Contributor:
        CONTRIBUTORS.append(_Registered(kind, categories, fn))
        return fn

    return register


@strawberry.type(description="Something that happened, on the person's timeline.")
class TimelineEvent:
    event: strawberry.Private[Event]
    kind_code: strawberry.Private[TimelineKind]

    @strawberry.field(description="When it happened (or is to happen).")
    def at(self) -> dt.datetime:
        return self.event.at

    @strawberry.field(description="What the event is about.")
    def kind(self) -> TimelineKind:
        return self.kind_code

    @strawberry.field(description="The kind in the caller's language.")
    def kind_text(self, info: Info[Context, None]) -> str:
        return text(f"timeline.{self.kind_code.value}", info.context.language)

    @strawberry.field(description="A one-line description, as the source words it.")
    def title(self) -> str:
        return self.event.title

    @strawberry.field(description="The system that recorded it, when one system did.")
    def source(self) -> Source | None:
        return self.event.source

    @strawberry.field(description="The entity itself; fetch more of it with fragments.")
    def node(self) -> Node:
        found: Node = self.event.node
        return found


@strawberry.type(description="One timeline event in a list, with its cursor.")
class TimelineEdge:
    cursor: str = strawberry.field(description="Opaque position of this event.")
    node: TimelineEvent = strawberry.field(description="The event.")


@strawberry.type(description="A page of the timeline, newest first.")
class TimelineConnection:
    edges: list[TimelineEdge] = strawberry.field(description="The events on this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(
        description="How many events the timeline holds with this filter."
    )


@strawberry.input(description="Which events to show.")
class TimelineFilter:
    kinds: list[TimelineKind] | None = strawberry.field(
        default=None, description="Only these kinds (all the viewer may see when null)."
    )
    dates: DateRange | None = strawberry.field(
        default=None, description="Only events on these days."
    )


async def timeline_of(
    info: Info[Context, None],
    subject: Subject,
    first: int,
    after: str | None,
    filter: TimelineFilter | None,
) -> TimelineConnection:
    """The merged, filtered timeline page."""
    chosen = filter or TimelineFilter()
    if chosen.dates is not None:
        chosen.dates.check()
    kinds = set(chosen.kinds) if chosen.kinds is not None else set(TimelineKind)
    wanted = [
        c
        for c in CONTRIBUTORS
        if c.kind in kinds
        and any(may(info.context, subject, category) for category in c.categories)
    ]
    lists = (
        await gather_sources(info, [_tagged(info, subject, c) for c in wanted]) if wanted else []
    )
    events = [e for items in lists for e in items]
    if chosen.dates is not None:
        days = chosen.dates
        events = [e for e in events if days.contains(e[1].at)]
    events.sort(key=lambda e: (e[1].at, e[1].reference), reverse=True)
    page_items, page_info = page(events, first, after)
    for _, (registered, event) in page_items:
        category = event.category or registered.categories[0]
        served(info.context, subject, category, (event.reference,))
    return TimelineConnection(
        edges=[
            TimelineEdge(cursor=c, node=TimelineEvent(event=e, kind_code=r.kind))
            for c, (r, e) in page_items
        ],
        page_info=page_info,
        total_count=len(events),
    )


async def _tagged(
    info: Info[Context, None], subject: Subject, registered: _Registered
) -> list[tuple[_Registered, Event]]:
    return [(registered, event) for event in await registered.fetch(info, subject)]


@strawberry.type
class TimelineFields:
    subject: strawberry.Private[Subject]

    @strawberry.field(
        description="Everything that happened, across every source the viewer may "
        "see, newest first: appointments, messages, documents, results, vaccinations, ..."
    )
    async def timeline(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: TimelineFilter | None = None,
    ) -> TimelineConnection | None:
        return await timeline_of(info, self.subject, first, after, filter)
