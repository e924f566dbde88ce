"""One medication list merged from the EHR and the national e-prescriptions."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from gateway.access import Subject
from gateway.context import Context
from gateway.ids import encode
from resolvers.common import Source, gather_sources, source
from resolvers.guard import require, served, visible, watch
from sources import models

CATEGORY = "prescriptions"


@strawberry.type(description="A medicine the person uses, merged across sources.")
class Medication:
    entries: strawberry.Private[list[models.MedicationEntry]]

    @property
    def _best(self) -> models.MedicationEntry:
        # e-prescriptions name strength and form; prefer them for display
        national = [e for e in self.entries if e.source.kind is models.SourceKind.NATIONAL]
        return (national or self.entries)[0]

    @strawberry.field(description="Opaque id.")
    def id(self) -> strawberry.ID:
        first = self.entries[0]
        key = "ehr" if first.source.kind is models.SourceKind.EHR else "nat"
        return strawberry.ID(encode("Medication", key, first.id))

    @strawberry.field(description="The medicine's name, with strength where known.")
    def name(self) -> str:
        return self._best.name

    @strawberry.field(description="ATC code, for programs.")
    def atc(self) -> str | None:
        return self._best.atc

    @strawberry.field(description="Pharmaceutical form (tablet, inhaler, ...), when known.")
    def form(self) -> str | None:
        return next((e.form for e in self.entries if e.form), None)

    @strawberry.field(description="How to take it, as prescribed.")
    def dosage(self) -> str | None:
        return next((e.dosage for e in self.entries if e.dosage), None)

    @strawberry.field(description="When use started or the prescription was issued.")
    def started_on(self) -> dt.date | None:
        dates = [e.started for e in self.entries if e.started is not None]
        return min(dates) if dates else None

    @strawberry.field(description="Every system that lists this medicine.")
    def sources(self, info: Info[Context, None]) -> list[Source]:
        return [source(e.source, info) for e in self.entries]


def merge_medications(entries: list[models.MedicationEntry]) -> list[Medication]:
    """One entry per medicine: same ATC code (or, lacking one, same name) across sources."""
    groups: dict[str, list[models.MedicationEntry]] = {}
    for entry in entries:
        key = f"atc:{entry.atc}" if entry.atc else f"name:{entry.name.strip().lower()}"
        groups.setdefault(key, []).append(entry)
    merged = [
        Medication(entries=sorted(g, key=lambda e: e.source.kind.value)) for g in groups.values()
    ]
    return sorted(merged, key=lambda m: m.name().lower())


async def _ehr(info: Info[Context, None], subject: Subject) -> list[models.MedicationEntry]:
    async with watch(info, subject, CATEGORY):
        patient = await info.context.ehr.patient_id(subject.nin)
        return [] if patient is None else await info.context.ehr.medications(patient)


async def _national(info: Info[Context, None], subject: Subject) -> list[models.MedicationEntry]:
    async with watch(info, subject, CATEGORY):
        return await info.context.national.prescriptions(subject.nin)


async def medications_of(info: Info[Context, None], subject: Subject) -> list[Medication]:
    """The merged medication list this view may see."""
    require(info, subject, CATEGORY)
    lists = await gather_sources(info, [_ehr(info, subject), _national(info, subject)])
    entries = visible(info, subject, [e for items in lists for e in items], lambda e: e.security)
    served(info, subject, CATEGORY, (reference(e) for e in entries))
    return merge_medications(entries)


def reference(entry: models.MedicationEntry) -> str:
    """The audit reference of one entry."""
    if entry.source.kind is models.SourceKind.EHR:
        return f"EHR/MedicationStatement/{entry.id}"
    return f"NATIONAL/Prescription/{entry.id}"
