"""Typed records the sources hand to resolvers: no raw dicts, no HTTP."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


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
class Address:
    """A postal address."""

    street: str
    postal_code: str
    city: str


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """What the population registry says about one person."""

    nin: str = field(repr=False)
    given_name: str
    family_name: str
    birth_date: dt.date
    address: Address | None
    municipality: str | None
    address_protection: str | None  # None | "confidential" | "strictlyConfidential"
    lives_abroad: bool
    deceased_date: dt.date | None
    children: tuple[str, ...] = field(default=(), repr=False)  # under parental responsibility
    parents: tuple[str, ...] = field(default=(), repr=False)  # with parental responsibility

    @property
    def name(self) -> str:
        """Display name."""
        return f"{self.given_name} {self.family_name}"


@dataclass(frozen=True, slots=True)
class PowerOfAttorney:
    """A registered power of attorney."""

    id: str
    grantor: str = field(repr=False)
    holder: str = field(repr=False)
    kind: str
    service_areas: tuple[int, ...]
    valid_from: dt.date
    valid_to: dt.date | None


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


@dataclass(frozen=True, slots=True)
class VaccinationEntry:
    """A vaccination as one source records it."""

    id: str
    source: SourceRef
    atc: str | None
    name: str
    date: dt.date
