"""Parsing FHIR R4 Appointment, Slot and Schedule resources into typed records.

The EHR carries what R4 has no element for as extensions (Epic-style):
`video-join-url` (the video service's public meeting link), `video-opens-before`,
`video-session-status`, `patient-cancellable`, `cancel-deadline`, `check-in-opens`,
`check-in-closes` and `responsible-municipality` (an appointment run by a municipality
on the shared EHR, whose `serviceCategory` is also coded `municipal`).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sources.errors import UpstreamBadResponse
from sources.fhir import EXT, Json, _extension, ref_id, security, when
from sources.models import EHR, Appointment

VIDEO_JOIN_URL = EXT + "video-join-url"
VIDEO_OPENS_URL = EXT + "video-opens-before"
VIDEO_SESSION_URL = EXT + "video-session-status"
CANCELLABLE_URL = EXT + "patient-cancellable"
CANCEL_DEADLINE_URL = EXT + "cancel-deadline"
CHECK_IN_OPENS_URL = EXT + "check-in-opens"
CHECK_IN_CLOSES_URL = EXT + "check-in-closes"
MUNICIPALITY_URL = EXT + "responsible-municipality"
CARE_LEVEL_SYSTEM = "https://fhir.helsegraf.dev/CodeSystem/care-level"
SERVICE_SYSTEM = "https://fhir.helsegraf.dev/CodeSystem/bookable-service"
_UNITS = {"s": 1, "min": 60, "h": 3600, "d": 86400}


def duration(value: Any) -> dt.timedelta | None:
    """A FHIR Duration (UCUM s, min, h, d) as a timedelta; None when absent or odd."""
    if not isinstance(value, dict):
        return None
    amount, unit = value.get("value"), value.get("code") or value.get("unit")
    if not isinstance(amount, int | float) or isinstance(amount, bool) or unit not in _UNITS:
        return None
    if amount < 0 or amount > 10_000:
        return None
    return dt.timedelta(seconds=amount * _UNITS[unit])


def public_link(value: Any) -> str | None:
    """The join link when it is a plain public https URL (a host name, no credentials, no
    port games); anything else is withheld rather than handed to a browser."""
    if not isinstance(value, str) or len(value) > 500:
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        return None
    if port not in (None, 443) or "." not in parts.hostname or _is_address(parts.hostname):
        return None
    return value


def _is_address(host: str) -> bool:
    """True for an IP literal: a video service's public link names a host."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _municipality(resource: Json) -> str | None:
    code = _extension(resource, MUNICIPALITY_URL)
    if isinstance(code, str) and len(code) == 4 and code.isdigit():
        return code
    return None


def appointment(resource: Json) -> Appointment:
    """An Appointment resource as a record."""
    practitioner_id = location_id = None
    for participant in resource.get("participant", []):
        actor = participant.get("actor")
        practitioner_id = practitioner_id or ref_id(actor, "Practitioner")
        location_id = location_id or ref_id(actor, "Location")
    start = when(resource.get("start"))
    if start is None:
        raise UpstreamBadResponse("EHR", "appointments", "appointment without start")
    service_types = resource.get("serviceType") or []
    service = service_types[0].get("text") if service_types else resource.get("description")
    appointment_type = (resource.get("appointmentType") or {}).get("coding") or []
    video = any(c.get("code") in ("VR", "virtual", "video") for c in appointment_type)
    session = _extension(resource, VIDEO_SESSION_URL)
    return Appointment(
        id=resource["id"],
        source=EHR,
        start=start,
        end=when(resource.get("end")),
        status=resource.get("status", "booked"),
        service=service,
        video=video,
        practitioner_id=practitioner_id,
        location_id=location_id,
        security=security(resource),
        municipality=_municipality(resource),
        video_url=public_link(_extension(resource, VIDEO_JOIN_URL)) if video else None,
        video_opens_before=duration(_extension(resource, VIDEO_OPENS_URL)),
        video_session=session if isinstance(session, str) else None,
        cancellable=_extension(resource, CANCELLABLE_URL) is True,
        cancel_deadline=duration(_extension(resource, CANCEL_DEADLINE_URL)),
        check_in_opens=duration(_extension(resource, CHECK_IN_OPENS_URL)),
        check_in_closes=duration(_extension(resource, CHECK_IN_CLOSES_URL)),
    )


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable period of a clinic's calendar."""

    id: str
    start: dt.datetime
    end: dt.datetime
    free: bool
    schedule_id: str | None
    service_code: str | None


@dataclass(frozen=True, slots=True)
class Schedule:
    """A clinic's calendar: its service, place and practitioner."""

    id: str
    service: str | None
    service_code: str | None
    location_id: str | None
    practitioner_id: str | None


def _coding(concepts: Any) -> tuple[str | None, str | None]:
    """(code, text) of the first CodeableConcept of a list."""
    if not isinstance(concepts, list) or not concepts:
        return None, None
    first = concepts[0] if isinstance(concepts[0], dict) else {}
    codings = first.get("coding") or [{}]
    code = codings[0].get("code") if isinstance(codings[0], dict) else None
    return code, first.get("text")


def slot(resource: Json) -> Slot:
    """A Slot resource as a record."""
    start, end = when(resource.get("start")), when(resource.get("end"))
    if start is None or end is None:
        raise UpstreamBadResponse("EHR", "slots", "slot without start or end")
    code, _ = _coding(resource.get("serviceType"))
    return Slot(
        id=resource["id"],
        start=start,
        end=end,
        free=resource.get("status") == "free",
        schedule_id=ref_id(resource.get("schedule"), "Schedule"),
        service_code=code,
    )


def schedule(resource: Json) -> Schedule:
    """A Schedule resource as a record."""
    code, text = _coding(resource.get("serviceType"))
    practitioner_id = location_id = None
    for actor in resource.get("actor", []):
        practitioner_id = practitioner_id or ref_id(actor, "Practitioner")
        location_id = location_id or ref_id(actor, "Location")
    return Schedule(
        id=resource["id"],
        service=text,
        service_code=code,
        location_id=location_id,
        practitioner_id=practitioner_id,
    )
