"""Appointments from the EHR and the person's municipality, merged into one list."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from gateway.access import Subject
from gateway.context import Context
from gateway.errors import CategoryUnavailable
from gateway.i18n import text
from gateway.ids import encode
from resolvers.common import PageInfo, Source, gather_sources, home_municipality, page, source
from resolvers.guard import may, require, served, visible, watch
from sources import models

HOSPITAL = "hospital_appointments"
MUNICIPAL = "municipal_appointments"


@strawberry.enum(description="Where an appointment stands.")
class AppointmentStatus(Enum):
    BOOKED = strawberry.enum_value("booked", description="Booked and expected.")
    ARRIVED = strawberry.enum_value("arrived", description="Checked in.")
    FULFILLED = strawberry.enum_value("fulfilled", description="Took place.")
    CANCELLED = strawberry.enum_value("cancelled", description="Cancelled.")
    NO_SHOW = strawberry.enum_value("noshow", description="The person did not attend.")
    UNKNOWN = strawberry.enum_value("unknown", description="A status the gateway does not know.")


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


@strawberry.type(description="A postal address.")
class PostalAddress:
    street: str = strawberry.field(description="Street and number.")
    postal_code: str = strawberry.field(description="Postal code; may be empty.")
    city: str = strawberry.field(description="Postal town.")


@strawberry.type(description="A clinician or other care worker.")
class Practitioner:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    name: str = strawberry.field(description="Display name.")
    role: str | None = strawberry.field(description="Profession or role, when known.")


@strawberry.type(description="A place where care happens.")
class Location:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    name: str = strawberry.field(description="Display name of the place.")
    address: PostalAddress | None = strawberry.field(description="Where it is, when known.")


def _practitioner(record: models.Practitioner | None, source_key: str) -> Practitioner | None:
    if record is None:
        return None
    return Practitioner(
        id=strawberry.ID(encode("Practitioner", source_key, record.id)),
        name=record.name,
        role=record.role,
    )


def _location(record: models.Location | None, source_key: str) -> Location | None:
    if record is None:
        return None
    address = record.address
    return Location(
        id=strawberry.ID(encode("Location", source_key, record.id)),
        name=record.name,
        address=PostalAddress(
            street=address.street, postal_code=address.postal_code, city=address.city
        )
        if address
        else None,
    )


def _source_key(ref: models.SourceRef) -> str:
    return "ehr" if ref.municipality is None else f"m{ref.municipality}"


@strawberry.type(description="An appointment with a hospital, GP office or municipality.")
class Appointment:
    record: strawberry.Private[models.Appointment]

    @strawberry.field(description="Opaque id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode("Appointment", _source_key(self.record.source), self.record.id))

    @strawberry.field(description="When it starts (ISO 8601 with offset).")
    def start(self) -> dt.datetime:
        return self.record.start

    @strawberry.field(description="When it ends, when known.")
    def end(self) -> dt.datetime | None:
        return self.record.end

    @strawberry.field(description="Status code, for programs.")
    def status(self) -> AppointmentStatus:
        try:
            return AppointmentStatus(self.record.status)
        except ValueError:
            return AppointmentStatus.UNKNOWN

    @strawberry.field(description="Status in the caller's language, for people.")
    def status_text(self, info: Info[Context, None]) -> str:
        return text(f"appointment.{self.status().value}", info.context.language)

    @strawberry.field(description="What the appointment is for (clinic or service).")
    def service(self) -> str | None:
        return self.record.service

    @strawberry.field(description="True for a video consultation.")
    def is_video(self) -> bool:
        return self.record.video

    @strawberry.field(description="The system the appointment was read from.")
    def source(self, info: Info[Context, None]) -> Source:
        return source(self.record.source, info)

    @strawberry.field(description="Who the person will meet, when known.")
    async def practitioner(self, info: Info[Context, None]) -> Practitioner | None:
        key = _source_key(self.record.source)
        if self.record.practitioner is not None:
            return _practitioner(self.record.practitioner, key)
        if self.record.practitioner_id is None:
            return None
        found = await info.context.ehr.practitioners.load(self.record.practitioner_id)
        return _practitioner(found, key)

    @strawberry.field(description="Where it takes place, when known.")
    async def location(self, info: Info[Context, None]) -> Location | None:
        key = _source_key(self.record.source)
        if self.record.location is not None:
            return _location(self.record.location, key)
        if self.record.location_id is None:
            return None
        found = await info.context.ehr.locations.load(self.record.location_id)
        return _location(found, key)


@strawberry.type(description="One appointment in a list, with its cursor.")
class AppointmentEdge:
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: Appointment = strawberry.field(description="The appointment.")


@strawberry.type(description="A page of appointments.")
class AppointmentConnection:
    edges: list[AppointmentEdge] = strawberry.field(description="The appointments on this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="How many appointments the list holds.")


async def _ehr_appointments(
    info: Info[Context, None], subject: Subject, upcoming: bool
) -> list[models.Appointment]:
    ctx = info.context
    async with watch(info, subject, HOSPITAL):
        patient = await ctx.ehr.patient_id(subject.nin)
        if patient is None:
            return []
        return await ctx.ehr.appointments(patient, upcoming=upcoming, now=ctx.now)


async def _municipal_appointments(
    info: Info[Context, None], subject: Subject
) -> list[models.Appointment]:
    ctx = info.context
    async with watch(info, subject, MUNICIPAL):
        municipality = await home_municipality(info, subject)
        if municipality is None:
            return []
        return await ctx.municipal.appointments(municipality, subject.nin)


async def appointments_of(
    info: Info[Context, None],
    subject: Subject,
    first: int,
    after: str | None,
    period: AppointmentPeriod,
) -> AppointmentConnection:
    """Upcoming or past appointments from every source this view may see, merged and paged."""
    hospital = may(info, subject, HOSPITAL)
    municipal = may(info, subject, MUNICIPAL)
    if not (hospital or municipal):
        require(info, subject, HOSPITAL)
    upcoming = period is AppointmentPeriod.UPCOMING
    policy = info.context.access.policy
    if not upcoming and not policy.past_appointments(subject.view):
        grant = policy.grant(subject.view)
        raise CategoryUnavailable("past_appointments", grant.reason if grant else "NO_ACCESS_BASIS")
    now = info.context.now
    calls = []
    if hospital:
        calls.append(_ehr_appointments(info, subject, upcoming))
    if municipal:
        calls.append(_municipal_appointments(info, subject))
    lists = await gather_sources(info, calls)
    merged = [a for items in lists for a in items if (a.start >= now) == upcoming]
    merged = visible(info, subject, merged, lambda a: a.security)
    merged.sort(key=lambda a: (a.start, a.id), reverse=not upcoming)
    chosen, page_info = page(merged, first, after)
    for _, a in chosen:
        category = HOSPITAL if a.source.municipality is None else MUNICIPAL
        served(info, subject, category, (f"{_source_key(a.source)}/Appointment/{a.id}",))
    return AppointmentConnection(
        edges=[AppointmentEdge(cursor=c, node=Appointment(record=a)) for c, a in chosen],
        page_info=page_info,
        total_count=len(merged),
    )
