"""Appointment resources: what the EHR holds for a person.

The EHR holds (see `held`):

- the person's hospital appointments (records with `system == "ehr"`);
- for residents of a municipality on the shared EHR (`Municipality.on_shared_ehr`,
  Trondheim in the mocks), their municipal appointments too: Appointments kept by the
  municipal organisation, with `serviceCategory` coded `municipal` in the care-level
  code system and the `responsible-municipality` extension (the old municipal API
  still mirrors them);
- for every persona, two visits on the reference day (in person at 12:30, video at
  12:10), so check-in and video rooms can be tried on the day (ola has joined his
  video room early and waits in the waiting room).

Every participant (the Patient, the Practitioner, the Location) has status
`accepted`. Video appointments carry `appointmentType` coded `VR` ("virtual") in
`http://terminology.hl7.org/CodeSystem/v3-ActCode` (in-person ones are `AMB`), the
extension `video-join-url` (`valueUrl`, the video service's public meeting link),
`video-opens-before` (`valueDuration` in minutes: when the room opens) and, once the
video service reports it, `video-session-status` (`waiting-room`, `in-progress`,
`finished`). R4 has no virtual-service element, so this is how Epic-style servers
commonly carry it.

What the patient may do is data too: `patient-cancellable` (`valueBoolean`) and
`cancel-deadline` (`valueDuration` in hours before the start when online
cancellation closes); in-person visits carry `check-in-opens` and `check-in-closes`
(`valueDuration` in minutes before and after the start) for e-check-in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace

from mocks.fhir.labels import labelled
from mocks.fhir.model import (
    PROFILE_BASE,
    VIDEO_JOIN_URL,
    Indexed,
    Resource,
    Span,
    compound_id,
    instant,
    meta,
    record_identifier,
    ref,
)
from mocks.population import MUNICIPALITY_BY_CODE, OSLO, Person
from mocks.record_types import oslo_at, record_id
from mocks.records import Appointment, Catalogue, HealthRecord, RecordStore

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
STATUS_SYSTEM = "http://hl7.org/fhir/appointmentstatus"
UCUM = "http://unitsofmeasure.org"
VIDEO_JOIN_BASE = "https://video.helsegraf.dev/join/"
EXT = PROFILE_BASE + "StructureDefinition/"
VIDEO_OPENS_URL = EXT + "video-opens-before"
VIDEO_SESSION_URL = EXT + "video-session-status"
CANCELLABLE_URL = EXT + "patient-cancellable"
CANCEL_DEADLINE_URL = EXT + "cancel-deadline"
CHECK_IN_OPENS_URL = EXT + "check-in-opens"
CHECK_IN_CLOSES_URL = EXT + "check-in-closes"
MUNICIPALITY_URL = EXT + "responsible-municipality"
CARE_LEVEL_SYSTEM = PROFILE_BASE + "CodeSystem/care-level"
NOT_CANCELLABLE_SERVICES = frozenset({"Røntgen", "Legevakt oppfølging"})
IN_WAITING_ROOM = frozenset({"ola"})  # personas already in today's video waiting room


def as_of(today: dt.date) -> dt.datetime:
    """The mock's notion of "now": 07:00 in Oslo on the population's reference day."""
    return dt.datetime(today.year, today.month, today.day, 7, tzinfo=OSLO)


def minutes(value: int) -> Resource:
    """A FHIR Duration in minutes."""
    return {"value": value, "unit": "min", "system": UCUM, "code": "min"}


def hours(value: int) -> Resource:
    """A FHIR Duration in hours."""
    return {"value": value, "unit": "h", "system": UCUM, "code": "h"}


def held(
    person: Person, record: HealthRecord, catalogue: Catalogue, today: dt.date
) -> list[tuple[Appointment, str | None]]:
    """The appointments the EHR holds for `person`, each with the municipality that
    runs it (None for hospital ones)."""
    home = MUNICIPALITY_BY_CODE.get(person.address.municipality)
    shared = home is not None and home.on_shared_ehr and not person.lives_abroad
    out: list[tuple[Appointment, str | None]] = []
    for item in record.appointments:
        if item.system == "ehr":
            out.append((item, None))
        elif shared:
            out.append((item, person.address.municipality))
    if person.persona is not None:
        out += [(item, None) for item in same_day(person, catalogue, today)]
    return out


def same_day(person: Person, catalogue: Catalogue, today: dt.date) -> tuple[Appointment, ...]:
    """A persona's two visits on the reference day: in person at 12:30, video at 12:10."""
    doctor = next(p for p in catalogue.practitioners if p.role == "Lege")
    place = catalogue.locations_of_kind("hospital")[0]
    visit = Appointment(
        id=_today_id(person, "visit"),
        system="ehr",
        start=oslo_at(today, 12, 30),
        minutes=30,
        status="booked",
        service="Poliklinikk indremedisin",
        practitioner_id=doctor.id,
        location_id=place.id,
        video=False,
    )
    video = replace(
        visit,
        id=_today_id(person, "video"),
        start=oslo_at(today, 12, 10),
        minutes=20,
        service="Ortopedisk kontroll",
        video=True,
    )
    return (visit, video)


def held_resources(
    person: Person, record: HealthRecord, catalogue: Catalogue, today: dt.date
) -> list[Indexed]:
    """Every Appointment resource of `person` (see `held`)."""
    return [
        appointment(item, person, catalogue, today, municipality)
        for item, municipality in held(person, record, catalogue, today)
    ]


