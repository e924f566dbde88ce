"""The timeline's contributors: each feature's items as timeline events.

Every contributor reads through the feature's own guarded path (the same policy checks
and item filters as its list field) and leaves the audit to the timeline, which records
only the events it returns.
"""

from __future__ import annotations

import datetime as dt

from strawberry.types import Info

from authz.categories import Category
from authz.relations import OSLO
from resolvers.appointments.appointment_rules import category_of
from resolvers.appointments.appointment_types import Appointment
from resolvers.appointments.appointments import audit_ref, visible_appointments
from resolvers.core.access import Subject
from resolvers.core.common import source
from resolvers.core.context import Context
from resolvers.core.i18n import text
from resolvers.messages.messages import Message, inbox
from resolvers.messages.messages import references as message_references
from resolvers.monitoring.measurements import Measurement, visible_measurements
from resolvers.municipal.municipal_services import MunicipalService, decisions_of
from resolvers.municipal.municipal_services import reference as municipal_reference
from resolvers.records.critical_info import CriticalInformation, visible_entries
from resolvers.records.documents import Document, visible_documents
from resolvers.records.referrals import Referral, visible_referrals
from resolvers.records.results import LabResult, visible_lab_results
from resolvers.records.vaccinations import merged_vaccinations, reference
from resolvers.timeline import Event, TimelineKind, contributes
from sources import ehr_care as care
from sources.models import SourceKind, SourceRef

EHR = SourceRef(SourceKind.EHR)
NATIONAL = SourceRef(SourceKind.NATIONAL)


def _day(day: dt.date) -> dt.datetime:
    """A dated item's moment on the timeline: the start of its day in Norway."""
    return dt.datetime.combine(day, dt.time(), tzinfo=OSLO)


@contributes(TimelineKind.DOCUMENT, Category.DOCUMENTS)
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


@contributes(TimelineKind.LAB_RESULT, Category.RESULTS)
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


@contributes(TimelineKind.VACCINATION, Category.VACCINATIONS)
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


@contributes(TimelineKind.CRITICAL_INFORMATION, Category.CRITICAL_INFO)
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


@contributes(
    TimelineKind.APPOINTMENT, Category.HOSPITAL_APPOINTMENTS, Category.MUNICIPAL_APPOINTMENTS
)
async def _appointments(info: Info[Context, None], subject: Subject) -> list[Event]:
    records = await visible_appointments(info, subject, upcoming=True)
    if info.context.access.policy.past_appointments(subject.view):
        records += await visible_appointments(info, subject, upcoming=False)
    return [
        Event(
            at=a.start,
            title=a.service or text("timeline.APPOINTMENT", info.context.language),
            node=Appointment(record=a, subject=subject),
            reference=audit_ref(a),
            source=source(a.source, info),
            category=category_of(a),
        )
        for a in records
    ]


@contributes(TimelineKind.MESSAGE, Category.MESSAGES)
async def _messages(info: Info[Context, None], subject: Subject) -> list[Event]:
    return [
        Event(
            at=m.sent_at,
            title=m.subject or m.counterpart or text("timeline.MESSAGE", info.context.language),
            node=Message(subject_=subject, record=m),
            reference=message_references([m])[0],
            source=source(m.source, info),
        )
        for m in await inbox(info, subject)
        if m.sent_at is not None
    ]


@contributes(TimelineKind.REFERRAL, Category.REFERRALS)
async def _referrals(info: Info[Context, None], subject: Subject) -> list[Event]:
    return [
        Event(
            at=r.received_at,
            title=r.department or text("timeline.REFERRAL", info.context.language),
            node=Referral(record=r, subject=subject),
            reference=f"EHR/ServiceRequest/{r.id}",
            source=source(EHR, info),
        )
        for r in await visible_referrals(info, subject)
        if r.received_at is not None
    ]


@contributes(TimelineKind.MEASUREMENT, Category.MONITORING)
async def _measurements(info: Info[Context, None], subject: Subject) -> list[Event]:
    return [
        Event(
            at=m.at,
            title=_measured(m),
            node=Measurement(record=m, subject=subject),
            reference=f"EHR/Observation/{m.id}",
            source=source(EHR, info),
        )
        for m in await visible_measurements(info, subject)
        if m.at is not None
    ]


def _measured(m: care.Measurement) -> str:
    if m.systolic is not None and m.diastolic is not None:
        return f"{m.systolic:g}/{m.diastolic:g} {m.unit}"
    return f"{m.value:g} {m.unit}" if m.value is not None else m.unit


@contributes(TimelineKind.MUNICIPAL_SERVICE, Category.MUNICIPAL_SERVICES)
async def _municipal_services(info: Info[Context, None], subject: Subject) -> list[Event]:
    out = []
    for e in await decisions_of(info, subject):
        if e.decided_on is None:
            continue
        service = MunicipalService(entry=e, subject=subject)
        out.append(
            Event(
                at=_day(e.decided_on),
                title=service.type_text(info),
                node=service,
                reference=municipal_reference(e),
                source=source(e.source, info),
            )
        )
    return out
