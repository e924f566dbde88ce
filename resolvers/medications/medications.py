"""One medication list merged from the EHR and the national e-prescriptions, with what the
patient reported themself and the comments on each medicine."""

from __future__ import annotations

import datetime as dt
import re

import strawberry
from strawberry.types import Info

from authz import filters
from authz.categories import Category
from authz.relations import oslo_date
from resolvers.core.access import Subject
from resolvers.core.common import Source, gather_sources, source
from resolvers.core.context import Context
from resolvers.core.guard import require, served, visible, watch
from resolvers.core.i18n import text
from resolvers.core.node import Node, fetches, node_id
from resolvers.medications.medication_entries import (
    CommentOrigin,
    MedicationComment,
    MedicationConfirmation,
    MedicationOrigin,
    MedicationSourceEntry,
    is_confirmed,
    origin_of,
)
from sources import models
from sources.ehr_medications import EhrMedicationEntry

CATEGORY = Category.PRESCRIPTIONS
ATC_CODE = re.compile(r"[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}")
LEAFLET_BASE = "https://www.felleskatalogen.no/medisin/atc-register/"


@strawberry.type(description="A medicine the person uses, merged across sources.")
class Medication(Node):
    entries: strawberry.Private[list[models.MedicationEntry]]
    subject: strawberry.Private[Subject]

    @property
    def _best(self) -> models.MedicationEntry:
        # e-prescriptions name strength and form; prefer them for display
        national = [e for e in self.entries if e.source.kind is models.SourceKind.NATIONAL]
        return (national or self.entries)[0]

    @strawberry.field(description="Opaque id; pass it to `commentOnMedication`.")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        first = self.entries[0]
        return node_id(info, self.subject, "Medication", _source_key(first), first.id)

    @strawberry.field(description="The medicine's name, with strength where known.")
    def name(self) -> str:
        return self._best.name

    @strawberry.field(description="ATC code, for programs.")
    def atc(self) -> str | None:
        return self._best.atc or next((e.atc for e in self.entries if e.atc), None)

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

    @strawberry.field(
        description="When the prescription ended (expired, used or cancelled); null while "
        "any source lists the medicine as active. Ended prescriptions are listed only "
        "where the access basis includes recent ones (the youth basis: 12 months)."
    )
    def ended_on(self) -> dt.date | None:
        if any(e.active for e in self.entries):
            return None
        dates = [e.ended_on for e in self.entries if e.ended_on is not None]
        return max(dates) if dates else None

    @strawberry.field(description="Every system that lists this medicine.")
    def sources(self, info: Info[Context, None]) -> list[Source]:
        return [source(e.source, info) for e in self.entries]

    @strawberry.field(
        description="Who put the medicine on the list: an e-prescription, a clinician, "
        "or the patient (when only the patient reported it)."
    )
    def origin(self) -> MedicationOrigin:
        origins = {origin_of(e) for e in self.entries}
        for origin in (MedicationOrigin.PRESCRIPTION, MedicationOrigin.CLINICIAN):
            if origin in origins:
                return origin
        return MedicationOrigin.REPORTED_BY_PATIENT

    @strawberry.field(description="Who put the medicine on the list, in the caller's language.")
    def origin_text(self, info: Info[Context, None]) -> str:
        return text(f"medicationOrigin.{self.origin().value}", info.context.language)

    @strawberry.field(
        description="CONFIRMED when a clinician recorded or confirmed it; UNCONFIRMED "
        "while it is only the patient's own report."
    )
    def confirmation(self) -> MedicationConfirmation:
        confirmed = any(is_confirmed(e) for e in self.entries)
        return MedicationConfirmation.CONFIRMED if confirmed else MedicationConfirmation.UNCONFIRMED

    @strawberry.field(description="The confirmation in the caller's language.")
    def confirmation_text(self, info: Info[Context, None]) -> str:
        return text(f"medicationConfirmation.{self.confirmation().value}", info.context.language)

    @strawberry.field(description="Comments on the medicine, oldest first.")
    def comments(self) -> list[MedicationComment]:
        found = [
            MedicationComment(
                text=c.text,
                at=c.at,
                origin=CommentOrigin.PATIENT if c.by_patient else CommentOrigin.CLINICIAN,
            )
            for e in self.entries
            if isinstance(e, EhrMedicationEntry)
            for c in e.comments
        ]
        oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
        return sorted(found, key=lambda c: c.at or oldest)

    @strawberry.field(
        description="The package leaflet and product information (Felleskatalogen), for "
        "medicines with an ATC code; null otherwise."
    )
    def package_leaflet_url(self) -> str | None:
        atc = self.atc()
        return LEAFLET_BASE + atc if atc and ATC_CODE.fullmatch(atc) else None

    @strawberry.field(description="Each system's entry for this medicine.")
    def entries_by_source(self) -> list[MedicationSourceEntry]:
        return [MedicationSourceEntry(entry=e) for e in self.entries]


