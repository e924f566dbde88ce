"""Digital pregnancy care: an `EpisodeOfCare` per ongoing pregnancy and what hangs on it.

- the episode: `type` SNOMED CT 77386006 "Pregnancy", status `active`, `period.start`
  (the first day of the last period) and the estimated due date as the extension
  `https://fhir.helsegraf.dev/StructureDefinition/estimated-due-date` (valueDate);
- the health card (helsekort for gravide): Observations from each check so far (blood
  pressure, weight, and from week 20 fundal height), final, performed by the midwife,
  linked to the episode with the core extension `workflow-episodeOfCare`;
- the checks: Appointments (past ones fulfilled, later ones booked) with
  `supportingInformation` pointing to the episode;
- a DocumentReference (the health card summary, with its Binary) whose
  `context.encounter` points to the episode.

Who is pregnant is derived from the person and the population seed: the persona `anna`
(in week 24), and about one in ten other women aged 20-42 (not the other personas).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from mocks.fhir.appointments import appointment
from mocks.fhir.model import (
    DOCUMENT_CATEGORY_SYSTEM,
    PROFILE_BASE,
    Indexed,
    Resource,
    Span,
    compound_id,
    instant,
    meta,
    ref,
)
from mocks.population import OSLO, Person
from mocks.records import Appointment, Catalogue

SNOMED = "http://snomed.info/sct"
PREGNANCY = (SNOMED, "77386006", "Pregnancy")
DUE_DATE_URL = PROFILE_BASE + "StructureDefinition/estimated-due-date"
EPISODE_URL = "http://hl7.org/fhir/StructureDefinition/workflow-episodeOfCare"
EPISODE_STATUS = "http://hl7.org/fhir/episode-of-care-status"
CHECK_WEEKS = (8, 12, 16, 20, 24, 28, 32, 36, 40)
PERSONA = "anna"


@dataclass(frozen=True, slots=True)
class Pregnancy:
    """An ongoing pregnancy."""

    episode_id: str
    start: dt.date  # first day of the last period
    due: dt.date

    def week(self, day: dt.date) -> int:
        """Completed weeks of pregnancy on `day`."""
        return (day - self.start).days // 7


def _hash(person: Person, seed: int, salt: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{salt}:{person.nin}".encode()).digest()[:4])


def pregnancy(person: Person, today: dt.date, seed: int) -> Pregnancy | None:
    """The person's ongoing pregnancy, if any (deterministic from person and seed)."""
    if person.persona == PERSONA:
        weeks, extra = 24, 2
    elif (
        person.persona is None
        and person.female
        and 20 <= person.age_on(today) <= 42
        and _hash(person, seed, "pregnant") % 10 == 0
    ):
        weeks, extra = 6 + _hash(person, seed, "weeks") % 32, _hash(person, seed, "days") % 7
    else:
        return None
    start = today - dt.timedelta(days=7 * weeks + extra)
    episode = compound_id(
        person.fhir_id, "eo" + hashlib.sha256(person.nin.encode()).hexdigest()[:16]
    )
    return Pregnancy(episode, start, start + dt.timedelta(days=280))


def episode(item: Pregnancy, person: Person) -> Indexed:
    """The pregnancy as an EpisodeOfCare."""
    start = dt.datetime.combine(item.start, dt.time(12), tzinfo=OSLO)
    resource: Resource = {
        "resourceType": "EpisodeOfCare",
        "id": item.episode_id,
        "meta": meta(start),
        "extension": [{"url": DUE_DATE_URL, "valueDate": item.due.isoformat()}],
        "status": "active",
        "type": [{"coding": [{"system": s, "code": c, "display": d} for s, c, d in (PREGNANCY,)]}],
        "patient": ref("Patient", person.fhir_id),
        "period": {"start": item.start.isoformat()},
    }
    return Indexed(
        resource,
        dates={"date": Span.day(item.start, open_ended=True)},
        tokens={"status": ((EPISODE_STATUS, "active"),), "type": (PREGNANCY[:2],)},
        refs={"patient": (f"Patient/{person.fhir_id}",)},
    )


def check_days(item: Pregnancy, today: dt.date) -> list[tuple[int, dt.date]]:
    """(week, day) of every check of the pregnancy, past and planned."""
    return [(w, item.start + dt.timedelta(days=7 * w)) for w in CHECK_WEEKS]


