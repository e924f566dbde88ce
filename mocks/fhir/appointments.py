"""Appointment resources, from the EHR's own appointments (`system == "ehr"`).

Every participant (the Patient, the Practitioner, the Location) has status
`accepted`. Video appointments carry `appointmentType` coded `VR` ("virtual") in
`http://terminology.hl7.org/CodeSystem/v3-ActCode` (in-person ones are `AMB`) and an
extension `https://fhir.helsegraf.dev/StructureDefinition/video-join-url` whose
`valueUrl` is a placeholder meeting link. R4 has no virtual-service element, so this
is how Epic-style servers commonly carry it.
"""

from __future__ import annotations

import datetime as dt

from mocks.fhir.labels import labelled
from mocks.fhir.model import (
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
from mocks.population import OSLO, Person
from mocks.records import Appointment, Catalogue

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
STATUS_SYSTEM = "http://hl7.org/fhir/appointmentstatus"
VIDEO_JOIN_BASE = "https://video.helsegraf.dev/join/"


def as_of(today: dt.date) -> dt.datetime:
    """The mock's notion of "now": 07:00 in Oslo on the population's reference day."""
    return dt.datetime(today.year, today.month, today.day, 7, tzinfo=OSLO)


def appointment(item: Appointment, person: Person, catalogue: Catalogue, today: dt.date) -> Indexed:
    """One EHR appointment as an R4 Appointment."""
    end = item.start + dt.timedelta(minutes=item.minutes)
    booked = min(item.start - dt.timedelta(days=30), as_of(today))
    updated = end if item.status in ("fulfilled", "noshow") and end < as_of(today) else booked
    pract = catalogue.practitioner_by_id[item.practitioner_id]
    place = catalogue.location_by_id[item.location_id]
    pract_name = f"{pract.given} {pract.family}"
    resource: Resource = {
        "resourceType": "Appointment",
        "id": compound_id(person.fhir_id, item.id),
        "meta": labelled(meta(updated), item.security),
        "identifier": [record_identifier(item.id)],
        "status": item.status,
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
    if item.video:
        resource["extension"] = [{"url": VIDEO_JOIN_URL, "valueUrl": VIDEO_JOIN_BASE + item.id}]
    patient_ref = f"Patient/{person.fhir_id}"
    pract_ref, place_ref = f"Practitioner/{pract.id}", f"Location/{place.id}"
    return Indexed(
        resource,
        dates={"date": Span.instant(item.start)},
        tokens={"status": ((STATUS_SYSTEM, item.status),)},
        refs={
            "patient": (patient_ref,),
            "actor": (patient_ref, pract_ref, place_ref),
            "practitioner": (pract_ref,),
            "location": (place_ref,),
        },
    )
