"""The timeline's contributors: each feature's items as timeline events.

Every contributor reads through the feature's own guarded path (the same policy checks
and item filters as its list field) and leaves the audit to the timeline, which records
only the events it returns.
"""

from __future__ import annotations

import datetime as dt

from strawberry.types import Info

from authz.relations import OSLO
from gateway.access import Subject
from gateway.context import Context
from resolvers.common import source
from resolvers.critical_info import CriticalInformation, visible_entries
from resolvers.documents import Document, visible_documents
from resolvers.results import LabResult, visible_lab_results
from resolvers.timeline import Event, TimelineKind, contributes
from resolvers.vaccinations import merged_vaccinations, reference
from sources.models import SourceKind, SourceRef

EHR = SourceRef(SourceKind.EHR)
NATIONAL = SourceRef(SourceKind.NATIONAL)


def _day(day: dt.date) -> dt.datetime:
    """A dated item's moment on the timeline: the start of its day in Norway."""
    return dt.datetime.combine(day, dt.time(), tzinfo=OSLO)


@contributes(TimelineKind.DOCUMENT, "documents")
async def _documents(info: Info[Context, None], subject: Subject) -> list[Event]:
    return [
        Event(
            at=d.date,
            title=d.title,
            node=Document(record=d, subject=subject),
            reference=f"EHR/DocumentReference/{d.id}",
            source=source(EHR, info),
        )
        for d in await visible_documents(info, subject)
        if d.date is not None
    ]


@contributes(TimelineKind.LAB_RESULT, "results")
async def _results(info: Info[Context, None], subject: Subject) -> list[Event]:
    return [
        Event(
            at=r.taken_at,
            title=r.name,
            node=LabResult(record=r, subject=subject),
            reference=f"EHR/Observation/{r.id}",
            source=source(EHR, info),
        )
        for r in await visible_lab_results(info, subject)
        if r.taken_at is not None
    ]


@contributes(TimelineKind.VACCINATION, "vaccinations")
async def _vaccinations(info: Info[Context, None], subject: Subject) -> list[Event]:
    return [
        Event(
            at=_day(v.date()),
            title=v.name(),
            node=v,
            reference=reference(v.entries[0]),
            source=source(v.entries[0].source, info) if len(v.entries) == 1 else None,
        )
        for v in await merged_vaccinations(info, subject)
    ]


@contributes(TimelineKind.CRITICAL_INFORMATION, "critical_info")
async def _critical(info: Info[Context, None], subject: Subject) -> list[Event]:
    return [
        Event(
            at=_day(e.registered_on),
            title=e.text,
            node=CriticalInformation(entry=e, subject=subject),
            reference=f"NATIONAL/CriticalInformation/{e.id}",
            source=source(NATIONAL, info),
        )
        for e in await visible_entries(info, subject)
        if e.registered_on is not None
    ]
