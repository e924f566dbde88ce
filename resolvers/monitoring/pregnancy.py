"""Digital pregnancy care: the pregnancy, its health card, checks and documents."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from authz.categories import Category
from resolvers.core import i18n
from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.guard import may, require, served, visible, watch
from resolvers.core.i18n import text
from resolvers.core.node import node_id
from resolvers.monitoring.measurements import Measurement
from sources import ehr_pregnancy as source

CATEGORY = Category.PREGNANCY

i18n.add_texts(
    {
        "pregnancy.ACTIVE": {"nb": "Pågår", "nn": "Pågår", "en": "Ongoing"},
        "pregnancy.PLANNED": {"nb": "Planlagt", "nn": "Planlagd", "en": "Planned"},
        "check.BOOKED": {"nb": "Avtalt", "nn": "Avtalt", "en": "Booked"},
        "check.DONE": {"nb": "Gjennomført", "nn": "Gjennomført", "en": "Done"},
        "check.CANCELLED": {"nb": "Avlyst", "nn": "Avlyst", "en": "Cancelled"},
    }
)


@strawberry.enum(description="Where the pregnancy care stands.")
class PregnancyStatus(Enum):
    ACTIVE = strawberry.enum_value("ACTIVE", description="The pregnancy is being followed.")
    PLANNED = strawberry.enum_value("PLANNED", description="Care is planned but not started.")


@strawberry.enum(description="Where a pregnancy check stands.")
class CheckStatus(Enum):
    BOOKED = strawberry.enum_value("BOOKED", description="Coming up.")
    DONE = strawberry.enum_value("DONE", description="Held.")
    CANCELLED = strawberry.enum_value("CANCELLED", description="Cancelled or missed.")


_CHECKS = {
    "booked": CheckStatus.BOOKED,
    "pending": CheckStatus.BOOKED,
    "fulfilled": CheckStatus.DONE,
}


@strawberry.type(description="A pregnancy check (svangerskapskontroll).")
class PregnancyCheck:
    record: strawberry.Private[source.Check]
    subject: strawberry.Private[Subject]

    @strawberry.field(description="The check's `Appointment` id (fetch it with `node`).")
    def appointment_id(self, info: Info[Context, None]) -> strawberry.ID:
        return node_id(info, self.subject, "Appointment", "ehr", self.record.id)

    @strawberry.field(description="When it starts.")
    def start(self) -> dt.datetime | None:
        return self.record.start

    @strawberry.field(description="Where it stands.")
    def status(self) -> CheckStatus:
        return _CHECKS.get(self.record.status, CheckStatus.CANCELLED)

    @strawberry.field(description="`status` in the caller's language.")
    def status_text(self, info: Info[Context, None]) -> str:
        return text(f"check.{self.status().value}", info.context.language)


@strawberry.type(description="A document belonging to the pregnancy care.")
class PregnancyDocument:
    id: strawberry.ID = strawberry.field(description="The `Document` id (fetch it with `node`).")
    title: str = strawberry.field(description="The document's title.")
    date: dt.datetime | None = strawberry.field(description="When it was written.")


@strawberry.type(description="Digital pregnancy care: the health card, checks and documents.")
class PregnancyCare:
    record: strawberry.Private[source.Pregnancy]
    subject: strawberry.Private[Subject]

    @strawberry.field(description="Where the care stands.")
    def status(self) -> PregnancyStatus:
        return (
            PregnancyStatus.PLANNED if self.record.status == "planned" else PregnancyStatus.ACTIVE
        )

    @strawberry.field(description="`status` in the caller's language.")
    def status_text(self, info: Info[Context, None]) -> str:
        return text(f"pregnancy.{self.status().value}", info.context.language)

    @strawberry.field(description="The first day of the last period, when recorded.")
    def started(self) -> dt.date | None:
        return self.record.start

    @strawberry.field(description="The estimated due date (termin).")
    def estimated_due_date(self) -> dt.date | None:
        return self.record.due

    @strawberry.field(description="Completed weeks of pregnancy today.")
    def week(self, info: Info[Context, None]) -> int | None:
        if self.record.start is None:
            return None
        return (info.context.now.date() - self.record.start).days // 7

    @strawberry.field(
        description="The health card: blood pressure, weight and fundal height from the "
        "checks, newest first."
    )
    def health_card(self) -> list[Measurement]:
        found = sorted(
            self.record.measurements,
            key=lambda m: (m.at or dt.datetime.min.replace(tzinfo=dt.UTC), m.id),
            reverse=True,
        )
        return [Measurement(record=m, subject=self.subject) for m in found]

    @strawberry.field(description="The checks, past and planned, in time order.")
    def checks(self) -> list[PregnancyCheck]:
        return [PregnancyCheck(record=c, subject=self.subject) for c in self.record.checks]

    @strawberry.field(
        description="Documents of the pregnancy care; empty when the viewer may not see documents."
    )
    def documents(self, info: Info[Context, None]) -> list[PregnancyDocument]:
        if not may(info.context, self.subject, Category.DOCUMENTS):
            return []
        shown = visible(info.context, self.subject, self.record.documents, lambda d: d.security)
        served(
            info.context,
            self.subject,
            Category.DOCUMENTS,
            (f"EHR/DocumentReference/{d.id}" for d in shown),
        )
        return [
            PregnancyDocument(
                id=node_id(info, self.subject, "Document", "ehr", d.id), title=d.title, date=d.date
            )
            for d in shown
        ]


def _references(found: source.Pregnancy) -> list[str]:
    return [
        f"EHR/EpisodeOfCare/{found.id}",
        *(f"EHR/Observation/{m.id}" for m in found.measurements),
        *(f"EHR/Appointment/{c.id}" for c in found.checks),
    ]


async def pregnancy_of(info: Info[Context, None], subject: Subject) -> PregnancyCare | None:
    """The person's pregnancy care, when there is one this view may see."""
    require(info.context, subject, CATEGORY)
    ctx = info.context
    async with watch(info.context, subject, CATEGORY):
        patient = await ctx.ehr.patient_id(subject.nin)
        found = None if patient is None else await ctx.ehr.pregnancy.of(patient)
    if found is None or not visible(info.context, subject, [found], lambda p: p.security):
        return None
    measurements = tuple(visible(info.context, subject, found.measurements, lambda m: m.security))
    shown = source.Pregnancy(
        id=found.id,
        status=found.status,
        start=found.start,
        due=found.due,
        measurements=measurements,
        checks=found.checks,
        documents=found.documents,
        security=found.security,
    )
    served(info.context, subject, CATEGORY, _references(shown))
    return PregnancyCare(record=shown, subject=subject)


@strawberry.type
class PregnancyFields:
    subject: strawberry.Private[Subject]

    @strawberry.field(
        description="Digital pregnancy care (health card, checks, documents); null when "
        "there is no ongoing pregnancy. Pregnancy questionnaires are in `questionnaires` "
        "(kind PREGNANCY)."
    )
    async def pregnancy(self, info: Info[Context, None]) -> PregnancyCare | None:
        return await pregnancy_of(info, self.subject)
