"""Questionnaires the EHR asks a patient to fill in, the Epic way: a `Task` per assignment.

- `Questionnaire` (not in any compartment; a small directory) holds the form: title,
  its kind as `code` in `https://fhir.helsegraf.dev/CodeSystem/questionnaire-kind`
  (`pre-visit`, `pregnancy`, `follow-up`, `general`) and the items (boolean, choice,
  integer, decimal, string, date; `required`, `answerOption`, `maxLength`).
- `Task` (status `requested` until answered, then `completed`) assigns one form to one
  patient: `focus` is the Questionnaire, `for` the Patient, `restriction.period.end` the
  due date, `reasonReference` the Appointment of a pre-visit form, `basedOn` the
  pregnancy EpisodeOfCare of a pregnancy form, and once answered `output[0]` points to
  the QuestionnaireResponse. A sensitive form (mental health) is labelled PSY in
  `meta.security`, on the Task and on its answers.
- `QuestionnaireResponse` (status `completed`; `source` the Patient, so reported by the
  patient; `meta.tag` `patient-reported`) is unconfirmed until a clinician confirms it:
  then it carries the extension `.../StructureDefinition/reviewed` (valueDateTime).

Every person has a general health form to answer, a pre-visit form for their next EHR
appointment, a mental-health form (PSY), and an answered, confirmed follow-up form;
pregnant people (`pregnancy.py`) also have a pregnancy form.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from mocks.fhir.labels import labelled
from mocks.fhir.model import (
    PROFILE_BASE,
    REVIEWED_URL,
    Indexed,
    Resource,
    Span,
    compound_id,
    instant,
    meta,
    record_identifier,
    ref,
)
from mocks.fhir.questionnaire_forms import FORMS, Form, questionnaire
from mocks.population import OSLO, Person
from mocks.records import HealthRecord

KIND_SYSTEM = PROFILE_BASE + "CodeSystem/questionnaire-kind"
TASK_CODE_SYSTEM = PROFILE_BASE + "CodeSystem/task-code"
TASK_STATUS = "http://hl7.org/fhir/task-status"
QR_STATUS = "http://hl7.org/fhir/questionnaire-answers-status"
ORIGIN_SYSTEM = PROFILE_BASE + "CodeSystem/origin"
PATIENT_REPORTED = "patient-reported"


def directory(today: dt.date) -> dict[str, Indexed]:
    """Every Questionnaire by id."""
    return {form.id: questionnaire(form, today) for form in FORMS.values()}


@dataclass(frozen=True, slots=True)
class Assignment:
    """One form assigned to one patient, maybe already answered."""

    key: str
    form: Form
    due: dt.date
    assigned: dt.datetime
    appointment: str | None = None  # Appointment id of a pre-visit form
    episode: str | None = None  # EpisodeOfCare id of a pregnancy form
    answered: dt.datetime | None = None
    reviewed: dt.datetime | None = None


def _days(person: Person, seed: int, salt: str, low: int, high: int) -> int:
    digest = hashlib.sha256(f"{seed}:{salt}:{person.nin}".encode()).digest()
    return low + int.from_bytes(digest[:4], "big") % (high - low + 1)


def assignments(
    person: Person, record: HealthRecord, today: dt.date, seed: int, episode: str | None
) -> list[Assignment]:
    """The forms assigned to `person` (deterministic from the person and the seed)."""
    noon = dt.datetime.combine(today, dt.time(12, 0), tzinfo=OSLO)
    out = [
        Assignment(
            "general",
            FORMS["q-general-health"],
            today + dt.timedelta(days=_days(person, seed, "general", 7, 30)),
            noon - dt.timedelta(days=_days(person, seed, "general-at", 2, 20)),
        ),
        Assignment(
            "mental",
            FORMS["q-mental-health"],
            today + dt.timedelta(days=14),
            noon - dt.timedelta(days=3),
        ),
    ]
    visit = next((a for a in record.appointments if a.system == "ehr" and a.start > noon), None)
    if visit is not None:
        out.append(
            Assignment(
                "pre-visit",
                FORMS["q-pre-visit"],
                visit.start.astimezone(OSLO).date(),
                noon - dt.timedelta(days=1),
                appointment=compound_id(person.fhir_id, visit.id),
            )
        )
    answered = noon - dt.timedelta(days=_days(person, seed, "follow-up", 20, 60))
    out.append(
        Assignment(
            "follow-up",
            FORMS["q-follow-up"],
            answered.date() + dt.timedelta(days=7),
            answered - dt.timedelta(days=5),
            answered=answered,
            reviewed=answered + dt.timedelta(days=2),
        )
    )
    if episode is not None:
        out.append(
            Assignment(
                "pregnancy",
                FORMS["q-pregnancy"],
                today + dt.timedelta(days=10),
                noon - dt.timedelta(days=4),
                episode=episode,
            )
        )
    return out


def task_id(person: Person, key: str) -> str:
    """The Task id of an assignment."""
    return compound_id(person.fhir_id, "tk" + hashlib.sha256(key.encode()).hexdigest()[:16])


def response_id(person: Person, key: str) -> str:
    """The QuestionnaireResponse id of a seeded answer."""
    return compound_id(person.fhir_id, "qr" + hashlib.sha256(key.encode()).hexdigest()[:16])


def task(item: Assignment, person: Person) -> Indexed:
    """The Task assigning a form."""
    resource: Resource = {
        "resourceType": "Task",
        "id": task_id(person, item.key),
        "meta": labelled(meta(item.assigned), item.form.labels),
        "identifier": [record_identifier(f"{person.fhir_id}:{item.key}")],
        "status": "completed" if item.answered else "requested",
        "intent": "order",
        "code": {"coding": [{"system": TASK_CODE_SYSTEM, "code": "complete-questionnaire"}]},
        "focus": ref("Questionnaire", item.form.id, item.form.title),
        "for": ref("Patient", person.fhir_id),
        "authoredOn": instant(item.assigned),
        "restriction": {"period": {"end": item.due.isoformat()}},
    }
    refs = {"patient": (f"Patient/{person.fhir_id}",), "focus": (f"Questionnaire/{item.form.id}",)}
    if item.appointment:
        resource["reasonReference"] = ref("Appointment", item.appointment)
    if item.episode:
        resource["basedOn"] = [ref("EpisodeOfCare", item.episode)]
    if item.answered:
        resource["lastModified"] = instant(item.answered)
        resource["output"] = [output(response_id(person, item.key))]
    return Indexed(
        resource,
        dates={"authored-on": Span.instant(item.assigned)},
        tokens={
            "status": ((TASK_STATUS, resource["status"]),),
            "code": ((TASK_CODE_SYSTEM, "complete-questionnaire"),),
        },
        refs=refs,
    )


def output(response: str) -> Resource:
    """A Task output pointing to the QuestionnaireResponse that answered it."""
    return {
        "type": {"coding": [{"system": TASK_CODE_SYSTEM, "code": "questionnaire-response"}]},
        "valueReference": ref("QuestionnaireResponse", response),
    }


def response(item: Assignment, person: Person) -> Indexed:
    """The seeded answer of an answered assignment."""
    assert item.answered is not None
    answers: list[Resource] = [
        {"linkId": "better", "answer": [{"valueBoolean": True}]},
    ]
    extension = []
    if item.reviewed is not None:
        extension = [{"url": REVIEWED_URL, "valueDateTime": instant(item.reviewed)}]
    return indexed_response(
        {
            "resourceType": "QuestionnaireResponse",
            "id": response_id(person, item.key),
            "meta": {**labelled(meta(item.answered), item.form.labels), "tag": [origin_tag()]},
            **({"extension": extension} if extension else {}),
            "questionnaire": f"{PROFILE_BASE}Questionnaire/{item.form.id}",
            "status": "completed",
            "subject": ref("Patient", person.fhir_id),
            "authored": instant(item.answered),
            "author": ref("Patient", person.fhir_id),
            "source": ref("Patient", person.fhir_id),
            "item": answers,
        }
    )


def origin_tag() -> Resource:
    """The `meta.tag` marking data the patient reported."""
    return {"system": ORIGIN_SYSTEM, "code": PATIENT_REPORTED, "display": "Reported by patient"}


def indexed_response(resource: Resource) -> Indexed:
    """A QuestionnaireResponse with its search keys."""
    patient = resource["subject"]["reference"]
    authored = dt.datetime.fromisoformat(resource["authored"])
    return Indexed(
        resource,
        dates={"authored": Span.instant(authored)},
        tokens={"status": ((QR_STATUS, resource["status"]),)},
        refs={"patient": (patient,), "subject": (patient,)},
    )


def tasks(
    person: Person, record: HealthRecord, today: dt.date, seed: int, episode: str | None
) -> Iterator[Indexed]:
    """Every Task of the person."""
    for item in assignments(person, record, today, seed, episode):
        yield task(item, person)


def responses(
    person: Person, record: HealthRecord, today: dt.date, seed: int, episode: str | None
) -> Iterator[Indexed]:
    """Every seeded QuestionnaireResponse of the person."""
    for item in assignments(person, record, today, seed, episode):
        if item.answered is not None:
            yield response(item, person)
