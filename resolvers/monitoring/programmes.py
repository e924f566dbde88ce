"""Follow-up programmes: what the care team asks the person to measure at home, and how
often."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from resolvers.core import i18n
from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.guard import require, served, visible, watch
from resolvers.core.i18n import text
from resolvers.core.node import Node, fetches, node_id
from resolvers.monitoring.measurements import CATEGORY, MeasurementType, measurement_type
from sources import ehr_care as source

i18n.add_texts(
    {
        "programme.ACTIVE": {"nb": "Pågår", "nn": "Pågår", "en": "Ongoing"},
        "programme.ON_HOLD": {"nb": "På pause", "nn": "På pause", "en": "On hold"},
        "programme.COMPLETED": {"nb": "Avsluttet", "nn": "Avslutta", "en": "Completed"},
        "programme.OTHER": {"nb": "Annet", "nn": "Anna", "en": "Other"},
    }
)


@strawberry.enum(description="Where a follow-up programme stands.")
class ProgrammeStatus(Enum):
    ACTIVE = strawberry.enum_value("ACTIVE", description="Ongoing.")
    ON_HOLD = strawberry.enum_value("ON_HOLD", description="Paused.")
    COMPLETED = strawberry.enum_value("COMPLETED", description="Ended.")
    OTHER = strawberry.enum_value("OTHER", description="Anything else.")


_STATUS = {
    "active": ProgrammeStatus.ACTIVE,
    "on-hold": ProgrammeStatus.ON_HOLD,
    "completed": ProgrammeStatus.COMPLETED,
}


@strawberry.type(description="Something a programme asks the person to measure, and how often.")
class ProgrammeActivity:
    type: MeasurementType | None = strawberry.field(description="What to measure.")
    instruction: str = strawberry.field(description="How, as the care team wrote it.")
    times: int | None = strawberry.field(description="How many times per period.")
    period: float | None = strawberry.field(description="The period's length, in `periodUnit`.")
    period_unit: str | None = strawberry.field(description="h, d, wk or mo.")


@strawberry.type(description="A follow-up programme (e.g. home blood-pressure follow-up).")
class FollowUpProgramme(Node):
    record: strawberry.Private[source.Programme]
    subject: strawberry.Private[Subject]

    @strawberry.field(description="Opaque id; pass it as `programmeId` with a measurement.")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        return node_id(info, self.subject, "FollowUpProgramme", "ehr", self.record.id)

    @strawberry.field(description="The programme's title.")
    def title(self) -> str:
        return self.record.title

    @strawberry.field(description="Where it stands.")
    def status(self) -> ProgrammeStatus:
        return _STATUS.get(self.record.status, ProgrammeStatus.OTHER)

    @strawberry.field(description="`status` in the caller's language.")
    def status_text(self, info: Info[Context, None]) -> str:
        return text(f"programme.{self.status().value}", info.context.language)

    @strawberry.field(description="First day.")
    def start(self) -> dt.date | None:
        return self.record.start

    @strawberry.field(description="Last day, when planned.")
    def end(self) -> dt.date | None:
        return self.record.end

    @strawberry.field(description="The care team's contact person.")
    def contact_name(self) -> str | None:
        return self.record.contact

    @strawberry.field(description="What to measure and how often.")
    def activities(self) -> list[ProgrammeActivity]:
        return [
            ProgrammeActivity(
                type=measurement_type(a.kind) if a.kind else None,
                instruction=a.text,
                times=a.frequency,
                period=a.period,
                period_unit=a.period_unit,
            )
            for a in self.record.activities
        ]


async def visible_programmes(info: Info[Context, None], subject: Subject) -> list[source.Programme]:
    """Every programme this view may see."""
    require(info.context, subject, CATEGORY)
    ctx = info.context
    async with watch(info.context, subject, CATEGORY):
        patient = await ctx.ehr.patient_id(subject.nin)
        records = [] if patient is None else await ctx.ehr.care.programmes(patient)
    return visible(info.context, subject, records, lambda p: p.security)


@fetches("FollowUpProgramme")
async def fetch_programme(
    info: Info[Context, None], subject: Subject, source_name: str, upstream_id: str
) -> FollowUpProgramme | None:
    """One programme by id, through the same checks as the list."""
    if source_name != "ehr":
        return None
    for record in await visible_programmes(info, subject):
        if record.id == upstream_id:
            served(info.context, subject, CATEGORY, (f"EHR/CarePlan/{record.id}",))
            return FollowUpProgramme(record=record, subject=subject)
    return None
