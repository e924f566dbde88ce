"""Applications for municipal care services and where each stands."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from resolvers.core.access import Subject
from resolvers.core.common import PageInfo, Source, home_municipality, page, source
from resolvers.core.context import Context
from resolvers.core.guard import require, served, visible, watch
from resolvers.core.i18n import add_texts, text
from resolvers.core.node import Node, fetches, node_id
from resolvers.municipal.municipal_services import (
    CATEGORY,
    MunicipalService,
    MunicipalServiceType,
    decisions_of,
    service_text,
    service_type,
)
from resolvers.municipal.municipal_services import reference as decision_reference
from sources.municipal_applications import Application

add_texts(
    {
        "applicationStatus.RECEIVED": {"nb": "Mottatt", "nn": "Motteken", "en": "Received"},
        "applicationStatus.IN_REVIEW": {
            "nb": "Under behandling",
            "nn": "Under handsaming",
            "en": "In review",
        },
        "applicationStatus.DECIDED_GRANTED": {"nb": "Innvilget", "nn": "Innvilga", "en": "Granted"},
        "applicationStatus.DECIDED_REJECTED": {"nb": "Avslått", "nn": "Avslått", "en": "Rejected"},
        "applicationStatus.WITHDRAWN": {"nb": "Trukket", "nn": "Trekt", "en": "Withdrawn"},
        "applicationStatus.UNKNOWN": {"nb": "Ukjent", "nn": "Ukjend", "en": "Unknown"},
    }
)


@strawberry.enum(description="Where an application for a municipal care service stands.")
class MunicipalApplicationStatus(Enum):
    RECEIVED = strawberry.enum_value(
        "RECEIVED", description="The municipality has received it; no one has started on it."
    )
    IN_REVIEW = strawberry.enum_value("IN_REVIEW", description="A case officer is looking into it.")
    DECIDED_GRANTED = strawberry.enum_value(
        "DECIDED_GRANTED", description="Decided: granted (see `decision`)."
    )
    DECIDED_REJECTED = strawberry.enum_value("DECIDED_REJECTED", description="Decided: rejected.")
    WITHDRAWN = strawberry.enum_value(
        "WITHDRAWN", description="Withdrawn before the municipality decided."
    )
    UNKNOWN = strawberry.enum_value(
        "UNKNOWN", description="A status this gateway does not know yet; see `statusText`."
    )


_STATUSES = {
    "received": MunicipalApplicationStatus.RECEIVED,
    "inReview": MunicipalApplicationStatus.IN_REVIEW,
    "granted": MunicipalApplicationStatus.DECIDED_GRANTED,
    "rejected": MunicipalApplicationStatus.DECIDED_REJECTED,
    "withdrawn": MunicipalApplicationStatus.WITHDRAWN,
}


def application_status(record: Application) -> MunicipalApplicationStatus:
    """The graph's status of an application."""
    return _STATUSES.get(record.status, MunicipalApplicationStatus.UNKNOWN)


def reference(record: Application) -> str:
    """The audit reference of one application."""
    return f"MUNICIPAL {record.source.municipality}/Application/{record.id}"


def _key(record: Application) -> str:
    return f"m{record.source.municipality}"


