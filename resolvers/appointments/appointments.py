"""Appointments from the EHR and the person's municipality, merged into one list.

Municipal appointments come from where the person's municipality keeps them
(`resolvers.core.routing`): the shared EHR for a municipality on it (the municipal API is
then not asked), else the municipal API. Each appointment is authorised by its own
category: hospital care (`hospital_appointments`) or municipal care
(`municipal_appointments`), wherever it was read from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from enum import Enum

import strawberry
from strawberry.types import Info

from authz.categories import Category
from authz.relations import OSLO
from resolvers.appointments.appointment_rules import HOSPITAL, MUNICIPAL, category_of
from resolvers.appointments.appointment_types import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    PostalAddress,
)
from resolvers.core.access import Subject
from resolvers.core.common import PageInfo, gather_sources, page, path_of
from resolvers.core.context import Context
from resolvers.core.errors import BadUserInput, CategoryUnavailable
from resolvers.core.guard import may, require, served, visible, watch
from resolvers.core.node import fetches
from resolvers.core.routing import MunicipalRoute, municipal_route, on_shared_ehr
from sources import models
from sources.errors import UpstreamError

__all__ = [
    "Appointment",
    "AppointmentFields",
    "AppointmentStatus",
    "PostalAddress",
    "appointments_of",
]


@strawberry.enum(description="Which appointments to list.")
class AppointmentPeriod(Enum):
    UPCOMING = strawberry.enum_value(
        "upcoming", description="Starting now or later, soonest first."
    )
    PAST = strawberry.enum_value("past", description="Started before now, most recent first.")


@strawberry.input(description="Narrows an appointment list.")
class AppointmentFilter:
    period: AppointmentPeriod = strawberry.field(
        default=AppointmentPeriod.UPCOMING, description="Upcoming (default) or past."
    )
    from_: dt.date | None = strawberry.field(
        default=None,
        name="from",
        description="Only appointments on or after this day (Norwegian time).",
    )
    to: dt.date | None = strawberry.field(
        default=None, description="Only appointments on or before this day (Norwegian time)."
    )
    kinds: list[AppointmentKind] | None = strawberry.field(
        default=None, description="Only these kinds of care (all when null)."
    )


@strawberry.type(description="One appointment in a list, with its cursor.")
class AppointmentEdge:
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: Appointment = strawberry.field(description="The appointment.")


@strawberry.type(description="A page of appointments.")
class AppointmentConnection:
    edges: list[AppointmentEdge] = strawberry.field(description="The appointments on this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="How many appointments the list holds.")


def _check(chosen: AppointmentFilter) -> None:
    if chosen.from_ is not None and chosen.to is not None and chosen.to < chosen.from_:
        raise BadUserInput("`to` must not be before `from`.", argument="filter")


def _on_days(record: models.Appointment, chosen: AppointmentFilter) -> bool:
    day = record.start.astimezone(OSLO).date()
    return (chosen.from_ is None or day >= chosen.from_) and (chosen.to is None or day <= chosen.to)


async def _ehr(
    info: Info[Context, None], subject: Subject, upcoming: bool, category: Category
) -> list[models.Appointment]:
    ctx = info.context
    async with watch(info.context, subject, category):
        patient = await ctx.ehr.patient_id(subject.nin)
        if patient is None:
            return []
        return await ctx.ehr.appointments.of(patient, upcoming=upcoming, now=ctx.now)


async def _municipal_api(
    info: Info[Context, None], subject: Subject, municipality: str
) -> list[models.Appointment]:
    async with watch(info.context, subject, MUNICIPAL):
        return await info.context.municipal.appointments(municipality, subject.nin)


async def visible_appointments(
    info: Info[Context, None], subject: Subject, upcoming: bool
) -> list[models.Appointment]:
    """Every upcoming (or past) appointment this view may see, from every source, each
    once, in list order; CategoryUnavailable when the view may see none."""
    hospital = may(info.context, subject, HOSPITAL)
    municipal = may(info.context, subject, MUNICIPAL)
    if not (hospital or municipal):
        require(info.context, subject, HOSPITAL)
    policy = info.context.access.policy
    if not upcoming and not policy.past_appointments(subject.view):
        grant = policy.grant(subject.view)
        raise CategoryUnavailable("past_appointments", grant.reason if grant else "NO_ACCESS_BASIS")
    route = await _route(info, subject, hospital) if municipal else None
    calls: list[Awaitable[list[models.Appointment]]] = []
    if hospital or (route is not None and route.shared_ehr):
        calls.append(_ehr(info, subject, upcoming, HOSPITAL if hospital else MUNICIPAL))
    if route is not None and route.api and route.municipality is not None:
        calls.append(_municipal_api(info, subject, route.municipality))
    allowed = {c for c, ok in ((HOSPITAL, hospital), (MUNICIPAL, municipal)) if ok}
    lists = await gather_sources(info, calls) if calls else []
    now = info.context.now
    merged = [
        a
        for items in lists
        for a in items
        if (a.start >= now) == upcoming
        and category_of(a) in allowed
        and (a.municipality is None or on_shared_ehr(info, a.municipality))
    ]
    merged = visible(info.context, subject, merged, lambda a: a.security)
    merged.sort(key=lambda a: (a.start, a.id), reverse=not upcoming)
    return merged


async def _route(
    info: Info[Context, None], subject: Subject, hospital: bool
) -> MunicipalRoute | None:
    """Where the municipal appointments are; when the registry cannot tell, the EHR's
    share is still read with the hospital ones (reported as a partial failure)."""
    try:
        async with watch(info.context, subject, MUNICIPAL):
            return await municipal_route(info, subject)
    except UpstreamError as failure:
        if not hospital:
            raise
        info.context.report(failure, path_of(info))
        return None


def audit_ref(record: models.Appointment) -> str:
    """The resource reference the audit trail records for an appointment."""
    municipality = record.source.municipality
    origin = "EHR" if municipality is None else f"MUNICIPAL-{municipality}"
    return f"{origin}/Appointment/{record.id}"


async def appointments_of(
    info: Info[Context, None],
    subject: Subject,
    first: int,
    after: str | None,
    filter: AppointmentFilter | None = None,
) -> AppointmentConnection:
    """Upcoming or past appointments from every source this view may see, merged and paged."""
    chosen = filter or AppointmentFilter()
    _check(chosen)
    upcoming = chosen.period is AppointmentPeriod.UPCOMING
    merged = await visible_appointments(info, subject, upcoming)
    kinds = set(chosen.kinds) if chosen.kinds is not None else None
    shown = [
        a
        for a in merged
        if _on_days(a, chosen) and (kinds is None or AppointmentKind.of(a) in kinds)
    ]
    picked, page_info = page(shown, first, after)
    for category in (HOSPITAL, MUNICIPAL):
        refs = [audit_ref(a) for _, a in picked if category_of(a) == category]
        if refs:
            served(info.context, subject, category, refs)
    return AppointmentConnection(
        edges=[
            AppointmentEdge(cursor=c, node=Appointment(record=a, subject=subject))
            for c, a in picked
        ],
        page_info=page_info,
        total_count=len(shown),
    )


@fetches("Appointment")
async def fetch_appointment(
    info: Info[Context, None], subject: Subject, source: str, upstream_id: str
) -> Appointment | None:
    """One appointment by id, through the same checks as the list."""
    found = await find_appointment(info, subject, source, upstream_id)
    if found is None:
        return None
    served(info.context, subject, category_of(found), (audit_ref(found),))
    return Appointment(record=found, subject=subject)


async def find_appointment(
    info: Info[Context, None], subject: Subject, source: str, upstream_id: str
) -> models.Appointment | None:
    """The appointment, when this view may see it (as in the lists), else None."""
    ctx = info.context
    if source == "ehr":
        if not (may(info.context, subject, HOSPITAL) or may(info.context, subject, MUNICIPAL)):
            return None
        async with watch(info.context, subject, HOSPITAL):
            patient = await ctx.ehr.patient_id(subject.nin)
            found = (
                None
                if patient is None
                else await ctx.ehr.appointments.appointment(patient, upstream_id)
            )
        candidates = [] if found is None else [found.record]
    else:
        if not may(info.context, subject, MUNICIPAL):
            return None
        route = await municipal_route(info, subject)
        if not route.api or source != f"m{route.municipality}" or route.municipality is None:
            return None
        items = await _municipal_api(info, subject, route.municipality)
        candidates = [a for a in items if a.id == upstream_id]
    candidates = [
        a
        for a in candidates
        if may(info.context, subject, category_of(a))
        and (a.municipality is None or on_shared_ehr(info, a.municipality))
    ]
    candidates = visible(info.context, subject, candidates, lambda a: a.security)
    if not candidates:
        return None
    record = candidates[0]
    if record.start < ctx.now and not ctx.access.policy.past_appointments(subject.view):
        return None
    return record


@strawberry.type
class AppointmentFields:
    subject: strawberry.Private[Subject]

    @strawberry.field(
        description="Appointments with hospitals, GP offices and the "
        "municipality, merged. Upcoming by default."
    )
    async def appointments(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: AppointmentFilter | None = None,
    ) -> AppointmentConnection | None:
        return await appointments_of(info, self.subject, first, after, filter)
