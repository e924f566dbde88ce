"""Home measurements (blood pressure, pulse, weight, ...): the list, one by id, and what was
measured."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from authz.categories import Category
from resolvers.core.access import Subject
from resolvers.core.common import PageInfo, page
from resolvers.core.context import Context
from resolvers.core.guard import require, served, visible, watch
from resolvers.core.i18n import text
from resolvers.core.node import Node, fetches, node_id
from resolvers.core.reported import Confirmation, Origin
from sources import ehr_care as source

CATEGORY = Category.MONITORING


@strawberry.enum(description="What was measured.")
class MeasurementType(Enum):
    BLOOD_PRESSURE = strawberry.enum_value(
        "BLOOD_PRESSURE", description="Blood pressure: `systolic`/`diastolic` in mm[Hg]."
    )
    PULSE = strawberry.enum_value("PULSE", description="Heart rate, beats per minute (/min).")
    WEIGHT = strawberry.enum_value("WEIGHT", description="Body weight in kg.")
    GLUCOSE = strawberry.enum_value("GLUCOSE", description="Blood glucose in mmol/L.")
    SPO2 = strawberry.enum_value("SPO2", description="Oxygen saturation in %.")
    TEMPERATURE = strawberry.enum_value("TEMPERATURE", description="Body temperature in Cel.")
    FUNDAL_HEIGHT = strawberry.enum_value(
        "FUNDAL_HEIGHT", description="Fundal height in cm (pregnancy checks)."
    )


def measurement_type(kind: str) -> MeasurementType:
    """The graph's type of a source kind."""
    return MeasurementType(kind.upper().replace("-", "_"))


def kind_of(value: MeasurementType) -> str:
    """The source kind of a graph type."""
    return str(value.name).lower().replace("_", "-")


@strawberry.type(description="One measurement.")
class Measurement(Node):
    record: strawberry.Private[source.Measurement]
    subject: strawberry.Private[Subject]

    @strawberry.field(description="Opaque id.")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        return node_id(info, self.subject, "Measurement", "ehr", self.record.id)

    @strawberry.field(description="What was measured.")
    def type(self) -> MeasurementType:
        return measurement_type(self.record.kind)

    @strawberry.field(description="The value (null for blood pressure: see systolic/diastolic).")
    def value(self) -> float | None:
        return self.record.value

    @strawberry.field(description="Systolic pressure (blood pressure only).")
    def systolic(self) -> float | None:
        return self.record.systolic

    @strawberry.field(description="Diastolic pressure (blood pressure only).")
    def diastolic(self) -> float | None:
        return self.record.diastolic

    @strawberry.field(description="The unit (UCUM), e.g. mm[Hg], kg, /min, mmol/L, %, Cel.")
    def unit(self) -> str:
        return self.record.unit

    @strawberry.field(description="When it was measured.")
    def measured_at(self) -> dt.datetime | None:
        return self.record.at

    @strawberry.field(description="Who reported it.")
    def origin(self) -> Origin:
        return Origin.REPORTED_BY_PATIENT if self.record.reported_by_patient else Origin.CLINICIAN

    @strawberry.field(description="Whether a clinician has confirmed it.")
    def confirmation(self) -> Confirmation:
        return Confirmation.CONFIRMED if self.record.confirmed else Confirmation.UNCONFIRMED

    @strawberry.field(description="`confirmation` in the caller's language.")
    def confirmation_text(self, info: Info[Context, None]) -> str:
        return text(f"confirmation.{self.confirmation().value}", info.context.language)

    @strawberry.field(description="The follow-up programme it was measured for, if any.")
    def programme_id(self, info: Info[Context, None]) -> strawberry.ID | None:
        found = self.record.programme_id
        return node_id(info, self.subject, "FollowUpProgramme", "ehr", found) if found else None


@strawberry.type(description="One measurement in a list, with its cursor.")
class MeasurementEdge:
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: Measurement = strawberry.field(description="The measurement.")


@strawberry.type(description="A page of measurements, newest first.")
class MeasurementConnection:
    edges: list[MeasurementEdge] = strawberry.field(description="The measurements on this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="How many measurements the list holds.")


@strawberry.input(description="Which measurements to list.")
class MeasurementFilter:
    type: MeasurementType | None = strawberry.field(default=None, description="Only this type.")
    from_: dt.datetime | None = strawberry.field(
        default=None, name="from", description="Measured at or after this moment."
    )
    to: dt.datetime | None = strawberry.field(
        default=None, description="Measured before this moment."
    )


async def visible_measurements(
    info: Info[Context, None], subject: Subject
) -> list[source.Measurement]:
    """Every measurement this view may see, newest first."""
    require(info.context, subject, CATEGORY)
    ctx = info.context
    async with watch(info.context, subject, CATEGORY):
        patient = await ctx.ehr.patient_id(subject.nin)
        records = [] if patient is None else await ctx.ehr.care.measurements(patient)
    shown = visible(info.context, subject, records, lambda m: m.security)
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    shown.sort(key=lambda m: (m.at or epoch, m.id), reverse=True)
    return shown


async def measurements_of(
    info: Info[Context, None],
    subject: Subject,
    first: int,
    after: str | None,
    filter: MeasurementFilter | None,
) -> MeasurementConnection:
    """The person's measurements, filtered and paged."""
    chosen = filter or MeasurementFilter()
    shown = await visible_measurements(info, subject)
    if chosen.type is not None:
        shown = [m for m in shown if m.kind == kind_of(chosen.type)]
    if chosen.from_ is not None:
        shown = [m for m in shown if m.at is not None and m.at >= chosen.from_]
    if chosen.to is not None:
        shown = [m for m in shown if m.at is not None and m.at < chosen.to]
    picked, page_info = page(shown, first, after)
    served(info.context, subject, CATEGORY, (f"EHR/Observation/{m.id}" for _, m in picked))
    return MeasurementConnection(
        edges=[
            MeasurementEdge(cursor=c, node=Measurement(record=m, subject=subject))
            for c, m in picked
        ],
        page_info=page_info,
        total_count=len(shown),
    )


@fetches("Measurement")
async def fetch_measurement(
    info: Info[Context, None], subject: Subject, source_name: str, upstream_id: str
) -> Measurement | None:
    """One measurement by id, through the same checks as the list."""
    if source_name != "ehr":
        return None
    for record in await visible_measurements(info, subject):
        if record.id == upstream_id:
            served(info.context, subject, CATEGORY, (f"EHR/Observation/{record.id}",))
            return Measurement(record=record, subject=subject)
    return None
