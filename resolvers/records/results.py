"""Laboratory results from the EHR."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from authz.categories import Category
from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.errors import BadUserInput
from resolvers.core.guard import require, served, visible, watch
from resolvers.core.node import Node, fetches, node_id
from sources import models

MAX_RESULTS = 50
FETCH = 100  # read past hidden items, so a hidden result never leaves a gap


@strawberry.enum(description="How a result compares with its reference range.")
class Interpretation(Enum):
    NORMAL = strawberry.enum_value("N", description="Within the reference range.")
    HIGH = strawberry.enum_value("H", description="Above the reference range.")
    LOW = strawberry.enum_value("L", description="Below the reference range.")
    ABNORMAL = strawberry.enum_value("A", description="Outside normal, direction not given.")
    UNKNOWN = strawberry.enum_value("UNKNOWN", description="Not interpreted.")


@strawberry.type(description="The range a healthy value lies in.")
class ReferenceRange:
    low: float | None = strawberry.field(description="Lower limit, when there is one.")
    high: float | None = strawberry.field(description="Upper limit, when there is one.")


@strawberry.type(description="One laboratory result.")
class LabResult(Node):
    record: strawberry.Private[models.LabResult]
    subject: strawberry.Private[Subject]

    @strawberry.field(description="Opaque id.")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        return node_id(info, self.subject, "LabResult", "ehr", self.record.id)

    @strawberry.field(description="What was measured, as the laboratory names it.")
    def name(self) -> str:
        return self.record.name

    @strawberry.field(description="The analysis code (LOINC), for programs.")
    def code(self) -> str | None:
        return self.record.code

    @strawberry.field(description="The numeric value, when the result is a number.")
    def value(self) -> float | None:
        return self.record.value

    @strawberry.field(description="The result as text, when it is not a number.")
    def value_text(self) -> str | None:
        return self.record.value_text

    @strawberry.field(description="Unit of the value.")
    def unit(self) -> str | None:
        return self.record.unit

    @strawberry.field(description="The reference range, when the laboratory gives one.")
    def reference_range(self) -> ReferenceRange | None:
        if self.record.low is None and self.record.high is None:
            return None
        return ReferenceRange(low=self.record.low, high=self.record.high)

    @strawberry.field(description="High, low or normal.")
    def interpretation(self) -> Interpretation:
        try:
            return Interpretation(self.record.interpretation)
        except ValueError:
            return Interpretation.UNKNOWN

    @strawberry.field(description="When the sample was taken.")
    def taken_at(self) -> dt.datetime | None:
        return self.record.taken_at


async def visible_lab_results(
    info: Info[Context, None], subject: Subject
) -> list[models.LabResult]:
    """The newest results (up to 100 read) this view may see, newest first; not audited."""
    require(info.context, subject, Category.RESULTS)
    ctx = info.context
    async with watch(info.context, subject, Category.RESULTS):
        patient = await ctx.ehr.patient_id(subject.nin)
        records = [] if patient is None else await ctx.ehr.lab_results(patient, FETCH)
    return visible(info.context, subject, records, lambda r: r.security, lambda r: r.taken_at)


async def latest_lab_results(
    info: Info[Context, None], subject: Subject, first: int
) -> list[LabResult]:
    """The newest results this view may see, newest first."""
    if first < 1 or first > MAX_RESULTS:
        raise BadUserInput(f"`first` must be between 1 and {MAX_RESULTS}.", argument="first")
    shown = (await visible_lab_results(info, subject))[:first]
    served(info.context, subject, Category.RESULTS, (f"EHR/Observation/{r.id}" for r in shown))
    return [LabResult(record=r, subject=subject) for r in shown]


@fetches("LabResult")
async def fetch_lab_result(
    info: Info[Context, None], subject: Subject, source: str, upstream_id: str
) -> LabResult | None:
    """One result by id: the person's, a laboratory result, and visible to this view."""
    if source != "ehr":
        return None
    require(info.context, subject, Category.RESULTS)
    async with watch(info.context, subject, Category.RESULTS):
        record = await info.context.ehr.lab_result(subject.nin, upstream_id)
    if record is None:
        return None
    if not visible(info.context, subject, [record], lambda r: r.security, lambda r: r.taken_at):
        return None
    served(info.context, subject, Category.RESULTS, (f"EHR/Observation/{record.id}",))
    return LabResult(record=record, subject=subject)
