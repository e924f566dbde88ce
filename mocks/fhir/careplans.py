"""Follow-up programmes (`CarePlan`) and home measurements (vital-signs `Observation`s).

A programme is a CarePlan (status `active`, intent `plan`) with a title, a period, the
responsible clinician as `author` (a Practitioner, with the name as display) and one
`activity.detail` per thing to measure: `code` the LOINC code, `scheduledTiming.repeat`
how often (frequency per period), `description` the instruction.

Measurements are Observations in category `vital-signs` with LOINC codes and UCUM
quantities (blood pressure as the panel 85354-9 with systolic 8480-6 and diastolic
8462-4 components). Measured by a clinician: status `final`, the Practitioner as
performer. Reported by the patient: `meta.tag` `.../CodeSystem/origin|patient-reported`,
the Patient as performer, status `preliminary` until a clinician confirms it (`final`).
Measurements made for a programme point to it with `basedOn`.

Who follows a programme is derived from the person and the population seed: kari
(blood pressure), emil (diabetes), ola (heart failure) and about one in four generated
people over 50.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mocks.fhir.model import Indexed, Resource, Span, compound_id, instant, meta, ref
from mocks.fhir.questionnaires import origin_tag
from mocks.population import OSLO, Person
from mocks.records import Catalogue

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
OBSERVATION_STATUS = "http://hl7.org/fhir/observation-status"
CAREPLAN_STATUS = "http://hl7.org/fhir/request-status"
# kind -> (LOINC code, display, UCUM unit, category)
VITALS: dict[str, tuple[str, str, str, str]] = {
    "blood-pressure": ("85354-9", "Blood pressure panel", "mm[Hg]", "vital-signs"),
    "pulse": ("8867-4", "Heart rate", "/min", "vital-signs"),
    "weight": ("29463-7", "Body weight", "kg", "vital-signs"),
    "glucose": ("15074-8", "Glucose [Moles/volume] in Blood", "mmol/L", "vital-signs"),
    "spo2": (
        "59408-5",
        "Oxygen saturation in Arterial blood by Pulse oximetry",
        "%",
        "vital-signs",
    ),
    "temperature": ("8310-5", "Body temperature", "Cel", "vital-signs"),
    "fundal-height": ("11881-0", "Uterus Fundal height by tape measure", "cm", "exam"),
}
SYSTOLIC = ("8480-6", "Systolic blood pressure")
DIASTOLIC = ("8462-4", "Diastolic blood pressure")


@dataclass(frozen=True, slots=True)
class Programme:
    """A follow-up programme: what to measure, how often."""

    key: str
    title: str
    measures: tuple[tuple[str, int, str, str], ...]  # (kind, frequency, period unit, text)


PROGRAMMES = {
    "hypertension": Programme(
        "hypertension",
        "Oppfølging av høyt blodtrykk",
        (("blood-pressure", 2, "d", "Mål blodtrykket morgen og kveld."),),
    ),
    "diabetes": Programme(
        "diabetes",
        "Oppfølging av diabetes",
        (("glucose", 4, "d", "Mål blodsukkeret før hvert måltid og ved sengetid."),),
    ),
    "heart-failure": Programme(
        "heart-failure",
        "Oppfølging av hjertesvikt",
        (
            ("weight", 1, "d", "Vei deg hver morgen før frokost."),
            ("pulse", 1, "d", "Mål pulsen hver morgen."),
            ("spo2", 1, "wk", "Mål oksygenmetningen en gang i uka."),
        ),
    ),
}
_PERSONAS = {"kari": "hypertension", "emil": "diabetes", "ola": "heart-failure"}


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4])


def programme_of(person: Person, today: dt.date, seed: int) -> Programme | None:
    """The person's programme, if any (deterministic from person and seed)."""
    if person.persona is not None:
        key = _PERSONAS.get(person.persona)
        return PROGRAMMES[key] if key else None
    if person.age_on(today) > 50 and _hash(f"{seed}:programme:{person.nin}") % 4 == 0:
        return PROGRAMMES[("hypertension", "heart-failure")[_hash(person.nin) % 2]]
    return None


def careplan_id(person: Person, programme: Programme) -> str:
    """The CarePlan id of the person's programme."""
    return compound_id(
        person.fhir_id, "cp" + hashlib.sha256(programme.key.encode()).hexdigest()[:16]
    )


