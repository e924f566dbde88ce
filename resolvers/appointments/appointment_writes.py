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

from collections.abc import Awaitable, Callable

import strawberry
from strawberry.types import Info

from authz.policy import Action
from resolvers.appointments.appointment_rules import (
    cancel_problem,
    category_of,
    changeable,
    check_in_problem,
    reschedule_problem,
)
from resolvers.appointments.appointment_types import Appointment
from resolvers.appointments.appointments import audit_ref, find_appointment
from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.errors import BadUserInput, CategoryUnavailable, Forbidden
from resolvers.core.guard import require, served
from resolvers.core.i18n import add_texts
from resolvers.core.node import own_entity, refused_item
from resolvers.core.writes import UserError, check_key, check_text, once, user_error
from sources import models
from sources.ehr_appointments import Held
from sources.errors import UpstreamConflict, UpstreamRejected

MAX_REASON = 500
MAX_MESSAGE = 1000
FIELD = "appointmentId"

add_texts(
    {
        "error.NOT_CANCELLABLE": {
            "nb": "Denne timen kan ikke avbestilles her. Kontakt behandlingsstedet.",
            "nn": "Denne timen kan ikkje avbestillast her. Kontakt behandlingsstaden.",
            "en": "This appointment cannot be cancelled here. Please contact the clinic.",
        },
        "error.NOT_RESCHEDULABLE": {
            "nb": "Denne timen kan ikke flyttes her. Kontakt behandlingsstedet.",
            "nn": "Denne timen kan ikkje flyttast her. Kontakt behandlingsstaden.",
            "en": "This appointment cannot be moved here. Please contact the clinic.",
        },
        "error.NOT_CHECKABLE": {
            "nb": "Du kan ikke melde ankomst til denne timen.",
            "nn": "Du kan ikkje melde frå om at du er komen til denne timen.",
            "en": "You cannot check in for this appointment.",
        },
        "error.TOO_LATE": {
            "nb": "Det er for sent til dette.",
            "nn": "Det er for seint til dette.",
            "en": "It is too late for this.",
        },
        "error.NOT_YET": {
            "nb": "Det er for tidlig til dette.",
            "nn": "Det er for tidleg til dette.",
            "en": "It is too early for this.",
        },
        "error.APPOINTMENT_CHANGED": {
            "nb": "Timen ble endret i mellomtiden. Last inn på nytt og prøv igjen.",
            "nn": "Timen vart endra i mellomtida. Last inn på nytt og prøv igjen.",
            "en": "The appointment changed meanwhile. Please reload and try again.",
        },
    }
)


class Refused(Exception):
    """A rule refused the change; becomes a user error (and is not remembered as the
    key's result, so a later retry is judged afresh)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@strawberry.type(description="The outcome of a change to an appointment.")
class AppointmentPayload:
    appointment: Appointment | None = strawberry.field(
        description="The appointment as it is now; null when nothing was changed."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing was changed.")


async def target(
    info: Info[Context, None], person_id: str, appointment_id: str, key: str
) -> tuple[Subject | None, models.Appointment | None, list[UserError]]:
    """The person and the appointment the input names, when the viewer may change it."""
    ctx = info.context
    errors = check_key(info, key)
    try:
        subject = await ctx.access.subject(person_id, action=Action.WRITE)
    except BadUserInput:
        return None, None, [*errors, user_error(info, "personId", "INVALID")]
    except Forbidden:
        return None, None, [*errors, user_error(info, "personId", "FORBIDDEN")]
    owned = own_entity(info, subject, appointment_id, "Appointment")
    record = None if owned is None else await find_appointment(info, subject, *owned)
    if record is None:
        if owned is not None:
            refused_item(info, subject, appointment_id)
        return subject, None, [*errors, user_error(info, FIELD, "INVALID")]
    try:
        require(info.context, subject, category_of(record), Action.WRITE)
    except CategoryUnavailable:
        return subject, None, [*errors, user_error(info, "personId", "CATEGORY_UNAVAILABLE")]
    return subject, record, errors


Change = Callable[[str, models.Appointment, Held, str], Awaitable[models.Appointment]]


async def change(
    info: Info[Context, None],
    subject: Subject,
    record: models.Appointment,
    key: str,
    parts: tuple[object, ...],
    apply: Change,
    refuse: str,
) -> AppointmentPayload:
    """Run `apply(patient, current record, the record held for a change, scoped key)` once
    per key."""
    ctx = info.context

    async def action(scoped: str) -> Appointment:
        if not changeable(record):
            raise Refused(refuse)  # the municipal APIs take no changes
        patient = await ctx.ehr.patient_id(subject.nin)
        found = (
            None if patient is None else await ctx.ehr.appointments.appointment(patient, record.id)
        )
        if patient is None or found is None:
            raise Refused("INVALID")
        try:
            changed = await apply(patient, found.record, found, scoped)
        except UpstreamConflict:
            raise Refused("APPOINTMENT_CHANGED") from None
        except UpstreamRejected:
            raise Refused(refuse) from None  # the EHR's own rules said no
        return Appointment(record=changed, subject=subject)

    try:
        result = await once(info, subject, key, (record.id, *parts), action)
    except Refused as refused:
        return AppointmentPayload(
            appointment=None, user_errors=[user_error(info, FIELD, refused.code)]
        )
    if isinstance(result, UserError):
        return AppointmentPayload(appointment=None, user_errors=[result])
    served(
        info.context, subject, category_of(result.record), (audit_ref(result.record),), Action.WRITE
    )
    return AppointmentPayload(appointment=result, user_errors=[])


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
