"""Bookable time: `Schedule` (a clinic's calendar: service, location, practitioner) and
`Slot` (one free or busy period of a schedule).

Both are directory resources, not in any patient's compartment, so they are searched
without a patient: `Slot?status=free&start=ge...&start=lt...&_include=Slot:schedule`.
Four hospital clinics open their calendars for online booking; each has slots of 30
minutes from 08:00 to 14:30 on the ten weekdays after the reference day, some of them
already busy (deterministic from the population seed). Booking (`POST /Appointment`
naming a free slot) marks the slot busy; cancelling that appointment frees it again.
"""

from __future__ import annotations

import datetime as dt
import random

from mocks.fhir.model import Indexed, Resource, Span, instant, meta, ref
from mocks.records import Catalogue
from mocks.registry import OSLO

SLOT_STATUS_SYSTEM = "http://hl7.org/fhir/slotstatus"
SERVICE_SYSTEM = "https://fhir.helsegraf.dev/CodeSystem/bookable-service"
BOOKABLE = (  # code, display
    ("hud", "Hudpoliklinikk"),
    ("oye", "Øyepoliklinikk"),
    ("orto", "Ortopedisk kontroll"),
    ("indre", "Poliklinikk indremedisin"),
)
SLOT_MINUTES = 30
DAYS = 10


def schedules(catalogue: Catalogue, today: dt.date) -> list[Indexed]:
    """The clinics open for online booking."""
    doctors = [p for p in catalogue.practitioners if p.role == "Lege"]
    places = catalogue.locations_of_kind("hospital")
    out = []
    for n, (code, display) in enumerate(BOOKABLE):
        doctor, place = doctors[n], places[n % len(places)]
        resource: Resource = {
            "resourceType": "Schedule",
            "id": f"sc{n:03d}",
            "meta": meta(dt.datetime.combine(today, dt.time(6), tzinfo=OSLO)),
            "active": True,
            "serviceType": [
                {"coding": [{"system": SERVICE_SYSTEM, "code": code}], "text": display}
            ],
            "actor": [
                ref("Location", place.id, place.name),
                ref("Practitioner", doctor.id, f"{doctor.given} {doctor.family}"),
            ],
            "planningHorizon": {
                "start": today.isoformat(),
                "end": (today + dt.timedelta(days=DAYS * 2)).isoformat(),
            },
        }
        out.append(
            Indexed(
                resource,
                tokens={"service-type": ((SERVICE_SYSTEM, code),), "active": ((None, "true"),)},
                refs={"actor": (f"Location/{place.id}", f"Practitioner/{doctor.id}")},
            )
        )
    return out


def _weekdays(today: dt.date) -> list[dt.date]:
    days: list[dt.date] = []
    day = today
    while len(days) < DAYS:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days


def slots(catalogue: Catalogue, today: dt.date, seed: int) -> list[Indexed]:
    """Every slot of every bookable schedule."""
    rng = random.Random(f"slots:{seed}")
    out = []
    for schedule in schedules(catalogue, today):
        code = schedule.resource["serviceType"][0]["coding"][0]["code"]
        for day in _weekdays(today):
            for n in range(14):
                start = dt.datetime.combine(day, dt.time(8), tzinfo=OSLO) + dt.timedelta(
                    minutes=SLOT_MINUTES * n
                )
                status = "busy" if rng.random() < 0.4 else "free"
                slot_id = f"sl-{schedule.id}-{day:%Y%m%d}-{start:%H%M}"
                out.append(slot(slot_id, schedule.id, code, start, status, today))
    return out


def slot(
    slot_id: str, schedule_id: str, code: str, start: dt.datetime, status: str, today: dt.date
) -> Indexed:
    """One slot as an R4 Slot."""
    end = start + dt.timedelta(minutes=SLOT_MINUTES)
    resource: Resource = {
        "resourceType": "Slot",
        "id": slot_id,
        "meta": meta(dt.datetime.combine(today, dt.time(6), tzinfo=OSLO)),
        "serviceType": [{"coding": [{"system": SERVICE_SYSTEM, "code": code}]}],
        "schedule": ref("Schedule", schedule_id),
        "status": status,
        "start": instant(start),
        "end": instant(end),
    }
    return with_status(Indexed(resource), status)


def with_status(current: Indexed, status: str) -> Indexed:
    """`current` (a Slot) with `status` and the search keys that go with it."""
    resource = {**current.resource, "status": status}
    start = dt.datetime.fromisoformat(resource["start"])
    code = resource["serviceType"][0]["coding"][0]["code"]
    return Indexed(
        resource,
        dates={"start": Span.instant(start)},
        tokens={
            "status": ((SLOT_STATUS_SYSTEM, status),),
            "service-type": ((SERVICE_SYSTEM, code),),
        },
        refs={"schedule": (resource["schedule"]["reference"],)},
    )
