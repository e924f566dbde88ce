"""Appointment reads and writes against the EHR (functions taking the `EhrClient`).

- cancel and e-check-in are a versioned `PUT Appointment` (If-Match) changing only
  `status` (`cancelled` + `cancelationReason`, or `arrived`);
- asking to move an appointment is an `AppointmentResponse` from the Patient with
  `participantStatus` `tentative` and the wish as `comment`: FHIR's own way for a
  participant to answer an appointment and ask for another time (Epic-style APIs
  expose the same as a "reschedule request" the department works off);
- booking is `POST Appointment` naming a free `Slot` (the EHR fills in the rest from
  the slot's `Schedule` and marks the slot busy; a slot taken meanwhile is a 409).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from sources import fhir_appointments as parse
from sources.ehr import EhrClient, query
from sources.fhir import bundle_resources
from sources.models import Appointment

Json = dict[str, Any]
RESCHEDULE_STATUS = "tentative"
MAX_SLOTS = 200


async def appointment(
    ehr: EhrClient, patient_id: str, appointment_id: str
) -> tuple[Appointment, Json] | None:
    """One of the patient's appointments and its current resource (for an update);
    None when the EHR has none, or it is another patient's."""
    resource = await ehr.read("Appointment", appointment_id)
    if resource is None:
        return None
    if not ehr.own({"resourceType": "Bundle", "entry": [_match(resource)]}, patient_id):
        return None
    return parse.appointment(resource), resource


def _match(resource: Json) -> Json:
    return {"resource": resource, "search": {"mode": "match"}}


async def set_status(
    ehr: EhrClient, resource: Json, patient_id: str, status: str, reason: str | None = None
) -> Appointment:
    """Store `resource` with a new status (UpstreamConflict when it changed meanwhile)."""
    changed = {**resource, "status": status}
    if reason:
        changed["cancelationReason"] = {"text": reason}
    return parse.appointment(await ehr.update(changed, patient_id))


async def reschedule_requests(ehr: EhrClient, patient_id: str) -> frozenset[str]:
    """Ids of the patient's appointments with an open request to move them."""
    bundle = await ehr.search(
        query(
            "AppointmentResponse",
            patient=patient_id,
            **{"part-status": RESCHEDULE_STATUS},
            _count="200",
        )
    )
    out = set()
    for response in ehr.own(bundle, patient_id):
        reference = (response.get("appointment") or {}).get("reference", "")
        if isinstance(reference, str) and reference.startswith("Appointment/"):
            out.add(reference.removeprefix("Appointment/"))
    return frozenset(out)


async def request_reschedule(
    ehr: EhrClient, patient_id: str, appointment_id: str, message: str, *, idempotency: str
) -> None:
    """File the patient's wish to move an appointment (at most once per key)."""
    await ehr.create(
        {
            "resourceType": "AppointmentResponse",
            "appointment": {"reference": f"Appointment/{appointment_id}"},
            "actor": {"reference": f"Patient/{patient_id}"},
            "participantStatus": RESCHEDULE_STATUS,
            "comment": message,
        },
        patient_id,
        idempotency=idempotency,
    )


async def free_slots(
    ehr: EhrClient, start: dt.datetime, end: dt.datetime, service: str | None
) -> tuple[list[parse.Slot], dict[str, parse.Schedule]]:
    """Free slots starting in [start, end), soonest first (up to 200), and their schedules."""
    params = [
        ("status", "free"),
        ("start", "ge" + start.isoformat(timespec="seconds")),
        ("start", "lt" + end.isoformat(timespec="seconds")),
        ("_sort", "start"),
        ("_count", str(MAX_SLOTS)),
        ("_include", "Slot:schedule"),
    ]
    if service:
        params.append(("service-type", f"{parse.SERVICE_SYSTEM}|{service}"))
    bundle = await ehr.search("Slot?" + urlencode(params, safe=",:|"))
    slots = [parse.slot(r) for r in bundle_resources(bundle) if r.get("resourceType") == "Slot"]
    schedules = {
        r["id"]: parse.schedule(r)
        for r in bundle_resources(bundle, mode="include")
        if r.get("resourceType") == "Schedule"
    }
    return [s for s in slots if s.free], schedules


async def slot(ehr: EhrClient, slot_id: str) -> parse.Slot | None:
    """One slot by id; None when there is none."""
    resource = await ehr.read("Slot", slot_id)
    return parse.slot(resource) if resource is not None else None


async def schedule(ehr: EhrClient, schedule_id: str) -> parse.Schedule | None:
    """One schedule by id; None when there is none."""
    resource = await ehr.read("Schedule", schedule_id)
    return parse.schedule(resource) if resource is not None else None


async def book(
    ehr: EhrClient, patient_id: str, slot_id: str, reason: str | None, *, idempotency: str
) -> Appointment:
    """Book the slot for the patient (UpstreamConflict when it is taken)."""
    resource: Json = {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{slot_id}"}],
        "participant": [{"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"}],
    }
    if reason:
        resource["reasonCode"] = [{"text": reason}]
    return parse.appointment(await ehr.create(resource, patient_id, idempotency=idempotency))