def _midwife(catalogue: Catalogue) -> str:
    return next(p.id for p in catalogue.practitioners if p.role == "Jordmor")


def checks(
    item: Pregnancy, person: Person, catalogue: Catalogue, today: dt.date
) -> Iterator[Indexed]:
    """The checks as Appointments linked to the episode."""
    place = catalogue.locations_of_kind("municipal")[0].id
    for week, day in check_days(item, today):
        start = dt.datetime.combine(day, dt.time(10), tzinfo=OSLO)
        booked = Appointment(
            id="pc" + hashlib.sha256(f"{item.episode_id}:{week}".encode()).hexdigest()[:16],
            system="ehr",
            start=start,
            minutes=30,
            status="fulfilled" if day < today else "booked",
            service="Svangerskapskontroll",
            practitioner_id=_midwife(catalogue),
            location_id=place,
            video=False,
        )
        built = appointment(booked, person, catalogue, today)
        resource = {
            **built.resource,
            "supportingInformation": [ref("EpisodeOfCare", item.episode_id)],
        }
        yield Indexed(resource, built.dates, built.tokens, built.refs)


def health_card(
    item: Pregnancy, person: Person, catalogue: Catalogue, today: dt.date
) -> Iterator[Indexed]:
    """The Observations of the checks held so far."""
    from mocks.fhir.careplans import vital  # the vital-signs builder is shared

    midwife = _midwife(catalogue)
    for week, day in check_days(item, today):
        if day >= today:
            break
        at = dt.datetime.combine(day, dt.time(10, 15), tzinfo=OSLO)
        extra = {
            "extension": [
                {"url": EPISODE_URL, "valueReference": ref("EpisodeOfCare", item.episode_id)}
            ]
        }
        key = f"{item.episode_id}:{week}"
        yield vital(
            person,
            key + ":bp",
            "blood-pressure",
            (112 + week % 7, 70 + week % 5),
            at,
            midwife,
            extra,
        )
        yield vital(
            person, key + ":wt", "weight", (round(64.0 + week * 0.4, 1),), at, midwife, extra
        )
        if week >= 20:
            yield vital(
                person, key + ":fh", "fundal-height", (float(week - 1),), at, midwife, extra
            )


def document(item: Pregnancy, person: Person, today: dt.date) -> tuple[Indexed, Indexed]:
    """The health-card summary as a DocumentReference and its Binary."""
    doc_id = compound_id(
        person.fhir_id, "dp" + hashlib.sha256(item.episode_id.encode()).hexdigest()[:16]
    )
    written = dt.datetime.combine(item.start + dt.timedelta(days=7 * 8), dt.time(11), tzinfo=OSLO)
    text = (
        "Helsekort for gravide\n\n"
        f"Termin: {item.due:%d.%m.%Y}\nSvangerskapet følges av jordmor på helsestasjonen.\n"
    )
    data = text.encode()
    title = "Helsekort for gravide"
    resource: Resource = {
        "resourceType": "DocumentReference",
        "id": doc_id,
        "meta": meta(written),
        "status": "current",
        "type": {"text": title},
        "category": [{"coding": [{"system": DOCUMENT_CATEGORY_SYSTEM, "code": "instructions"}]}],
        "subject": ref("Patient", person.fhir_id),
        "date": instant(written),
        "description": title,
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "url": f"Binary/{doc_id}",
                    "size": len(data),
                    "title": title,
                }
            }
        ],
        "context": {"encounter": [ref("EpisodeOfCare", item.episode_id)]},
    }
    patient = f"Patient/{person.fhir_id}"
    docref = Indexed(
        resource,
        dates={"date": Span.instant(written)},
        tokens={
            "status": (("http://hl7.org/fhir/document-reference-status", "current"),),
            "category": ((DOCUMENT_CATEGORY_SYSTEM, "instructions"),),
        },
        refs={"patient": (patient,), "subject": (patient,)},
    )
    binary = Indexed(
        {
            "resourceType": "Binary",
            "id": doc_id,
            "meta": meta(written),
            "contentType": "text/plain",
            "data": base64.b64encode(data).decode(),
        }
    )
    return docref, binary
