"""Booking where offered: free time in the clinics' calendars, and booking one of them.

Free times are the EHR's `Slot`s (status free) with their `Schedule` (the service, the
place, the practitioner). Only a viewer who may book for the person (WRITE on
`hospital_appointments`) sees them. Booking creates an Appointment in that slot; a
slot someone else took meanwhile is the user error SLOT_TAKEN.
"""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from authz.policy import Action
from authz.relations import OSLO
from resolvers.appointments.appointment_changes import AppointmentPayload, Refused
from resolvers.appointments.appointment_rules import HOSPITAL
from resolvers.appointments.appointment_types import (
    Appointment,
    Location,
    Practitioner,
    location,
    practitioner,
)
from resolvers.appointments.appointments import audit_ref
from resolvers.core.access import Subject
from resolvers.core.common import PageInfo, page
from resolvers.core.context import Context
from resolvers.core.errors import BadUserInput
from resolvers.core.guard import may, require, served, watch
from resolvers.core.i18n import add_texts
from resolvers.core.node import Node, fetches, node_id, own_entity
from resolvers.core.writes import UserError, acting, check_key, check_text, once, user_error
from sources.errors import UpstreamConflict, UpstreamRejected
from sources.fhir_appointments import Schedule, Slot

MAX_DAYS = 31
DEFAULT_DAYS = dt.timedelta(days=14)
MAX_REASON = 500

add_texts(
    {
        "error.SLOT_TAKEN": {
            "nb": "Timen er ikke lenger ledig. Velg en annen.",
            "nn": "Timen er ikkje lenger ledig. Vel ein annan.",
            "en": "This time is no longer free. Please choose another.",
        },
    }
)


@strawberry.input(description="Which free times to list.")
class BookableSlotFilter:
    service: str | None = strawberry.field(
        default=None, description="Only this bookable service (a `BookableSlot.serviceCode`)."
    )
    from_: dt.date | None = strawberry.field(
        default=None,
        name="from",
        description="The first day (Norwegian time; today when null); times already past "
        "are left out.",
    )
    to: dt.date | None = strawberry.field(
        default=None,
        description="The last day included (two weeks after `from` when null); at most 31 "
        "days after `from`.",
    )


@strawberry.type(description="A free time in a clinic's calendar that can be booked.")
class BookableSlot(Node):
    slot: strawberry.Private[Slot]
    schedule: strawberry.Private[Schedule | None]
    subject: strawberry.Private[Subject]

    @strawberry.field(description="Opaque id; pass it to `bookAppointment`.")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        return node_id(info, self.subject, "Slot", "ehr", self.slot.id)

    @strawberry.field(description="When it starts.")
    def start(self) -> dt.datetime:
        return self.slot.start

    @strawberry.field(description="When it ends.")
    def end(self) -> dt.datetime:
        return self.slot.end

    @strawberry.field(description="What can be booked (the clinic's service), when known.")
    def service(self) -> str | None:
        return self.schedule.service if self.schedule else None

    @strawberry.field(description="The service's code, for the `service` filter.")
    def service_code(self) -> str | None:
        return self.slot.service_code

    @strawberry.field(description="Who the person will meet, when known.")
    async def practitioner(self, info: Info[Context, None]) -> Practitioner | None:
        if self.schedule is None or self.schedule.practitioner_id is None:
            return None
        found = await info.context.ehr.practitioners.load(self.schedule.practitioner_id)
        return practitioner(found, "ehr")

    @strawberry.field(description="Where it takes place, when known.")
    async def location(self, info: Info[Context, None]) -> Location | None:
        if self.schedule is None or self.schedule.location_id is None:
            return None
        found = await info.context.ehr.locations.load(self.schedule.location_id)
        return location(found, "ehr")


@strawberry.type(description="One free time in a list, with its cursor.")
class BookableSlotEdge:
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: BookableSlot = strawberry.field(description="The free time.")


