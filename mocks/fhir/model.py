"""Shared words of the FHIR mock: JSON resources, time spans, and precomputed search keys.

Every resource the mock serves is projected once per person into an `Indexed`: the
FHIR JSON plus the keys search matches on (date spans, tokens, references), so a
search never re-parses the JSON it is about to return.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mocks.population import OSLO

Resource = dict[str, Any]
Token = tuple[str | None, str]  # (system, code); system None when the value has none

NIN_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.1"
HPR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.4"
PROFILE_BASE = "https://fhir.helsegraf.dev/"
PATIENT_READ_URL = PROFILE_BASE + "StructureDefinition/patient-read"
RELEASE_CATEGORY_URL = PROFILE_BASE + "StructureDefinition/release-category"
REVIEWED_URL = PROFILE_BASE + "StructureDefinition/reviewed"
RELEASED_URL = PROFILE_BASE + "StructureDefinition/released"
VIDEO_JOIN_URL = PROFILE_BASE + "StructureDefinition/video-join-url"
PATIENT_READ_PARAM_URL = PROFILE_BASE + "SearchParameter/Communication-patient-read"
RECORD_ID_SYSTEM = PROFILE_BASE + "NamingSystem/record-id"
THREAD_SYSTEM = PROFILE_BASE + "NamingSystem/message-thread"
DOCUMENT_CATEGORY_SYSTEM = PROFILE_BASE + "CodeSystem/document-category"

FAR_FUTURE = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open time range [lo, hi), the way FHIR date search sees every value."""

    lo: dt.datetime
    hi: dt.datetime

    @classmethod
    def instant(cls, at: dt.datetime) -> Span:
        """An instant known to the second."""
        return cls(at, at + dt.timedelta(seconds=1))

    @classmethod
    def day(cls, day: dt.date, *, open_ended: bool = False) -> Span:
        """A calendar day in Europe/Oslo, or from that day on when `open_ended`."""
        start = dt.datetime(day.year, day.month, day.day, tzinfo=OSLO)
        return cls(start, FAR_FUTURE if open_ended else start + dt.timedelta(days=1))


@dataclass(frozen=True, slots=True)
class Indexed:
    """One served resource and the keys its search parameters match on."""

    resource: Resource
    dates: Mapping[str, Span] = field(default_factory=dict)
    tokens: Mapping[str, tuple[Token, ...]] = field(default_factory=dict)
    refs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # "Type/id"

    @property
    def type(self) -> str:
        """The resource type."""
        return str(self.resource["resourceType"])

    @property
    def id(self) -> str:
        """The logical id."""
        return str(self.resource["id"])


def instant(at: dt.datetime) -> str:
    """An aware datetime as a FHIR instant, to the second with its offset."""
    if at.tzinfo is None:
        raise ValueError("FHIR instants need a timezone")
    return at.replace(microsecond=0).isoformat()


def meta(updated: dt.datetime) -> Resource:
    """Resource meta: every mock resource is at its first version."""
    return {"versionId": "1", "lastUpdated": instant(updated)}


def ref(type_: str, id_: str, display: str | None = None) -> Resource:
    """A literal relative reference."""
    out: Resource = {"reference": f"{type_}/{id_}"}
    if display:
        out["display"] = display
    return out


def record_identifier(record_id: str) -> Resource:
    """The shared-records id, so other upstreams' copies of a record can be matched."""
    return {"system": RECORD_ID_SYSTEM, "value": record_id}


def compound_id(patient_id: str, record_id: str) -> str:
    """A patient-compartment resource id: the Patient id, a dash, then the record id."""
    return f"{patient_id}-{record_id}"


def patient_of(resource_id: str) -> str:
    """The Patient id a compound resource id starts with."""
    return resource_id.split("-", 1)[0]
