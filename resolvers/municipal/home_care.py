"""Home-care visits: when the home nursing or practical assistance comes, and what for."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from resolvers.core.access import Subject
from resolvers.core.common import PageInfo, Source, home_municipality, page, source
from resolvers.core.context import Context
from resolvers.core.errors import BadUserInput
from resolvers.core.guard import require, served, watch
from resolvers.core.i18n import add_texts, text
from resolvers.core.node import Node, fetches, node_id
from resolvers.municipal.municipal_services import (
    CATEGORY,
    MunicipalServiceType,
    service_text,
    service_type,
)
from sources.home_care import Visit

add_texts(
    {
        "homeCareStatus.PLANNED": {"nb": "Planlagt", "nn": "Planlagd", "en": "Planned"},
        "homeCareStatus.DONE": {"nb": "Utført", "nn": "Utført", "en": "Done"},
        "homeCareStatus.CANCELLED": {"nb": "Avlyst", "nn": "Avlyst", "en": "Cancelled"},
        "homeCareStatus.UNKNOWN": {"nb": "Ukjent", "nn": "Ukjend", "en": "Unknown"},
        "homeCareTask.MEDICATION": {"nb": "Medisiner", "nn": "Medisinar", "en": "Medication"},
        "homeCareTask.WOUND_CARE": {"nb": "Sårstell", "nn": "Sårstell", "en": "Wound care"},
        "homeCareTask.PERSONAL_CARE": {
            "nb": "Personlig stell",
            "nn": "Personleg stell",
            "en": "Personal care",
        },
        "homeCareTask.HEALTH_CHECK": {
            "nb": "Helsesjekk",
            "nn": "Helsesjekk",
            "en": "Health check",
        },
        "homeCareTask.CLEANING": {"nb": "Rengjøring", "nn": "Reingjering", "en": "Cleaning"},
        "homeCareTask.LAUNDRY": {"nb": "Klesvask", "nn": "Klesvask", "en": "Laundry"},
        "homeCareTask.SHOPPING": {"nb": "Innkjøp", "nn": "Innkjøp", "en": "Shopping"},
        "homeCareTask.OTHER": {"nb": "Annet", "nn": "Anna", "en": "Other"},
    }
)


@strawberry.enum(description="Where a home-care visit stands.")
class HomeCareVisitStatus(Enum):
    PLANNED = strawberry.enum_value("PLANNED", description="Planned; has not taken place yet.")
    DONE = strawberry.enum_value("DONE", description="Took place.")
    CANCELLED = strawberry.enum_value("CANCELLED", description="Cancelled.")
    UNKNOWN = strawberry.enum_value(
        "UNKNOWN", description="A status this gateway does not know yet; see `statusText`."
    )


@strawberry.enum(description="What the home-care staff do on a visit.")
class HomeCareTaskType(Enum):
    MEDICATION = strawberry.enum_value("MEDICATION", description="Give or set out medicines.")
    WOUND_CARE = strawberry.enum_value("WOUND_CARE", description="Dress and look after wounds.")
    PERSONAL_CARE = strawberry.enum_value(
        "PERSONAL_CARE", description="Help with washing and dressing."
    )
    HEALTH_CHECK = strawberry.enum_value(
        "HEALTH_CHECK", description="Check blood pressure, weight and general condition."
    )
    CLEANING = strawberry.enum_value("CLEANING", description="Clean the home.")
    LAUNDRY = strawberry.enum_value("LAUNDRY", description="Wash clothes and linen.")
    SHOPPING = strawberry.enum_value("SHOPPING", description="Buy groceries.")
    OTHER = strawberry.enum_value("OTHER", description="Anything else; see `typeText`.")


_STATUSES = {
    "planned": HomeCareVisitStatus.PLANNED,
    "done": HomeCareVisitStatus.DONE,
    "cancelled": HomeCareVisitStatus.CANCELLED,
}
_TASKS = {
    "medication": HomeCareTaskType.MEDICATION,
    "woundCare": HomeCareTaskType.WOUND_CARE,
    "personalCare": HomeCareTaskType.PERSONAL_CARE,
    "healthCheck": HomeCareTaskType.HEALTH_CHECK,
    "cleaning": HomeCareTaskType.CLEANING,
    "laundry": HomeCareTaskType.LAUNDRY,
    "shopping": HomeCareTaskType.SHOPPING,
}


def reference(visit: Visit) -> str:
    """The audit reference of one visit."""
    return f"MUNICIPAL {visit.source.municipality}/HomeCareVisit/{visit.id}"


def _key(visit: Visit) -> str:
    return f"m{visit.source.municipality}"


@strawberry.type(description="One thing the staff do on a home-care visit.")
class HomeCareTask:
    type: HomeCareTaskType = strawberry.field(description="The task, for programs.")
    type_text: str = strawberry.field(description="The task in the caller's language.")


@strawberry.type(
    description="A visit by the municipality's home care (planned, done or cancelled)."
)
class HomeCareVisit(Node):
    record: strawberry.Private[Visit]
    subject: strawberry.Private[Subject]

    @strawberry.field(description="Opaque id.")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        return node_id(info, self.subject, "HomeCareVisit", _key(self.record), self.record.id)

    @strawberry.field(description="The service the visit belongs to, for programs.")
    def service(self) -> MunicipalServiceType:
        return service_type(self.record.service)

    @strawberry.field(description="The service the visit belongs to, in the caller's language.")
    def service_text(self, info: Info[Context, None]) -> str:
        return service_text(self.service(), info)

    @strawberry.field(description="The start of the time window the staff come in.")
    def start(self) -> dt.datetime:
        return self.record.start

    @strawberry.field(description="The end of the time window, when known.")
    def end(self) -> dt.datetime | None:
        return self.record.end

    @strawberry.field(description="Where the visit stands, for programs.")
    def status(self) -> HomeCareVisitStatus:
        return _STATUSES.get(self.record.status, HomeCareVisitStatus.UNKNOWN)

    @strawberry.field(description="Where the visit stands, in the caller's language.")
    def status_text(self, info: Info[Context, None]) -> str:
        return text(f"homeCareStatus.{self.status().value}", info.context.language)

    @strawberry.field(description="What the staff do on the visit.")
    def tasks(self, info: Info[Context, None]) -> list[HomeCareTask]:
        kinds = [_TASKS.get(t, HomeCareTaskType.OTHER) for t in self.record.tasks]
        language = info.context.language
        return [
            HomeCareTask(type=k, type_text=text(f"homeCareTask.{k.value}", language)) for k in kinds
        ]

    @strawberry.field(description="The home-care team that comes (a unit, never a person).")
    def team(self) -> str | None:
        return self.record.team

    @strawberry.field(description="The municipality providing the care.")
    def source(self, info: Info[Context, None]) -> Source:
        return source(self.record.source, info)


@strawberry.type(description="One visit in a list, with its cursor.")
class HomeCareVisitEdge:
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: HomeCareVisit = strawberry.field(description="The visit.")


@strawberry.type(description="A page of home-care visits, in time order.")
class HomeCareVisitConnection:
    edges: list[HomeCareVisitEdge] = strawberry.field(description="The visits on this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="How many visits the list holds.")


@strawberry.input(description="Which home-care visits to list.")
class HomeCareVisitFilter:
    from_: dt.date | None = strawberry.field(
        default=None, name="from", description="Only visits on this day or later."
    )
    to: dt.date | None = strawberry.field(
        default=None, description="Only visits on this day or earlier."
    )


async def _visits(
    info: Info[Context, None], subject: Subject, start: dt.date | None, end: dt.date | None
) -> list[Visit]:
    require(info.context, subject, CATEGORY)
    async with watch(info.context, subject, CATEGORY):
        municipality = await home_municipality(info, subject)
        if municipality is None:
            return []
        return await info.context.municipal.home_care.visits(municipality, subject.nin, start, end)


async def home_care_visits_of(
    info: Info[Context, None],
    subject: Subject,
    first: int,
    after: str | None,
    filter: HomeCareVisitFilter | None = None,
) -> HomeCareVisitConnection:
    """The person's home-care visits in time order, within the filter's days."""
    chosen_filter = filter or HomeCareVisitFilter()
    start, end = chosen_filter.from_, chosen_filter.to
    if start is not None and end is not None and end < start:
        raise BadUserInput("`filter.to` must not be before `filter.from`.", argument="filter")
    shown = await _visits(info, subject, start, end)
    chosen, page_info = page(shown, first, after)
    served(info.context, subject, CATEGORY, (reference(v) for _, v in chosen))
    return HomeCareVisitConnection(
        edges=[
            HomeCareVisitEdge(cursor=c, node=HomeCareVisit(record=v, subject=subject))
            for c, v in chosen
        ],
        page_info=page_info,
        total_count=len(shown),
    )


@fetches("HomeCareVisit")
async def fetch_visit(
    info: Info[Context, None], subject: Subject, source: str, upstream_id: str
) -> HomeCareVisit | None:
    """One visit by id, through the same checks as the list."""
    for visit in await _visits(info, subject, None, None):
        if visit.id == upstream_id and _key(visit) == source:
            served(info.context, subject, CATEGORY, (reference(visit),))
            return HomeCareVisit(record=visit, subject=subject)
    return None


@strawberry.type
class HomeCareFields:
    subject: strawberry.Private[Subject]

    @strawberry.field(
        description="Planned, done and cancelled visits of home nursing and practical "
        "assistance from the person's home municipality, in time order."
    )
    async def home_care_visits(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: HomeCareVisitFilter | None = None,
    ) -> HomeCareVisitConnection | None:
        return await home_care_visits_of(info, self.subject, first, after, filter)
