"""Appointment reads and writes against the EHR (`EhrClient.appointments`).

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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from sources import fhir_appointments as parse
from sources.fhir import bundle_resources, query
from sources.models import Appointment

if TYPE_CHECKING:
    from sources.ehr import EhrClient

Json = dict[str, Any]
RESCHEDULE_STATUS = "tentative"
MAX_SLOTS = 200


@dataclass(frozen=True, slots=True)
class Held:
    """One of the patient's appointments as read for a change: its typed `record`, and
    the resource at the version read, which only `EhrAppointments.set_status` reads."""

    record: Appointment
    _resource: Json = field(repr=False, compare=False)


def held(resource: Json) -> Held:
    """An Appointment resource as read, held for a change."""
    return Held(parse.appointment(resource), resource)


def _match(resource: Json) -> Json:
    return {"resource": resource, "search": {"mode": "match"}}


class EhrAppointments:
    """The patient's appointments in the EHR: reads, booking, cancelling, check-in, and
    requests to move them."""

    def __init__(self, ehr: EhrClient) -> None:
        self._ehr = ehr

    async def of(self, patient_id: str, *, upcoming: bool, now: dt.datetime) -> list[Appointment]:
        """Upcoming (soonest first) or past (latest first) appointments, with their
        practitioners and locations included in the same read."""
        # Asked to the minute (a search that repeats within it is the same, so cacheable),
        # then cut at `now` exactly.
        minute = now.replace(second=0, microsecond=0)
        bound = minute if upcoming else minute + dt.timedelta(minutes=1)
        bundle = await self._ehr.search(
            query(
                "Appointment",
                patient=patient_id,
                date=("ge" if upcoming else "lt") + bound.isoformat(timespec="seconds"),
                _sort="date" if upcoming else "-date",
                _count="100",
                _include="Appointment:actor",
            )
        )
        self._ehr.include(bundle)
        found = [parse.appointment(r) for r in self._ehr.own(bundle, patient_id)]
        return [a for a in found if (a.start >= now) is upcoming]

    async def appointment(self, patient_id: str, appointment_id: str) -> Held | None:
        """One of the patient's appointments, held at its current version (for a change);
        None when the EHR has none, or it is another patient's."""
        resource = await self._ehr.read("Appointment", appointment_id)
        if resource is None:
            return None
        if not self._ehr.own({"resourceType": "Bundle", "entry": [_match(resource)]}, patient_id):
            return None
        return held(resource)

    async def set_status(
        self, current: Held, patient_id: str, status: str, reason: str | None = None
    ) -> Appointment:
        """Store the `current` appointment with a new status, as a new version of the one
        read (UpstreamConflict when it changed meanwhile)."""
        changed = {**current._resource, "status": status}
        if reason:
            changed["cancelationReason"] = {"text": reason}
        return parse.appointment(await self._ehr.update(changed, patient_id))

    async def reschedule_requests(self, patient_id: str) -> frozenset[str]:
        """Ids of the patient's appointments with an open request to move them."""
        bundle = await self._ehr.search(
            query(
                "AppointmentResponse",
                patient=patient_id,
                **{"part-status": RESCHEDULE_STATUS},
                _count="200",
            )
        )
        out = set()
        for response in self._ehr.own(bundle, patient_id):
            reference = (response.get("appointment") or {}).get("reference", "")
            if isinstance(reference, str) and reference.startswith("Appointment/"):
                out.add(reference.removeprefix("Appointment/"))
        return frozenset(out)

    async def request_reschedule(
        self, patient_id: str, appointment_id: str, message: str, *, idempotency: str
    ) -> None:
        """File the patient's wish to move an appointment (at most once per key)."""
        await self._ehr.create(
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
        self, start: dt.datetime, end: dt.datetime, service: str | None
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
        bundle = await self._ehr.search("Slot?" + urlencode(params, safe=",:|"))
        slots = [parse.slot(r) for r in bundle_resources(bundle) if r.get("resourceType") == "Slot"]
        schedules = {
            r["id"]: parse.schedule(r)
            for r in bundle_resources(bundle, mode="include")
            if r.get("resourceType") == "Schedule"
        }
        return [s for s in slots if s.free], schedules

    async def slot(self, slot_id: str) -> parse.Slot | None:
        """One slot by id; None when there is none."""
        resource = await self._ehr.read("Slot", slot_id)
        return parse.slot(resource) if resource is not None else None

    async def schedule(self, schedule_id: str) -> parse.Schedule | None:
        """One schedule by id; None when there is none."""
        resource = await self._ehr.read("Schedule", schedule_id)
        return parse.schedule(resource) if resource is not None else None

    async def book(
        self, patient_id: str, slot_id: str, reason: str | None, *, idempotency: str
    ) -> Appointment:
        """Book the slot for the patient (UpstreamConflict when it is taken)."""
        resource: Json = {
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [{"reference": f"Slot/{slot_id}"}],
            "participant": [
                {"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"}
            ],
        }
        if reason:
            resource["reasonCode"] = [{"text": reason}]
        return parse.appointment(
            await self._ehr.create(resource, patient_id, idempotency=idempotency)
        )
