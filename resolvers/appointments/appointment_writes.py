"""Changing an appointment: cancel it, ask to move it, check in on the day.

Each mutation finds the appointment through the same guarded path as the lists (an id
of something hidden or of someone else is INVALID, like an id of nothing), needs WRITE
on the appointment's own category (`hospital_appointments` or
`municipal_appointments`), is idempotent per key, writes an audit record, and shows in
the next read. Rules the person can act on are user errors on `appointmentId`:
NOT_CANCELLABLE, NOT_RESCHEDULABLE, NOT_CHECKABLE, TOO_LATE, NOT_YET, and
APPOINTMENT_CHANGED when the care provider changed it meanwhile.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers.appointments.appointment_changes import AppointmentPayload, Refused, change, target
from resolvers.appointments.appointment_rules import (
    cancel_problem,
    check_in_problem,
    reschedule_problem,
)
from resolvers.core.context import Context
from resolvers.core.writes import check_text
from sources import models
from sources.ehr_appointments import Held

MAX_REASON = 500
MAX_MESSAGE = 1000


@strawberry.input(description="Cancel an appointment.")
class CancelAppointmentInput:
    person_id: strawberry.ID = strawberry.field(
        description="Whose appointment: the viewer, or someone they act for."
    )
    appointment_id: strawberry.ID = strawberry.field(description="The appointment (its `id`).")
    reason: str | None = strawberry.field(
        default=None, description="Why, for the care provider (up to 500 characters)."
    )
    idempotency_key: str = strawberry.field(
        description="A client-chosen key (8-128 characters); a retry with the same key and "
        "input returns the first result and changes nothing twice."
    )


@strawberry.input(description="Ask the care provider to move an appointment.")
class RequestRescheduleInput:
    person_id: strawberry.ID = strawberry.field(
        description="Whose appointment: the viewer, or someone they act for."
    )
    appointment_id: strawberry.ID = strawberry.field(description="The appointment (its `id`).")
    message: str = strawberry.field(
        description="When would suit better, and why (1-1000 characters)."
    )
    idempotency_key: str = strawberry.field(
        description="A client-chosen key (8-128 characters); a retry with the same key and "
        "input returns the first result and asks only once."
    )


@strawberry.input(description='Check in for an appointment on the day ("I am here").')
class CheckInInput:
    person_id: strawberry.ID = strawberry.field(
        description="Whose appointment: the viewer, or someone they act for."
    )
    appointment_id: strawberry.ID = strawberry.field(description="The appointment (its `id`).")
    idempotency_key: str = strawberry.field(
        description="A client-chosen key (8-128 characters); a retry with the same key "
        "returns the first result."
    )


async def cancel_appointment(
    info: Info[Context, None], data: CancelAppointmentInput
) -> AppointmentPayload:
    """Cancel where the care provider allows it, before its deadline."""
    subject, record, errors = await target(
        info, data.person_id, data.appointment_id, data.idempotency_key
    )
    errors += check_text(info, "reason", data.reason, limit=MAX_REASON, required=False)
    if subject is None or record is None or errors:
        return AppointmentPayload(appointment=None, user_errors=errors)
    now = info.context.now

    async def apply(
        patient: str, current: models.Appointment, held: Held, _: str
    ) -> models.Appointment:
        if current.status == "cancelled":
            return current  # already done (a retry that reached another replica)
        problem = cancel_problem(current, now)
        if problem is not None:
            raise Refused(problem)
        reason = data.reason.strip() if data.reason else None
        return await info.context.ehr.appointments.set_status(held, patient, "cancelled", reason)

    parts = ("cancel", data.reason)
    return await change(
        info, subject, record, data.idempotency_key, parts, apply, "NOT_CANCELLABLE"
    )


async def request_reschedule(
    info: Info[Context, None], data: RequestRescheduleInput
) -> AppointmentPayload:
    """File the wish to move it with the care provider."""
    subject, record, errors = await target(
        info, data.person_id, data.appointment_id, data.idempotency_key
    )
    errors += check_text(info, "message", data.message, limit=MAX_MESSAGE)
    if subject is None or record is None or errors:
        return AppointmentPayload(appointment=None, user_errors=errors)
    now = info.context.now

    async def apply(
        patient: str, current: models.Appointment, _: Held, scoped: str
    ) -> models.Appointment:
        problem = reschedule_problem(current, now)
        if problem is not None:
            raise Refused(problem)
        await info.context.ehr.appointments.request_reschedule(
            patient, current.id, data.message.strip(), idempotency=scoped
        )
        return current

    parts = ("reschedule", data.message)
    return await change(
        info, subject, record, data.idempotency_key, parts, apply, "NOT_RESCHEDULABLE"
    )


async def check_in(info: Info[Context, None], data: CheckInInput) -> AppointmentPayload:
    """Tell the clinic the person has arrived (in person, on the day, in the window)."""
    subject, record, errors = await target(
        info, data.person_id, data.appointment_id, data.idempotency_key
    )
    if subject is None or record is None or errors:
        return AppointmentPayload(appointment=None, user_errors=errors)
    now = info.context.now

    async def apply(
        patient: str, current: models.Appointment, held: Held, _: str
    ) -> models.Appointment:
        if current.status == "arrived":
            return current
        problem = check_in_problem(current, now)
        if problem is not None:
            raise Refused(problem)
        return await info.context.ehr.appointments.set_status(held, patient, "arrived")

    parts = ("check-in",)
    return await change(info, subject, record, data.idempotency_key, parts, apply, "NOT_CHECKABLE")


@strawberry.type(description="Changing appointments.")
class AppointmentMutations:
    @strawberry.mutation(
        description="Cancel an appointment, where the care provider allows it online and "
        "before its deadline. Needs write access to the appointment's category."
    )
    async def cancel_appointment(
        self, info: Info[Context, None], input: CancelAppointmentInput
    ) -> AppointmentPayload:
        return await cancel_appointment(info, input)

    @strawberry.mutation(
        description="Ask the care provider to move an appointment; it shows "
        "`rescheduleRequested: true` until they answer."
    )
    async def request_reschedule(
        self, info: Info[Context, None], input: RequestRescheduleInput
    ) -> AppointmentPayload:
        return await request_reschedule(info, input)

    @strawberry.mutation(
        description='E-check-in ("I am here"): for an appointment in person, on the day, '
        "from shortly before to shortly after its start."
    )
    async def check_in(self, info: Info[Context, None], input: CheckInInput) -> AppointmentPayload:
        return await check_in(info, input)