def _video_session(item: Appointment, person: Person, today: dt.date) -> str | None:
    """What the video service reports: a finished session once a past visit took place,
    and (persona ola) someone who joined early and sits in the waiting room."""
    end = item.start + dt.timedelta(minutes=item.minutes)
    if item.status == "fulfilled" and end < as_of(today):
        return "finished"
    if person.persona in IN_WAITING_ROOM and item.id == _today_id(person, "video"):
        return "waiting-room"
    return None


def _today_id(person: Person, kind: str) -> str:
    return record_id("ap", f"{person.nin}:today:{kind}")


def _cancellable(item: Appointment) -> bool:
    return item.service not in NOT_CANCELLABLE_SERVICES


def appointment(
    item: Appointment,
    person: Person,
    catalogue: Catalogue,
    today: dt.date,
    municipality: str | None = None,
) -> Indexed:
    """One appointment as an R4 Appointment."""
    end = item.start + dt.timedelta(minutes=item.minutes)
    booked = min(item.start - dt.timedelta(days=30), as_of(today))
    updated = end if item.status in ("fulfilled", "noshow") and end < as_of(today) else booked
    pract = catalogue.practitioner_by_id[item.practitioner_id]
    place = catalogue.location_by_id[item.location_id]
    pract_name = f"{pract.given} {pract.family}"
    level = "municipal" if municipality else "specialist"
    resource: Resource = {
        "resourceType": "Appointment",
        "id": compound_id(person.fhir_id, item.id),
        "meta": labelled(meta(updated), item.security),
        "identifier": [record_identifier(item.id)],
        "status": item.status,
        "serviceCategory": [
            {
                "coding": [{"system": CARE_LEVEL_SYSTEM, "code": level}],
                "text": "Kommunehelsetjeneste" if municipality else "Spesialisthelsetjeneste",
            }
        ],
        "serviceType": [{"text": item.service}],
        "appointmentType": (
            {"coding": [{"system": ACT_CODE, "code": "VR", "display": "virtual"}], "text": "Video"}
            if item.video
            else {
                "coding": [{"system": ACT_CODE, "code": "AMB", "display": "ambulatory"}],
                "text": "Oppmøte",
            }
        ),
        "description": f"{item.service}{' (video)' if item.video else ''} hos {pract_name}",
        "start": instant(item.start),
        "end": instant(end),
        "minutesDuration": item.minutes,
        "created": booked.date().isoformat(),
        "participant": [
            {
                "actor": ref("Patient", person.fhir_id, person.name),
                "required": "required",
                "status": "accepted",
            },
            {
                "type": [{"text": pract.role}],
                "actor": ref("Practitioner", pract.id, pract_name),
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": ref("Location", place.id, place.name),
                "required": "required",
                "status": "accepted",
            },
        ],
    }
    if item.status == "cancelled":
        resource["cancelationReason"] = {"text": "Avlyst"}
    resource["extension"] = extensions(item, person, today, municipality)
    return indexed(resource, person.fhir_id, item.start, item.status, pract.id, place.id)


def extensions(
    item: Appointment, person: Person, today: dt.date, municipality: str | None
) -> list[Resource]:
    """The extensions of an appointment: video room, what the patient may do, who runs it."""
    out: list[Resource] = [
        {"url": CANCELLABLE_URL, "valueBoolean": _cancellable(item)},
        {"url": CANCEL_DEADLINE_URL, "valueDuration": hours(4 if municipality else 24)},
    ]
    if item.video:
        out += [
            {"url": VIDEO_JOIN_URL, "valueUrl": VIDEO_JOIN_BASE + _room(item.id)},
            {"url": VIDEO_OPENS_URL, "valueDuration": minutes(15)},
        ]
        session = _video_session(item, person, today)
        if session is not None:
            out.append({"url": VIDEO_SESSION_URL, "valueCode": session})
    else:
        out += [
            {"url": CHECK_IN_OPENS_URL, "valueDuration": minutes(60)},
            {"url": CHECK_IN_CLOSES_URL, "valueDuration": minutes(15)},
        ]
    if municipality:
        out.append({"url": MUNICIPALITY_URL, "valueCode": municipality})
    return out


def _room(appointment_id: str) -> str:
    """The video service's room name: opaque, derived from (never equal to) the record id."""
    return hashlib.sha256(f"room:{appointment_id}".encode()).hexdigest()[:20]


def indexed(
    resource: Resource,
    patient_id: str,
    start: dt.datetime,
    status: str,
    practitioner_id: str | None,
    location_id: str | None,
) -> Indexed:
    """`resource` with the keys Appointment search matches on."""
    patient_ref = f"Patient/{patient_id}"
    pract_refs = (f"Practitioner/{practitioner_id}",) if practitioner_id else ()
    place_refs = (f"Location/{location_id}",) if location_id else ()
    slots = tuple(s["reference"] for s in resource.get("slot", ()))
    return Indexed(
        resource,
        dates={"date": Span.instant(start)},
        tokens={"status": ((STATUS_SYSTEM, status),)},
        refs={
            "patient": (patient_ref,),
            "actor": (patient_ref, *pract_refs, *place_refs),
            "practitioner": pract_refs,
            "location": place_refs,
            "slot": slots,
        },
    )


def held_items(store: RecordStore, person: Person) -> list[Appointment]:
    """The record-level appointments the EHR holds for `person` (for tests and tools)."""
    record = store.record(person.nin)
    return [item for item, _ in held(person, record, store.catalogue, store.population.today)]