def _source_key(entry: models.MedicationEntry) -> str:
    return "ehr" if entry.source.kind is models.SourceKind.EHR else "nat"


def merge_medications(subject: Subject, entries: list[models.MedicationEntry]) -> list[Medication]:
    """One entry per medicine: same ATC code (or, lacking one, same name) across sources."""
    groups: dict[str, list[models.MedicationEntry]] = {}
    for entry in entries:
        key = f"atc:{entry.atc}" if entry.atc else f"name:{entry.name.strip().lower()}"
        groups.setdefault(key, []).append(entry)
    merged = [
        Medication(entries=sorted(g, key=lambda e: (e.source.kind.value, e.id)), subject=subject)
        for g in groups.values()
    ]
    return sorted(merged, key=lambda m: m.name().lower())


async def _ehr(info: Info[Context, None], subject: Subject) -> list[models.MedicationEntry]:
    async with watch(info.context, subject, CATEGORY):
        patient = await info.context.ehr.patient_id(subject.nin)
        if patient is None:
            return []
        return list(await info.context.ehr.medications.of(patient))


async def _national(info: Info[Context, None], subject: Subject) -> list[models.MedicationEntry]:
    async with watch(info.context, subject, CATEGORY):
        return await info.context.national.prescriptions(subject.nin)


async def visible_medications(info: Info[Context, None], subject: Subject) -> list[Medication]:
    """The merged medication list this view may see (nothing recorded as served yet): the
    sources its grant reads, active prescriptions and those ended within its window."""
    require(info.context, subject, CATEGORY)
    policy, today = info.context.access.policy, oslo_date(info.context.now)
    kinds = filters.prescription_sources(policy, subject.view)
    reads = [
        read(info, subject)
        for kind, read in ((models.SourceKind.EHR, _ehr), (models.SourceKind.NATIONAL, _national))
        if kinds is None or kind.value in kinds  # a source the view never lists is not asked
    ]
    lists = await gather_sources(info, reads)
    entries = visible(
        info.context, subject, [e for items in lists for e in items], lambda e: e.security
    )
    listed = [
        e
        for e in entries
        if filters.prescription_shown(
            policy,
            subject.view,
            source=e.source.kind.value,
            active=e.active,
            ended_on=e.ended_on,
            today=today,
        )
    ]
    return merge_medications(subject, listed)


async def medications_of(info: Info[Context, None], subject: Subject) -> list[Medication]:
    """The merged medication list this view may see."""
    merged = await visible_medications(info, subject)
    served(info.context, subject, CATEGORY, (reference(e) for m in merged for e in m.entries))
    return merged


async def find_medication(
    info: Info[Context, None], subject: Subject, source_key: str, upstream_id: str
) -> Medication | None:
    """The visible medicine whose id is (source, upstream id); recorded as served."""
    for medication in await visible_medications(info, subject):
        first = medication.entries[0]
        if (_source_key(first), first.id) == (source_key, upstream_id):
            served(info.context, subject, CATEGORY, [reference(e) for e in medication.entries])
            return medication
    return None


@fetches("Medication")
async def fetch_medication(
    info: Info[Context, None], subject: Subject, source: str, upstream_id: str
) -> Medication | None:
    """One medicine by id, through the same checks as the list."""
    return await find_medication(info, subject, source, upstream_id)


def reference(entry: models.MedicationEntry) -> str:
    """The audit reference of one entry."""
    if entry.source.kind is models.SourceKind.EHR:
        return f"EHR/MedicationStatement/{entry.id}"
    return f"NATIONAL/Prescription/{entry.id}"