def careplans(person: Person, catalogue: Catalogue, today: dt.date, seed: int) -> Iterator[Indexed]:
    """The person's programme as a CarePlan."""
    programme = programme_of(person, today, seed)
    if programme is None:
        return
    start = today - dt.timedelta(days=60 + _hash(f"{seed}:start:{person.nin}") % 200)
    doctor = catalogue.practitioners[_hash(person.nin) % len(catalogue.practitioners)]
    resource: Resource = {
        "resourceType": "CarePlan",
        "id": careplan_id(person, programme),
        "meta": meta(dt.datetime.combine(start, dt.time(9), tzinfo=OSLO)),
        "status": "active",
        "intent": "plan",
        "title": programme.title,
        "subject": ref("Patient", person.fhir_id),
        "period": {"start": start.isoformat(), "end": (start + dt.timedelta(days=365)).isoformat()},
        "author": ref("Practitioner", doctor.id, f"{doctor.given} {doctor.family}"),
        "activity": [
            {
                "detail": {
                    "code": {
                        "coding": [
                            {"system": LOINC, "code": VITALS[kind][0], "display": VITALS[kind][1]}
                        ]
                    },
                    "status": "in-progress",
                    "scheduledTiming": {
                        "repeat": {"frequency": frequency, "period": 1, "periodUnit": unit}
                    },
                    "description": text,
                }
            }
            for kind, frequency, unit, text in programme.measures
        ],
    }
    patient = f"Patient/{person.fhir_id}"
    yield Indexed(
        resource,
        dates={"date": Span.day(start, open_ended=True)},
        tokens={"status": ((CAREPLAN_STATUS, "active"),)},
        refs={"patient": (patient,), "subject": (patient,)},
    )


def vital(
    person: Person,
    key: str,
    kind: str,
    values: tuple[float, ...],
    at: dt.datetime,
    performer: str | None,
    extra: Resource | None = None,
) -> Indexed:
    """One measurement; `performer` None means the patient reported it (preliminary)."""
    code, display, unit, category = VITALS[kind]
    resource: Resource = {
        "resourceType": "Observation",
        "id": compound_id(person.fhir_id, "vs" + hashlib.sha256(key.encode()).hexdigest()[:16]),
        "meta": meta(at),
        **(extra or {}),
        "status": "final" if performer else "preliminary",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": category}]}],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        "subject": ref("Patient", person.fhir_id),
        "effectiveDateTime": instant(at),
        "performer": [
            ref("Practitioner", performer) if performer else ref("Patient", person.fhir_id)
        ],
    }
    if performer is None:
        resource["meta"] = {**resource["meta"], "tag": [origin_tag()]}
    if kind == "blood-pressure":
        resource["component"] = [
            {
                "code": {"coding": [{"system": LOINC, "code": c, "display": d}]},
                "valueQuantity": quantity(v, unit),
            }
            for (c, d), v in zip((SYSTOLIC, DIASTOLIC), values, strict=True)
        ]
    else:
        resource["valueQuantity"] = quantity(values[0], unit)
    return indexed_vital(resource)


def quantity(value: float, unit: str) -> Resource:
    """A UCUM quantity."""
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def indexed_vital(resource: Resource) -> Indexed:
    """A measurement Observation with its search keys."""
    patient = resource["subject"]["reference"]
    at = dt.datetime.fromisoformat(resource["effectiveDateTime"])
    category = resource["category"][0]["coding"][0]["code"]
    return Indexed(
        resource,
        dates={"date": Span.instant(at)},
        tokens={
            "status": ((OBSERVATION_STATUS, resource["status"]),),
            "category": ((OBSERVATION_CATEGORY, category),),
            "code": tuple((LOINC, c["code"]) for c in resource["code"]["coding"]),
        },
        refs={
            "patient": (patient,),
            "subject": (patient,),
            "based-on": tuple(r["reference"] for r in resource.get("basedOn", ())),
        },
    )


_SAMPLES: dict[str, Callable[[int], tuple[float, ...]]] = {
    "blood-pressure": lambda n: (128.0 + n % 9, 82.0 + n % 6),
    "glucose": lambda n: (round(5.2 + (n % 7) * 0.4, 1),),
    "weight": lambda n: (round(81.0 + (n % 5) * 0.3, 1),),
    "pulse": lambda n: (68.0 + n % 11,),
    "spo2": lambda n: (94.0 + n % 4,),
}


def measurements(
    person: Person, catalogue: Catalogue, today: dt.date, seed: int
) -> Iterator[Indexed]:
    """Home measurements of the person's programme over the last two weeks, and one
    clinician measurement of each kind at the programme's start."""
    programme = programme_of(person, today, seed)
    if programme is None:
        return
    plan = careplan_id(person, programme)
    doctor = catalogue.practitioners[_hash(person.nin) % len(catalogue.practitioners)].id
    based_on = {"basedOn": [ref("CarePlan", plan)]}
    for kind, *_ in programme.measures:
        sample = _SAMPLES[kind]
        clinic = dt.datetime.combine(today - dt.timedelta(days=30), dt.time(9, 30), tzinfo=OSLO)
        yield vital(person, f"{plan}:{kind}:clinic", kind, sample(0), clinic, doctor)
        for n in range(1, 6):
            at = dt.datetime.combine(
                today - dt.timedelta(days=2 * n), dt.time(7, n * 5), tzinfo=OSLO
            )
            yield vital(person, f"{plan}:{kind}:{n}", kind, sample(n), at, None, based_on)
