"""The Appointment node and the small types around it (places, people, codes)."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TypeVar

import strawberry
from strawberry.types import Info

from authz.policy import Action
from resolvers.appointments.appointment_rules import (
    MUNICIPAL,
    cancel_problem,
    category_of,
    changeable,
    check_in_problem,
    source_key,
)
from resolvers.appointments.video import VideoConsultation
from resolvers.core.access import Subject
from resolvers.core.common import Source, source
from resolvers.core.context import Context
from resolvers.core.guard import may, watch
from resolvers.core.i18n import add_texts, text
from resolvers.core.ids import encode
from resolvers.core.node import Node, node_id
from sources import models
from sources.reference_cache import Copy

T = TypeVar("T")


@strawberry.enum(description="Where an appointment stands.")
class AppointmentStatus(Enum):
    BOOKED = strawberry.enum_value("booked", description="Booked and expected.")
    ARRIVED = strawberry.enum_value("arrived", description="Checked in.")
    FULFILLED = strawberry.enum_value("fulfilled", description="Took place.")
    CANCELLED = strawberry.enum_value("cancelled", description="Cancelled.")
    NO_SHOW = strawberry.enum_value("noshow", description="The person did not attend.")
    UNKNOWN = strawberry.enum_value("unknown", description="A status the gateway does not know.")


@strawberry.enum(description="Which kind of care an appointment belongs to.")
class AppointmentKind(Enum):
    HOSPITAL = strawberry.enum_value(
        "HOSPITAL", description="Specialist care: a hospital clinic or outpatient department."
    )
    MUNICIPAL = strawberry.enum_value(
        "MUNICIPAL",
        description="Municipal care: health station, home nursing, physiotherapy, ... "
        "(from the municipality's own system or the shared health record).",
    )

    @classmethod
    def of(cls, record: models.Appointment) -> AppointmentKind:
        """The kind of an appointment record."""
        return cls.MUNICIPAL if category_of(record) == MUNICIPAL else cls.HOSPITAL


add_texts(
    {
        "appointment.kind.HOSPITAL": {
            "nb": "Sykehus",
            "nn": "Sjukehus",
            "en": "Hospital",
        },
        "appointment.kind.MUNICIPAL": {"nb": "Kommunen", "nn": "Kommunen", "en": "Municipality"},
    }
)


@strawberry.type(description="A postal address.")
class PostalAddress:
    street: str = strawberry.field(description="Street and number.")
    postal_code: str = strawberry.field(description="Postal code; may be empty.")
    city: str = strawberry.field(description="Postal town.")


AS_OF = (
    "When the gateway fetched this from the EHR's directory (practitioners and places are "
    "shared reference data, reused for a few minutes). Null when it came inside the record "
    "that names it (a municipality's own appointment): as current as that record."
)
STALE = (
    "True when the EHR's directory failed just now and this is the older copy fetched at "
    "`asOf` (at most a day old by default), shown rather than nothing and with no error. "
    'A frontend may say so, e.g. "details as of 12:03". Always false when `asOf` is null. '
    "A person's own data (the appointment itself) is never served from an older copy."
)


@strawberry.type(description="A clinician or other care worker.")
class Practitioner:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    name: str = strawberry.field(description="Display name.")
    role: str | None = strawberry.field(description="Profession or role, when known.")
    as_of: dt.datetime | None = strawberry.field(description=AS_OF)
    stale: bool = strawberry.field(description=STALE)


@strawberry.type(description="A place where care happens.")
class Location:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    name: str = strawberry.field(description="Display name of the place.")
    address: PostalAddress | None = strawberry.field(description="Where it is, when known.")
    as_of: dt.datetime | None = strawberry.field(description=AS_OF)
    stale: bool = strawberry.field(description=STALE)


def _copy(found: T | Copy[T] | None) -> tuple[T, dt.datetime | None, bool] | None:
    """The record, when it was fetched and whether stale. A record from a directory comes
    as a `Copy`; one inside its record (a municipal appointment's staff and place) as the
    bare record: no time of its own, never stale."""
    if found is None:
        return None
    if isinstance(found, Copy):
        return found.value, found.as_of, found.stale
    return found, None, False


def practitioner(
    found: models.Practitioner | Copy[models.Practitioner] | None, source_key: str
) -> Practitioner | None:
    """The GraphQL view of a practitioner record."""
    copy = _copy(found)
    if copy is None:
        return None
    record, as_of, stale = copy
    return Practitioner(
        id=strawberry.ID(encode("Practitioner", source_key, record.id)),
        name=record.name,
        role=record.role,
        as_of=as_of,
        stale=stale,
    )


def location(
    found: models.Location | Copy[models.Location] | None, source_key: str
) -> Location | None:
    """The GraphQL view of a location record."""
    copy = _copy(found)
    if copy is None:
        return None
    record, as_of, stale = copy
    address = record.address
    return Location(
        id=strawberry.ID(encode("Location", source_key, record.id)),
        name=record.name,
        address=PostalAddress(
            street=address.street, postal_code=address.postal_code, city=address.city
        )
        if address
        else None,
        as_of=as_of,
        stale=stale,
    )


@strawberry.type(description="An appointment with a hospital, GP office or municipality.")
class Appointment(Node):
    record: strawberry.Private[models.Appointment]
    subject: strawberry.Private[Subject]

    @strawberry.field(description="Opaque id; `node(id:)` fetches the appointment again.")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        return node_id(info, self.subject, "Appointment", source_key(self.record), self.record.id)

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

    @strawberry.field(description="Which kind of care it belongs to.")
    def kind(self) -> AppointmentKind:
        return AppointmentKind.of(self.record)

    @strawberry.field(description="The kind of care in the caller's language.")
    def kind_text(self, info: Info[Context, None]) -> str:
        return text(f"appointment.kind.{self.kind().value}", info.context.language)

    @strawberry.field(description="What the appointment is for (clinic or service).")
    def service(self) -> str | None:
        return self.record.service

    @strawberry.field(description="True for a video consultation.")
    def is_video(self) -> bool:
        return self.record.video

    @strawberry.field(description="How to take part by video; null for an appointment in person.")
    def video(self) -> VideoConsultation | None:
        if not self.record.video:
            return None
        return VideoConsultation(
            record=self.record, subject=self.subject, category=category_of(self.record)
        )

    @strawberry.field(
        description="True when the viewer may cancel it online now (`cancelAppointment`)."
    )
    def can_cancel(self, info: Info[Context, None]) -> bool:
        return self._may_act(info) and cancel_problem(self.record, info.context.now) is None

    @strawberry.field(description="True when the viewer may check in now (`checkIn`).")
    def can_check_in(self, info: Info[Context, None]) -> bool:
        return self._may_act(info) and check_in_problem(self.record, info.context.now) is None

    def _may_act(self, info: Info[Context, None]) -> bool:
        return may(info.context, self.subject, category_of(self.record), Action.WRITE)

    @strawberry.field(
        description="True when the person has asked to move it (`requestReschedule`) and "
        "the care provider has not answered yet; null when the record cannot tell now."
    )
    async def reschedule_requested(self, info: Info[Context, None]) -> bool | None:
        if not changeable(self.record):
            return False
        ctx = info.context
        async with watch(info.context, self.subject, category_of(self.record)):
            patient = await ctx.ehr.patient_id(self.subject.nin)
            if patient is None:
                return False
            asked = await ctx.ehr.appointments.reschedule_requests(patient)
        return self.record.id in asked

    @strawberry.field(description="The system the appointment was read from.")
    def source(self, info: Info[Context, None]) -> Source:
        return source(self.record.source, info)

    @strawberry.field(description="Who the person will meet, when known.")
    async def practitioner(self, info: Info[Context, None]) -> Practitioner | None:
        key = source_key(self.record)
        if self.record.practitioner is not None:
            return practitioner(self.record.practitioner, key)
        if self.record.practitioner_id is None:
            return None
        found = await info.context.ehr.practitioners.load(self.record.practitioner_id)
        return practitioner(found, key)

    @strawberry.field(description="Where it takes place, when known.")
    async def location(self, info: Info[Context, None]) -> Location | None:
        key = source_key(self.record)
        if self.record.location is not None:
            return location(self.record.location, key)
        if self.record.location_id is None:
            return None
        found = await info.context.ehr.locations.load(self.record.location_id)
        return location(found, key)
