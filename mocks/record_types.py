"""The record types every mock projects: appointments, messages, labs, medicines, vaccinations.

`Labels` is the mock-side truth about who may see an item (FHIR security labels and the
portal's own flags); each upstream projects it the way the real system would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from mocks.registry import OSLO

CONFIDENTIALITY_CODES = ("N", "R", "V")
HOME_VISIT = "Hjemmesykepleie"  # a municipal service that takes place at the home
SENSITIVITY_CODES = ("PSY", "ETH", "HIV", "GDIS", "SEX", "SUD", "STD")


@dataclass(frozen=True, slots=True)
class Labels:
    """Who may see an item: confidentiality, sensitivity and the portal's visibility flags."""

    confidentiality: str | None = None  # v3 Confidentiality N | R | V; None = not labelled
    sensitivity: tuple[str, ...] = ()  # v3 ActCode: PSY, ETH, HIV, GDIS, SEX, ...
    not_shown_electronically: bool = False  # withheld from the portal for everyone
    kept_from_guardians: bool = False  # a 12-15-year-old asked to keep it from guardians

    def __bool__(self) -> bool:
        return self != PLAIN


PLAIN = Labels()


@dataclass(frozen=True, slots=True)
class Practitioner:
    """A clinician in the EHR's directory."""

    id: str
    given: str
    family: str
    female: bool
    role: str


@dataclass(frozen=True, slots=True)
class Location:
    """A place where appointments happen."""

    id: str
    name: str
    street: str
    city: str
    kind: str  # hospital | gp | municipal


@dataclass(frozen=True, slots=True)
class Appointment:
    """A booked, past or cancelled appointment; `system` is `ehr` or `municipal`."""

    id: str
    system: str
    start: dt.datetime
    minutes: int
    status: str  # booked | fulfilled | cancelled | noshow
    service: str
    practitioner_id: str
    location_id: str
    video: bool
    security: Labels = PLAIN


@dataclass(frozen=True, slots=True)
class Message:
    """One message in a thread between the person and a care provider."""

    id: str
    thread_id: str
    system: str
    sent_at: dt.datetime
    from_patient: bool
    practitioner_id: str
    subject: str
    text: str
    read: bool
    security: Labels = PLAIN
    counterpart: str | None = None  # hospital | gp | municipality; None: by `system`


@dataclass(frozen=True, slots=True)
class LabResult:
    """One laboratory observation, part of a report."""

    id: str
    report_id: str
    code: str  # LOINC
    display: str
    value: float
    unit: str
    low: float
    high: float
    taken_at: dt.datetime
    release_category: int
    reviewed_at: dt.datetime | None = None  # clinician review (matters for category 2)
    released_at: dt.datetime | None = None  # manual release (matters for category 3)
    security: Labels = PLAIN


@dataclass(frozen=True, slots=True)
class MedicationUse:
    """A medicine the person uses, as the EHR and/or the e-prescription registry know it."""

    atc: str
    name: str
    form: str
    dosage: str
    started: dt.date
    ehr_id: str | None  # MedicationStatement id when the EHR lists it
    prescription_id: str | None  # e-prescription id when one exists
    reserved_from_guardians: bool = False  # the prescription carries a guardian reservation
    ended: dt.date | None = None  # the prescription expired on this day; None while active


@dataclass(frozen=True, slots=True)
class VaccinationRecord:
    """One vaccination, recorded nationally, at a health station, or both."""

    id: str
    atc: str
    name: str
    date: dt.date
    national: bool
    municipal: bool


@dataclass(frozen=True, slots=True)
class HealthRecord:
    """Everything the mocks know about one person's health."""

    appointments: tuple[Appointment, ...]
    messages: tuple[Message, ...]
    labs: tuple[LabResult, ...]
    medications: tuple[MedicationUse, ...]
    vaccinations: tuple[VaccinationRecord, ...]


def record_id(prefix: str, seed: str) -> str:
    """A stable opaque record id: `prefix` and 16 hex digits derived from `seed`."""
    return prefix + hashlib.sha256(seed.encode()).hexdigest()[:16]


def oslo_at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """`hour:minute` on `day` in Europe/Oslo."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=OSLO)
