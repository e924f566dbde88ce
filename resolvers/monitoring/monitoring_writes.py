"""Submitting a home measurement (range-checked, idempotent, audited)."""

from __future__ import annotations

import datetime as dt
import math

import strawberry
from strawberry.types import Info

from authz.categories import Category
from authz.policy import Action
from resolvers.core import i18n
from resolvers.core.context import Context
from resolvers.core.errors import BadUserInput, Forbidden
from resolvers.core.guard import served
from resolvers.core.node import entity_of, own_entity, refused_item
from resolvers.core.writes import UserError, acting, check_key, once, user_error
from resolvers.monitoring.measurements import (
    Measurement,
    MeasurementType,
    kind_of,
)
from resolvers.monitoring.programmes import visible_programmes
from sources import ehr_care as source

CATEGORY = Category.MONITORING
# type -> (field, low, high) for each value the type takes
RANGES: dict[MeasurementType, tuple[tuple[str, float, float], ...]] = {
    MeasurementType.BLOOD_PRESSURE: (("systolic", 50, 300), ("diastolic", 20, 200)),
    MeasurementType.PULSE: (("value", 20, 250),),
    MeasurementType.WEIGHT: (("value", 0.5, 400),),
    MeasurementType.GLUCOSE: (("value", 0.5, 40),),
    MeasurementType.SPO2: (("value", 50, 100),),
    MeasurementType.TEMPERATURE: (("value", 30, 45),),
}

i18n.add_texts(
    {
        "error.OUT_OF_RANGE": {
            "nb": "Verdien er utenfor det som er mulig å måle.",
            "nn": "Verdien er utanfor det som er mogleg å måle.",
            "en": "The value is outside what can be measured.",
        },
        "error.IN_FUTURE": {
            "nb": "Tidspunktet kan ikke være fram i tid.",
            "nn": "Tidspunktet kan ikkje vere fram i tid.",
            "en": "The time cannot be in the future.",
        },
    }
)


@strawberry.input(description="A measurement the person made at home.")
class SubmitMeasurementInput:
    person_id: strawberry.ID = strawberry.field(
        description="Whose measurement: the viewer, or someone they act for."
    )
    type: MeasurementType = strawberry.field(
        description="What was measured (not FUNDAL_HEIGHT, which the midwife measures)."
    )
    value: float | None = strawberry.field(
        default=None, description="The value, in the type's unit (not for BLOOD_PRESSURE)."
    )
    systolic: float | None = strawberry.field(
        default=None, description="Systolic pressure, 50-300 mm[Hg] (BLOOD_PRESSURE only)."
    )
    diastolic: float | None = strawberry.field(
        default=None, description="Diastolic pressure, 20-200 mm[Hg] (BLOOD_PRESSURE only)."
    )
    unit: str | None = strawberry.field(
        default=None, description="The unit; when given it must be the type's unit."
    )
    measured_at: dt.datetime = strawberry.field(
        description="When it was measured; not later than now."
    )
    programme_id: strawberry.ID | None = strawberry.field(
        default=None, description="The follow-up programme it was measured for."
    )
    idempotency_key: str = strawberry.field(
        description="A client-chosen key (8-128 characters); a retry with the same key and "
        "input returns the first result and stores nothing twice."
    )


@strawberry.type(description="The outcome of submitting a measurement.")
class SubmitMeasurementPayload:
    measurement: Measurement | None = strawberry.field(description="The stored measurement.")
    user_errors: list[UserError] = strawberry.field(description="Why it was not stored.")


def _values(
    info: Info[Context, None], data: SubmitMeasurementInput
) -> tuple[tuple[float, ...], list[UserError]]:
    ranges = RANGES.get(data.type)
    if ranges is None:
        return (), [user_error(info, "type", "INVALID")]
    errors: list[UserError] = []
    values: list[float] = []
    for field, low, high in ranges:
        value = getattr(data, field)
        if value is None:
            errors.append(user_error(info, field, "REQUIRED"))
        elif not math.isfinite(value) or not low <= value <= high:
            errors.append(user_error(info, field, "OUT_OF_RANGE"))
        else:
            values.append(round(value, 2))
    used = {f for f, _, _ in ranges}
    for field in ("value", "systolic", "diastolic"):
        if field not in used and getattr(data, field) is not None:
            errors.append(user_error(info, field, "INVALID"))
    if data.unit is not None and data.unit != source.KINDS[kind_of(data.type)][2]:
        errors.append(user_error(info, "unit", "INVALID"))
    return tuple(values), errors


TYPE = ("FollowUpProgramme", "ehr")


def _programme(programme_id: strawberry.ID | None) -> str | None:
    if programme_id is None:
        return None
    upstream = entity_of(programme_id, *TYPE)
    if upstream is None:
        raise BadUserInput("not a programme id", argument="programmeId")
    return upstream


def _reply(errors: list[UserError]) -> SubmitMeasurementPayload:
    return SubmitMeasurementPayload(measurement=None, user_errors=errors)


async def submit_measurement(
    info: Info[Context, None], data: SubmitMeasurementInput
) -> SubmitMeasurementPayload:
    """Store a measurement the person (or someone acting for them) reports."""
    ctx = info.context
    values, errors = _values(info, data)
    errors += check_key(info, data.idempotency_key)
    at = data.measured_at if data.measured_at.tzinfo else data.measured_at.replace(tzinfo=dt.UTC)
    if at > ctx.now + dt.timedelta(minutes=5):
        errors.append(user_error(info, "measuredAt", "IN_FUTURE"))
    try:
        programme = _programme(data.programme_id)
    except BadUserInput:
        errors.append(user_error(info, "programmeId", "INVALID"))
        programme = None
    subject, denied = await acting(info, data.person_id, CATEGORY)
    if subject is None or denied:
        return _reply([*errors, *denied])
    if data.programme_id is not None and programme is not None:
        if own_entity(info, subject, data.programme_id, *TYPE) is None:
            errors.append(user_error(info, "programmeId", "INVALID"))
        elif programme not in {p.id for p in await visible_programmes(info, subject)}:
            refused_item(info, subject, data.programme_id)
            errors.append(user_error(info, "programmeId", "INVALID"))
    elif data.programme_id is not None:  # malformed: already an error, now on the record
        own_entity(info, subject, data.programme_id, *TYPE)
    if errors:
        return _reply(errors)

    async def create(scoped: str) -> source.Measurement:
        patient = await ctx.ehr.patient_id(subject.nin)
        if patient is None:
            raise Forbidden()
        kind = kind_of(data.type)
        return await ctx.ehr.care.submit(patient, kind, values, at, programme, idempotency=scoped)

    parts = (data.type.value, values, at.isoformat(), programme)
    result = await once(info, subject, data.idempotency_key, parts, create, category=CATEGORY)
    if isinstance(result, UserError):
        return _reply([result])
    served(info.context, subject, CATEGORY, (f"EHR/Observation/{result.id}",), Action.WRITE)
    return SubmitMeasurementPayload(
        measurement=Measurement(record=result, subject=subject), user_errors=[]
    )


@strawberry.type(description="Reporting home measurements.")
class MonitoringMutations:
    @strawberry.mutation(
        description="Report a home measurement; it is stored as reported by the patient "
        "and unconfirmed until a clinician confirms it. Needs the `monitoring` write "
        "permission."
    )
    async def submit_measurement(
        self, info: Info[Context, None], input: SubmitMeasurementInput
    ) -> SubmitMeasurementPayload:
        return await submit_measurement(info, input)