@strawberry.type(description="An application to the person's municipality for a care service.")
class MunicipalApplication(Node):
    record: strawberry.Private[Application]
    subject: strawberry.Private[Subject]

    @strawberry.field(description="Opaque id.")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        return node_id(
            info, self.subject, "MunicipalApplication", _key(self.record), self.record.id
        )

    @strawberry.field(description="The service applied for, for programs.")
    def service(self) -> MunicipalServiceType:
        return service_type(self.record.service)

    @strawberry.field(description="The service applied for, in the caller's language.")
    def service_text(self, info: Info[Context, None]) -> str:
        return service_text(self.service(), info)

    @strawberry.field(description="Where the application stands, for programs.")
    def status(self) -> MunicipalApplicationStatus:
        return application_status(self.record)

    @strawberry.field(description="Where the application stands, in the caller's language.")
    def status_text(self, info: Info[Context, None]) -> str:
        return text(f"applicationStatus.{self.status().value}", info.context.language)

    @strawberry.field(description="When the municipality received it, when known.")
    def submitted_at(self) -> dt.datetime | None:
        return self.record.submitted_at

    @strawberry.field(description="What the applicant wrote about their needs.")
    def description(self) -> str | None:
        return self.record.description

    @strawberry.field(description="The day the applicant wished the service to start, if given.")
    def wished_start(self) -> dt.date | None:
        return self.record.wished_start

    @strawberry.field(
        description="The day the municipality expects to decide, while it is undecided."
    )
    def expected_decision_on(self) -> dt.date | None:
        return self.record.expected_decision_on

    @strawberry.field(description="The day the municipality decided, once it has.")
    def decided_on(self) -> dt.date | None:
        return self.record.decided_on

    @strawberry.field(
        description="The office handling the application (a unit, never a person), when known."
    )
    def case_officer_unit(self) -> str | None:
        return self.record.unit

    @strawberry.field(
        description="The decision that granted the service, once granted and when the "
        "municipality still lists it."
    )
    async def decision(self, info: Info[Context, None]) -> MunicipalService | None:
        wanted = self.record.decision_id
        if wanted is None or self.status() is not MunicipalApplicationStatus.DECIDED_GRANTED:
            return None
        for entry in await decisions_of(info, self.subject):
            if entry.id == wanted and entry.source == self.record.source:
                served(info.context, self.subject, CATEGORY, (decision_reference(entry),))
                return MunicipalService(entry=entry, subject=self.subject)
        return None

    @strawberry.field(description="The municipality applied to.")
    def source(self, info: Info[Context, None]) -> Source:
        return source(self.record.source, info)


@strawberry.type(description="One application in a list, with its cursor.")
class MunicipalApplicationEdge:
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: MunicipalApplication = strawberry.field(description="The application.")


@strawberry.type(description="A page of applications, newest first.")
class MunicipalApplicationConnection:
    edges: list[MunicipalApplicationEdge] = strawberry.field(
        description="The applications on this page."
    )
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="How many applications the list holds.")


@strawberry.input(description="Which applications to list.")
class MunicipalApplicationFilter:
    status: list[MunicipalApplicationStatus] | None = strawberry.field(
        default=None, description="Only applications in one of these states (all when null)."
    )


async def visible_applications(info: Info[Context, None], subject: Subject) -> list[Application]:
    """Every application of the person this view may see, newest first (not yet audited)."""
    require(info.context, subject, CATEGORY)
    async with watch(info.context, subject, CATEGORY):
        municipality = await home_municipality(info, subject)
        records = (
            []
            if municipality is None
            else await info.context.municipal.applications.of(municipality, subject.nin)
        )
    shown = visible(info.context, subject, records, lambda a: a.security)
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    shown.sort(key=lambda a: (a.submitted_at or oldest, a.id), reverse=True)
    return shown


async def applications_of(
    info: Info[Context, None],
    subject: Subject,
    first: int,
    after: str | None,
    filter: MunicipalApplicationFilter | None = None,
) -> MunicipalApplicationConnection:
    """The person's applications this view may see, newest first."""
    shown = await visible_applications(info, subject)
    wanted = (filter or MunicipalApplicationFilter()).status
    if wanted is not None:
        shown = [a for a in shown if application_status(a) in set(wanted)]
    chosen, page_info = page(shown, first, after)
    served(info.context, subject, CATEGORY, (reference(a) for _, a in chosen))
    return MunicipalApplicationConnection(
        edges=[
            MunicipalApplicationEdge(cursor=c, node=MunicipalApplication(record=a, subject=subject))
            for c, a in chosen
        ],
        page_info=page_info,
        total_count=len(shown),
    )


@fetches("MunicipalApplication")
async def fetch_application(
    info: Info[Context, None], subject: Subject, source: str, upstream_id: str
) -> MunicipalApplication | None:
    """One application by id, through the same checks as the list."""
    for record in await visible_applications(info, subject):
        if record.id == upstream_id and _key(record) == source:
            served(info.context, subject, CATEGORY, (reference(record),))
            return MunicipalApplication(record=record, subject=subject)
    return None


@strawberry.type
class MunicipalApplicationFields:
    subject: strawberry.Private[Subject]

    @strawberry.field(
        description="Applications for care services (home nursing, respite care, ...) "
        "to the person's home municipality and where each stands, newest first."
    )
    async def municipal_applications(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: MunicipalApplicationFilter | None = None,
    ) -> MunicipalApplicationConnection | None:
        return await applications_of(info, self.subject, first, after, filter)
