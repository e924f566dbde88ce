"""What a person may do with an appointment, and when (pure functions of the record and
the clock; the EHR states the windows, these are the fallbacks)."""

from __future__ import annotations

import datetime as dt

from authz.categories import Category
from authz.relations import OSLO
from sources import models

HOSPITAL = Category.HOSPITAL_APPOINTMENTS
MUNICIPAL = Category.MUNICIPAL_APPOINTMENTS
CANCEL_DEADLINE = dt.timedelta(hours=24)
CHECK_IN_OPENS = dt.timedelta(minutes=60)
CHECK_IN_CLOSES = dt.timedelta(minutes=15)
CANCELLABLE = frozenset({"booked", "proposed", "pending"})


def category_of(record: models.Appointment) -> Category:
    """The policy category: municipal care (from the municipal API or run by a
    municipality on the shared EHR) or hospital care."""
    if record.municipality is not None or record.source.municipality is not None:
        return MUNICIPAL
    return HOSPITAL


def source_key(record: models.Appointment) -> str:
    """The source part of the appointment's ids: `ehr`, or `m` and the municipality."""
    municipality = record.source.municipality
    return "ehr" if municipality is None else f"m{municipality}"


def changeable(record: models.Appointment) -> bool:
    """True when the source takes changes from the portal (the EHR; municipal APIs do not)."""
    return record.source.kind is models.SourceKind.EHR


def cancel_problem(record: models.Appointment, now: dt.datetime) -> str | None:
    """Why the person may not cancel now (a user error code), or None."""
    if not changeable(record) or not record.cancellable or record.status not in CANCELLABLE:
        return "NOT_CANCELLABLE"
    if record.start <= now:
        return "TOO_LATE"
    if now > record.start - (record.cancel_deadline or CANCEL_DEADLINE):
        return "TOO_LATE"
    return None


def reschedule_problem(record: models.Appointment, now: dt.datetime) -> str | None:
    """Why the person may not ask to move it, or None."""
    if not changeable(record) or record.status not in CANCELLABLE or record.start <= now:
        return "NOT_RESCHEDULABLE"
    return None


def check_in_problem(record: models.Appointment, now: dt.datetime) -> str | None:
    """Why the person may not check in now (NOT_CHECKABLE, NOT_YET, TOO_LATE), or None."""
    if not changeable(record) or record.video or record.status != "booked":
        return "NOT_CHECKABLE"
    if record.start.astimezone(OSLO).date() != now.astimezone(OSLO).date():
        return "NOT_YET" if now < record.start else "TOO_LATE"
    if now < record.start - (record.check_in_opens or CHECK_IN_OPENS):
        return "NOT_YET"
    if now > record.start + (record.check_in_closes or CHECK_IN_CLOSES):
        return "TOO_LATE"
    return None
