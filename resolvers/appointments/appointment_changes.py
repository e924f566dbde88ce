"""The shared path of every change to an appointment: find the appointment the input names
when the viewer may change it (`target`), run the change once per key against the EHR's
current record (`change`), and the outcome (`AppointmentPayload`), with the user errors a
rule can give on `appointmentId` (`Refused`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry
from strawberry.types import Info

from authz.policy import Action
from resolvers.appointments.appointment_rules import category_of, changeable
from resolvers.appointments.appointment_types import Appointment
from resolvers.appointments.appointments import audit_ref, find_appointment
from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.errors import BadUserInput, CategoryUnavailable, Forbidden
from resolvers.core.guard import require, served
from resolvers.core.i18n import add_texts
from resolvers.core.node import own_entity, refused_item
from resolvers.core.writes import UserError, check_key, once, user_error
from sources import models
from sources.ehr_appointments import Held
from sources.errors import UpstreamConflict, UpstreamRejected

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
        result = await once(
            info, subject, key, (record.id, *parts), action, category=category_of(record)
        )
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
