"""Writing appointments, as a patient portal may:

- `POST /Appointment` books a free `Slot`: the body names the slot (`slot`, exactly
  one), the Patient (`participant`, exactly one, status `accepted`), status `booked`,
  and optionally why (`reasonCode[0].text`) and identifiers. The server fills in the
  start, end, service and the schedule's Location and Practitioner from the slot and
  marks the slot `busy`. A slot that is no longer free is a 409 (unless this very
  request already booked it: a retried conditional create returns the first booking).
- `PUT /Appointment/{id}` may change only `status` (and `cancelationReason`):
  booked/proposed/pending -> `cancelled`, only where `patient-cancellable` is true
  (a cancelled booking frees its slot), and booked -> `arrived` (e-check-in).
- `POST /AppointmentResponse` is the patient's answer to an appointment: status
  `tentative` with a `comment` is a request to move it (FHIR's own way for a
  participant to ask for another time); it is filed for the staff to act on.

Bodies are checked element by element; a failure is a 422 OperationOutcome naming the
element, never echoing a value.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from mocks.fhir.appointments import (
    ACT_CODE,
    CANCEL_DEADLINE_URL,
    CANCELLABLE_URL,
    CARE_LEVEL_SYSTEM,
    CHECK_IN_CLOSES_URL,
    CHECK_IN_OPENS_URL,
    hours,
    indexed,
    minutes,
)
from mocks.fhir.model import Indexed, Resource, Span, compound_id, instant, patient_of
from mocks.fhir.outcome import FhirError, safe_name
from mocks.fhir.repository import Repository
from mocks.fhir.slots import with_status
from mocks.fhir.writes import creator, updater

MAX_TEXT = 2000
CANCELLABLE_FROM = frozenset({"booked", "proposed", "pending"})
BOOK = frozenset({"resourceType", "identifier", "status", "slot", "participant", "reasonCode"})
RESPOND = frozenset(
    {"resourceType", "identifier", "appointment", "actor", "participantStatus", "comment"}
)


def _fail(
    type_: str, element: str, why: str, code: str = "invalid", status: int = 422
) -> FhirError:
    return FhirError(status, code, f"{type_}.{element} {why}")


def _text(value: Any, limit: int = MAX_TEXT) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= limit


def _reference(value: Any, type_: str, element: str, target: str) -> str:
    if not isinstance(value, dict) or set(value) - {"reference", "display"}:
        raise _fail(type_, element, "must be a reference", "structure")
    reference = value.get("reference")
    if not isinstance(reference, str) or not reference.startswith(target + "/"):
        raise _fail(type_, element, f"must be a reference to {target}", "value")
    return reference.removeprefix(target + "/")


def _identifiers(data: dict[str, Any], type_: str) -> list[Resource]:
    items = data.get("identifier", [])
    if not isinstance(items, list):
        raise _fail(type_, "identifier", "must be a list", "structure")
    out = []
    for n, item in enumerate(items):
        if not (
            isinstance(item, dict)
            and set(item) == {"system", "value"}
            and _text(item["system"], 500)
            and _text(item["value"], 500)
        ):
            raise _fail(type_, f"identifier[{n}]", "must have a system and a value")
        out.append(dict(item))
    return out


def _unknown(data: dict[str, Any], allowed: frozenset[str], type_: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise _fail(type_, safe_name(unknown[0]), "is not an element this server accepts")


def _patient(repo: Repository, value: Any, type_: str, element: str) -> str:
    patient_id = _reference(value, type_, element, "Patient")
    if repo.store.population.by_fhir_id(patient_id) is None:
        raise _fail(type_, element, "does not reference a known Patient", "not-found")
    return patient_id


@creator("Appointment")
def book(repo: Repository, data: dict[str, Any], now: dt.datetime) -> Indexed:
    """Check a booking, build the Appointment and mark its slot busy."""
    _unknown(data, BOOK, "Appointment")
    if data.get("status") != "booked":
        raise _fail("Appointment", "status", "must be booked", "required")
    people = data.get("participant")
    if not isinstance(people, list) or len(people) != 1 or not isinstance(people[0], dict):
        raise _fail("Appointment", "participant", "must be exactly the Patient", "required")
    if people[0].get("status") != "accepted" or set(people[0]) != {"actor", "status"}:
        raise _fail("Appointment", "participant[0]", "must be an accepted actor")
    patient_id = _patient(repo, people[0]["actor"], "Appointment", "participant[0].actor")
    slots = data.get("slot")
    if not isinstance(slots, list) or len(slots) != 1:
        raise _fail("Appointment", "slot", "must be exactly one Slot", "required")
    slot_ref = "Slot/" + _reference(slots[0], "Appointment", "slot[0]", "Slot")
    slot = repo.find(slot_ref)
    if slot is None:
        raise _fail("Appointment", "slot[0]", "does not reference a known Slot", "not-found")
    reasons = data.get("reasonCode", [])
    if not isinstance(reasons, list) or len(reasons) > 1:
        raise _fail("Appointment", "reasonCode", "must be a list of at most one", "structure")
    for n, reason in enumerate(reasons):
        if not isinstance(reason, dict) or set(reason) != {"text"} or not _text(reason["text"]):
            raise _fail("Appointment", f"reasonCode[{n}]", "must be text of 1 to 2000 chars")
    identifiers = _identifiers(data, "Appointment")
    if slot.resource["status"] != "free":
        already = _booked_by(repo, patient_id, slot_ref, identifiers)
        if already is not None:
            return already  # the retried create finds it by its identifier
        raise _fail("Appointment", "slot[0]", "is no longer free", "conflict", 409)
    schedule = repo.find(slot.resource["schedule"]["reference"])
    if schedule is None:
        raise _fail("Appointment", "slot[0]", "belongs to no Schedule", "not-found")
    start = dt.datetime.fromisoformat(slot.resource["start"])
    end = dt.datetime.fromisoformat(slot.resource["end"])
    actors = [a for a in schedule.resource["actor"]]
    place = next(a for a in actors if a["reference"].startswith("Location/"))
    doctor = next(a for a in actors if a["reference"].startswith("Practitioner/"))
    resource: Resource = {
        "resourceType": "Appointment",
        "id": compound_id(patient_id, "ap" + uuid.uuid4().hex[:16]),
        "meta": {"versionId": "1", "lastUpdated": instant(now)},
        "extension": [
            {"url": CANCELLABLE_URL, "valueBoolean": True},
            {"url": CANCEL_DEADLINE_URL, "valueDuration": hours(24)},
            {"url": CHECK_IN_OPENS_URL, "valueDuration": minutes(60)},
            {"url": CHECK_IN_CLOSES_URL, "valueDuration": minutes(15)},
        ],
        "identifier": identifiers,
        "status": "booked",
        "serviceCategory": [
            {
                "coding": [{"system": CARE_LEVEL_SYSTEM, "code": "specialist"}],
                "text": "Spesialisthelsetjeneste",
            }
        ],
        "serviceType": [{"text": schedule.resource["serviceType"][0]["text"]}],
        "appointmentType": {
            "coding": [{"system": ACT_CODE, "code": "AMB", "display": "ambulatory"}],
            "text": "Oppmøte",
        },
        "start": instant(start),
        "end": instant(end),
        "minutesDuration": int((end - start).total_seconds() // 60),
        "created": now.date().isoformat(),
        "slot": [{"reference": slot_ref}],
        "participant": [
            {"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"},
            {"actor": dict(doctor), "required": "required", "status": "accepted"},
            {"actor": dict(place), "required": "required", "status": "accepted"},
        ],
    }
    if not identifiers:
        del resource["identifier"]
    if reasons:
        resource["reasonCode"] = [{"text": reasons[0]["text"]}]
    _set_slot(repo, slot, "busy", now)
    return indexed(
        resource,
        patient_id,
        start,
        "booked",
        doctor["reference"].removeprefix("Practitioner/"),
        place["reference"].removeprefix("Location/"),
    )


def _booked_by(
    repo: Repository, patient_id: str, slot_ref: str, identifiers: list[Resource]
) -> Indexed | None:
    person = repo.store.population.by_fhir_id(patient_id)
    if person is None or not identifiers:
        return None
    for existing in repo.compartment("Appointment", person.nin):
        if slot_ref in existing.refs.get("slot", ()) and any(
            i in existing.resource.get("identifier", []) for i in identifiers
        ):
            return existing
    return None


def _set_slot(repo: Repository, slot: Indexed, status: str, now: dt.datetime) -> None:
    version = int(slot.resource.get("meta", {}).get("versionId", "1")) + 1
    changed = with_status(slot, status)
    meta = {"versionId": str(version), "lastUpdated": instant(now)}
    repo.replace(
        Indexed({**changed.resource, "meta": meta}, changed.dates, changed.tokens, changed.refs)
    )


def _flag(resource: Resource, url: str) -> Any:
    for extension in resource.get("extension", ()):
        if extension.get("url") == url:
            return extension.get("valueBoolean")
    return None


@updater("Appointment")
def change_status(
    repo: Repository, current: Indexed, data: dict[str, Any], now: dt.datetime
) -> Indexed:
    """Cancel (where the patient may) or check in; nothing else may change."""
    old = current.resource
    for element in sorted(set(old) | set(data)):
        if element in ("meta", "status", "cancelationReason"):
            continue
        if old.get(element) != data.get(element):
            raise _fail("Appointment", safe_name(element), "cannot be changed", "invariant")
    status, before = data.get("status"), old.get("status")
    if status == "cancelled" and before in CANCELLABLE_FROM:
        if _flag(old, CANCELLABLE_URL) is not True:
            raise _fail(
                "Appointment", "status", "cannot be cancelled by the patient", "business-rule"
            )
    elif status == "arrived" and before == "booked":
        pass
    else:
        raise _fail("Appointment", "status", "cannot change this way", "business-rule")
    resource = {**old, "status": status}
    if "cancelationReason" in data:
        reason = data["cancelationReason"]
        if status != "cancelled" or not (
            isinstance(reason, dict) and set(reason) == {"text"} and _text(reason["text"], 500)
        ):
            raise _fail("Appointment", "cancelationReason", "must be text, on a cancellation only")
        resource["cancelationReason"] = {"text": reason["text"]}
    if status == "cancelled":
        for slot_ref in current.refs.get("slot", ()):
            slot = repo.find(slot_ref)
            if slot is not None and slot.resource["status"] == "busy":
                _set_slot(repo, slot, "free", now)
    tokens = {**current.tokens, "status": ((current.tokens["status"][0][0], status),)}
    return Indexed(resource, current.dates, tokens, current.refs)


@creator("AppointmentResponse")
def respond(repo: Repository, data: dict[str, Any], now: dt.datetime) -> Indexed:
    """File the patient's answer to an appointment (a request to move it)."""
    _unknown(data, RESPOND, "AppointmentResponse")
    patient_id = _patient(repo, data.get("actor"), "AppointmentResponse", "actor")
    target = _reference(
        data.get("appointment"), "AppointmentResponse", "appointment", "Appointment"
    )
    appointment = repo.find(f"Appointment/{target}")
    if appointment is None or patient_of(appointment.id) != patient_id:
        raise _fail(
            "AppointmentResponse", "appointment", "is not an appointment of the actor", "not-found"
        )
    status = data.get("participantStatus")
    if status not in ("accepted", "declined", "tentative"):
        raise _fail(
            "AppointmentResponse", "participantStatus", "must be accepted, declined or tentative"
        )
    comment = data.get("comment")
    if comment is not None and not _text(comment):
        raise _fail("AppointmentResponse", "comment", "must be text of 1 to 2000 chars")
    resource: Resource = {
        "resourceType": "AppointmentResponse",
        "id": compound_id(patient_id, "ar" + uuid.uuid4().hex[:16]),
        "meta": {"versionId": "1", "lastUpdated": instant(now)},
        "identifier": _identifiers(data, "AppointmentResponse"),
        "appointment": {"reference": f"Appointment/{target}"},
        "actor": {"reference": f"Patient/{patient_id}"},
        "participantStatus": status,
    }
    if not resource["identifier"]:
        del resource["identifier"]
    if comment is not None:
        resource["comment"] = comment
    patient_ref = f"Patient/{patient_id}"
    return Indexed(
        resource,
        dates={"date": Span.instant(now)},
        tokens={"part-status": (("http://hl7.org/fhir/participationstatus", status),)},
        refs={
            "patient": (patient_ref,),
            "actor": (patient_ref,),
            "appointment": (f"Appointment/{target}",),
        },
    )
