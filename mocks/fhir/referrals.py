"""Referrals (`ServiceRequest`) and waiting-list places (`EpisodeOfCare`).

Each person has one to three referrals to a hospital department, derived from the
population seed and their identity alone (so nothing else in their record shifts):

- `ServiceRequest` (intent order, category "Patient referral"): `status` active,
  revoked (rejected) or completed; the referral's own workflow status as the extension
  `.../referral-status` (valueCode received | assessed | accepted | rejected |
  scheduled); `priority`; `authoredOn` (received); `requester` (the referring
  Practitioner); `performerType` (the department); `locationReference` (the hospital);
  the right-to-treatment deadline (`.../treatment-deadline`, valueDate) and the
  expected waiting time (`.../expected-waiting-time`, valueDuration in weeks).
- `EpisodeOfCare` for accepted (status waitlist) and scheduled (status planned)
  referrals: `period.start` = on the waiting list since, `referralRequest` = the
  ServiceRequest, expected start as `.../expected-start` (valueDate).

The personas `kari` and `ola` also have a referral to psychiatry labelled PSY.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

from mocks.catalogue import Catalogue
from mocks.fhir.labels import labelled
from mocks.fhir.model import (
    PROFILE_BASE,
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
from mocks.record_types import PLAIN, Labels, record_id

REFERRAL_STATUS_URL = PROFILE_BASE + "StructureDefinition/referral-status"
DEADLINE_URL = PROFILE_BASE + "StructureDefinition/treatment-deadline"
WAITING_TIME_URL = PROFILE_BASE + "StructureDefinition/expected-waiting-time"
EXPECTED_START_URL = PROFILE_BASE + "StructureDefinition/expected-start"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
REQUEST_STATUS = "http://hl7.org/fhir/request-status"
EPISODE_STATUS = "http://hl7.org/fhir/episode-of-care-status"
PSY = Labels(sensitivity=("PSY",))
PSYCHIATRY = "Distriktspsykiatrisk senter, poliklinikk"
# workflow status -> FHIR request status
_REQUEST_STATUS = {
    "received": "active",
    "assessed": "active",
    "accepted": "active",
    "scheduled": "active",
    "rejected": "revoked",
}
_FLOW = ("received", "assessed", "accepted", "scheduled", "rejected")


def _plan(person: Person, seed: int) -> list[tuple[str, Labels]]:
    rng = random.Random(f"referrals:{seed}:{person.nin}")
    count = rng.randint(1, 3)
    # the first is always on the waiting list, so every person shows one
    plan = [("accepted", PLAIN)] + [(rng.choice(_FLOW), PLAIN) for _ in range(count - 1)]
    if person.persona in ("kari", "ola"):
        plan.append(("accepted", PSY))
    return plan


def referrals(
    person: Person, catalogue: Catalogue, today: dt.date, seed: int
) -> Iterator[tuple[Indexed, Indexed | None]]:
    """(ServiceRequest, its EpisodeOfCare or None) per referral, oldest first."""
    rng = random.Random(f"referrals:{seed}:{person.nin}:detail")
    hospitals = catalogue.locations_of_kind("hospital")
    for n, (status, labels) in enumerate(_plan(person, seed)):
        place = rng.choice(hospitals)
        department = PSYCHIATRY if labels is PSY else place.name.partition(", ")[2]
        requester = rng.choice(catalogue.practitioners)
        received = today - dt.timedelta(days=rng.randint(20, 150) - n)
        weeks = rng.randint(2, 26)
        deadline = received + dt.timedelta(days=rng.randint(30, 180))
        key = f"{person.nin}:referral:{n}"
        request = _service_request(
            person,
            record_id("sr", key),
            status=status,
            labels=labels,
            department=department,
            place=(place.id, place.name if labels is not PSY else PSYCHIATRY),
            requester=(requester.id, f"{requester.given} {requester.family}"),
            received=received,
            priority=rng.choice(("routine", "routine", "urgent")),
            deadline=deadline if status in ("accepted", "scheduled") else None,
            weeks=weeks if status in ("assessed", "accepted") else None,
        )
        episode = None
        if status in ("accepted", "scheduled"):
            start = today + dt.timedelta(
                days=7 * weeks if status == "accepted" else rng.randint(3, 40)
            )
            episode = _episode(
                person,
                record_id("eo", key),
                request.id,
                waitlist=status == "accepted",
                labels=labels,
                department=department,
                since=received + dt.timedelta(days=rng.randint(3, 14)),
                expected_start=start,
            )
        yield request, episode


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 9, tzinfo=OSLO)


def _service_request(
    person: Person,
    rid: str,
    *,
    status: str,
    labels: Labels,
    department: str,
    place: tuple[str, str],
    requester: tuple[str, str],
    received: dt.date,
    priority: str,
    deadline: dt.date | None,
    weeks: int | None,
) -> Indexed:
    extensions: list[Resource] = [{"url": REFERRAL_STATUS_URL, "valueCode": status}]
    if deadline is not None:
        extensions.append({"url": DEADLINE_URL, "valueDate": deadline.isoformat()})
    if weeks is not None:
        extensions.append(
            {
                "url": WAITING_TIME_URL,
                "valueDuration": {"value": weeks, "unit": "wk", "system": UCUM, "code": "wk"},
            }
        )
    fhir_status = _REQUEST_STATUS[status]
    resource: Resource = {
        "resourceType": "ServiceRequest",
        "id": compound_id(person.fhir_id, rid),
        "meta": labelled(meta(_at(received)), labels),
        "extension": extensions,
        "identifier": [record_identifier(rid)],
        "status": fhir_status,
        "intent": "order",
        "category": [
            {"coding": [{"system": SNOMED, "code": "3457005", "display": "Patient referral"}]}
        ],
        "priority": priority,
        "code": {"text": f"Henvisning til {department}"},
        "subject": ref("Patient", person.fhir_id),
        "authoredOn": instant(_at(received)),
        "requester": ref("Practitioner", requester[0], requester[1]),
        "performerType": {"text": department},
        "locationReference": [ref("Location", place[0], place[1])],
    }
    patient_ref = f"Patient/{person.fhir_id}"
    return Indexed(
        resource,
        dates={"authored": Span.instant(_at(received))},
        tokens={"status": ((REQUEST_STATUS, fhir_status),), "priority": ((None, priority),)},
        refs={
            "patient": (patient_ref,),
            "subject": (patient_ref,),
            "requester": (f"Practitioner/{requester[0]}",),
        },
    )


def _episode(
    person: Person,
    rid: str,
    request_id: str,
    *,
    waitlist: bool,
    labels: Labels,
    department: str,
    since: dt.date,
    expected_start: dt.date,
) -> Indexed:
    status = "waitlist" if waitlist else "planned"
    resource: Resource = {
        "resourceType": "EpisodeOfCare",
        "id": compound_id(person.fhir_id, rid),
        "meta": labelled(meta(_at(since)), labels),
        "extension": [{"url": EXPECTED_START_URL, "valueDate": expected_start.isoformat()}],
        "identifier": [record_identifier(rid)],
        "status": status,
        "type": [{"text": department}],
        "patient": ref("Patient", person.fhir_id),
        "referralRequest": [ref("ServiceRequest", request_id)],
        "period": {"start": since.isoformat()},
    }
    patient_ref = f"Patient/{person.fhir_id}"
    return Indexed(
        resource,
        dates={"date": Span.day(since, open_ended=True)},
        tokens={"status": ((EPISODE_STATUS, status),)},
        refs={"patient": (patient_ref,), "incoming-referral": (f"ServiceRequest/{request_id}",)},
    )