@strawberry.type(description="A page of free times, soonest first.")
class BookableSlotConnection:
    edges: list[BookableSlotEdge] = strawberry.field(description="The free times on this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="How many free times the list holds.")


def _window(chosen: BookableSlotFilter, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    first = chosen.from_ or now.astimezone(OSLO).date()
    last = chosen.to or first + DEFAULT_DAYS
    if last < first or (last - first).days > MAX_DAYS:
        raise BadUserInput(
            f"`to` must be on or after `from`, at most {MAX_DAYS} days later.", argument="filter"
        )
    start = dt.datetime.combine(first, dt.time(), tzinfo=OSLO)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=OSLO)
    return max(start, now), end


async def _free(
    info: Info[Context, None], subject: Subject, chosen: BookableSlotFilter
) -> list[BookableSlot]:
    require(info.context, subject, HOSPITAL, Action.WRITE)
    start, end = _window(chosen, info.context.now)
    if end <= start:
        return []
    async with watch(info.context, subject, HOSPITAL):
        slots, schedules = await info.context.ehr.appointments.free_slots(
            start, end, chosen.service
        )
    return [
        BookableSlot(
            slot=s,
            schedule=schedules.get(s.schedule_id) if s.schedule_id else None,
            subject=subject,
        )
        for s in slots
        if start <= s.start < end
    ]


@strawberry.type
class SlotFields:
    subject: strawberry.Private[Subject]

    @strawberry.field(
        description="Free times the person can book online, soonest first. Only for a "
        "viewer who may book for the person; null with an error otherwise."
    )
    async def bookable_slots(
        self,
        info: Info[Context, None],
        filter: BookableSlotFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> BookableSlotConnection | None:
        free = await _free(info, self.subject, filter or BookableSlotFilter())
        chosen, page_info = page(free, first, after)
        served(info.context, self.subject, HOSPITAL, (f"EHR/Slot/{s.slot.id}" for _, s in chosen))
        return BookableSlotConnection(
            edges=[BookableSlotEdge(cursor=c, node=s) for c, s in chosen],
            page_info=page_info,
            total_count=len(free),
        )


@fetches("Slot")
async def fetch_slot(
    info: Info[Context, None], subject: Subject, source: str, upstream_id: str
) -> BookableSlot | None:
    """One free time by id, for a viewer who may book for the person."""
    if source != "ehr" or not may(info.context, subject, HOSPITAL, Action.WRITE):
        return None
    async with watch(info.context, subject, HOSPITAL):
        found = await info.context.ehr.appointments.slot(upstream_id)
        if found is None or not found.free or found.start < info.context.now:
            return None
        schedule = (
            await info.context.ehr.appointments.schedule(found.schedule_id)
            if found.schedule_id
            else None
        )
    served(info.context, subject, HOSPITAL, (f"EHR/Slot/{found.id}",))
    return BookableSlot(slot=found, schedule=schedule, subject=subject)


@strawberry.input(description="Book a free time.")
class BookAppointmentInput:
    person_id: strawberry.ID = strawberry.field(
        description="For whom: the viewer, or someone they act for."
    )
    slot_id: strawberry.ID = strawberry.field(description="The free time (a `BookableSlot.id`).")
    reason: str | None = strawberry.field(
        default=None, description="What it is about, for the clinic (up to 500 characters)."
    )
    idempotency_key: str = strawberry.field(
        description="A client-chosen key (8-128 characters); a retry with the same key and "
        "input returns the first booking and books nothing twice."
    )


def _slot_id(info: Info[Context, None], subject: Subject, slot_id: str) -> str | None:
    owned = own_entity(info, subject, slot_id, "Slot", "ehr")
    return None if owned is None else owned[1]


async def book_appointment(
    info: Info[Context, None], data: BookAppointmentInput
) -> AppointmentPayload:
    """Book the free time for the person."""
    ctx = info.context
    errors = [
        *check_key(info, data.idempotency_key),
        *check_text(info, "reason", data.reason, limit=MAX_REASON, required=False),
    ]
    subject, denied = await acting(info, data.person_id, HOSPITAL)
    if subject is None or denied:
        return AppointmentPayload(appointment=None, user_errors=[*errors, *denied])
    slot = _slot_id(info, subject, data.slot_id)
    if slot is None:
        errors.append(user_error(info, "slotId", "INVALID"))
    if slot is None or errors:
        return AppointmentPayload(appointment=None, user_errors=errors)
    reason = data.reason.strip() if data.reason else None

    async def action(scoped: str) -> Appointment:
        patient = await ctx.ehr.patient_id(subject.nin)
        if patient is None:
            raise Refused("INVALID")
        try:
            record = await ctx.ehr.appointments.book(patient, slot, reason, idempotency=scoped)
        except UpstreamConflict:
            raise Refused("SLOT_TAKEN") from None
        except UpstreamRejected:
            raise Refused("INVALID") from None
        return Appointment(record=record, subject=subject)

    try:
        result = await once(
            info, subject, data.idempotency_key, ("book", slot, reason), action, category=HOSPITAL
        )
    except Refused as refused:
        return AppointmentPayload(
            appointment=None, user_errors=[user_error(info, "slotId", refused.code)]
        )
    if isinstance(result, UserError):
        return AppointmentPayload(appointment=None, user_errors=[result])
    served(info.context, subject, HOSPITAL, (audit_ref(result.record),), Action.WRITE)
    return AppointmentPayload(appointment=result, user_errors=[])


@strawberry.type(description="Booking appointments.")
class BookingMutations:
    @strawberry.mutation(
        description="Book a free time from `bookableSlots`. Needs write access to "
        "hospital appointments; a time taken meanwhile is SLOT_TAKEN."
    )
    async def book_appointment(
        self, info: Info[Context, None], input: BookAppointmentInput
    ) -> AppointmentPayload:
        return await book_appointment(info, input)
