"""Typed records the sources hand to resolvers: no raw dicts, no HTTP."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from authz.facts import NO_LABELS, Address, Security


class SourceKind(StrEnum):
    """Which kind of upstream a record came from."""

    EHR = "EHR"
    NATIONAL = "NATIONAL"
    MUNICIPAL = "MUNICIPAL"


@dataclass(frozen=True, slots=True)
class SourceRef:
    """One upstream, named; municipal sources carry their municipality code."""

    kind: SourceKind
    municipality: str | None = None


EHR = SourceRef(SourceKind.EHR)
NATIONAL = SourceRef(SourceKind.NATIONAL)


@dataclass(frozen=True, slots=True)
class Practitioner:
    """A clinician."""

    id: str
    name: str
    role: str | None = None


@dataclass(frozen=True, slots=True)
class Location:
    """A place."""

    id: str
    name: str
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class Appointment:
    """An appointment from the EHR or a municipality."""

    id: str
    source: SourceRef
    start: dt.datetime
    end: dt.datetime | None
    status: str  # booked | fulfilled | cancelled | noshow | arrived | ...
    service: str | None
    video: bool
    practitioner_id: str | None = None
    location_id: str | None = None
    practitioner: Practitioner | None = None  # inline, when the source has no directory
    location: Location | None = None
    security: Security = NO_LABELS
    municipality: str | None = None  # the municipality that runs it (municipal care)
    video_url: str | None = None  # the video service's public meeting link
    video_opens_before: dt.timedelta | None = None  # the room opens this long before start
    video_session: str | None = None  # the video service's report: waiting-room, ...
    cancellable: bool = False  # the source lets the patient cancel online
    cancel_deadline: dt.timedelta | None = None  # online cancellation closes this long before
    check_in_opens: dt.timedelta | None = None  # e-check-in opens this long before start
    check_in_closes: dt.timedelta | None = None  # ... and closes this long after start


@dataclass(frozen=True, slots=True)
class LabResult:
    """One laboratory result."""

    id: str
    code: str | None
    name: str
    value: float | None
    value_text: str | None
    unit: str | None
    low: float | None
    high: float | None
    interpretation: str | None  # H | L | N | ...
    taken_at: dt.datetime | None
    release_category: int | None
    security: Security = NO_LABELS


@dataclass(frozen=True, slots=True)
class MedicationEntry:
    """A medicine as one source lists it."""

    id: str
    source: SourceRef
    atc: str | None
    name: str
    form: str | None
    dosage: str | None
    started: dt.date | None
    security: Security = NO_LABELS
    active: bool = True  # False: the prescription has ended (expired, used, cancelled)
    ended_on: dt.date | None = None  # when it ended, if it has and the source says


@dataclass(frozen=True, slots=True)
class VaccinationEntry:
    """A vaccination as one source records it."""

    id: str
    source: SourceRef
    atc: str | None
    name: str
    date: dt.date
    security: Security = NO_LABELS


@dataclass(frozen=True, slots=True)
class Message:
    """One message to or from the person."""

    id: str
    source: SourceRef
    thread_id: str | None
    sent_at: dt.datetime | None
    from_patient: bool
    subject: str | None
    text: str
    read: bool
    counterpart: str | None = None  # the practitioner or office, when known
    security: Security = NO_LABELS
    counterpart_kind: str = "HOSPITAL"  # HOSPITAL | GP | MUNICIPALITY: who is on the other side
    counterpart_key: str | None = None  # the recipient key replies go to (see recipients)
    in_response_to: str | None = None  # the message this one answers, when known


@dataclass(frozen=True, slots=True)
class Document:
    """A document in the health record (letter, summary, note) and where its content is."""

    id: str
    patient_id: str | None  # the EHR Patient it belongs to
    title: str
    kind: str | None  # the record's category code: invitation, letter, summary, ...
    kind_text: str | None  # the record's own name for the type
    date: dt.datetime | None
    content_type: str
    size: int | None
    content_path: str | None  # the EHR-relative Binary reference; never shown to clients
    security: Security = NO_LABELS


@dataclass(frozen=True, slots=True)
class AccessEvent:
    """Someone opened the person's record in the EHR (a FHIR AuditEvent)."""

    id: str
    at: dt.datetime
    who: str
    role: str | None
    action: str  # R read, U update, C create, ...
    what: str | None


@dataclass(frozen=True, slots=True)
class GpOffice:
    """The office a regular GP works from (a business address, never the patient's)."""

    name: str
    address: Address | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class RegularGp:
    """A person's regular GP (fastlege) in the national GP registry."""

    name: str
    hpr_number: str | None
    office: GpOffice | None


@dataclass(frozen=True, slots=True)
class CriticalEntry:
    """One entry of critical information in the core journal."""

    id: str
    kind: str  # allergy | implant | condition
    text: str
    registered_on: dt.date | None
    security: Security = NO_LABELS


@dataclass(frozen=True, slots=True)
class MunicipalServiceEntry:
    """A municipality's decision on a care service (home nursing, safety alarm, ...)."""

    id: str
    source: SourceRef
    kind: str  # the municipality's code, e.g. homeNursing
    status: str  # granted | ended | ...
    decided_on: dt.date | None
    security: Security = NO_LABELS
