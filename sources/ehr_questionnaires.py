"""Questionnaires from the EHR: assignments (`Task`), forms (`Questionnaire`) and answers
(`QuestionnaireResponse`), parsed into typed records; answering one.

The EHR models an assigned form the Epic way: a Task (`code` complete-questionnaire,
status `requested` until answered, `focus` the Questionnaire, `for` the Patient,
`restriction.period.end` the due date, `reasonReference` an Appointment for a pre-visit
form, `basedOn` the pregnancy EpisodeOfCare) whose `output` points to the answers once
given. Answers reported by the patient carry `meta.tag` patient-reported; a clinician
confirms them with the `reviewed` extension.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from authz.facts import Security
from sources import fhir
from sources.errors import UpstreamBadResponse, UpstreamConflict
from sources.fhir import query

if TYPE_CHECKING:
    from sources.ehr import EhrClient

PROFILE = "https://fhir.helsegraf.dev/"
KIND_SYSTEM = PROFILE + "CodeSystem/questionnaire-kind"
TASK_CODE = PROFILE + "CodeSystem/task-code|complete-questionnaire"
ORIGIN_SYSTEM = PROFILE + "CodeSystem/origin"
PATIENT_REPORTED = "patient-reported"
REVIEWED_URL = PROFILE + "StructureDefinition/reviewed"
ANSWERABLE = frozenset({"boolean", "integer", "decimal", "string", "date", "choice"})


@dataclass(frozen=True, slots=True)
class Option:
    """One allowed answer of a choice question."""

    system: str
    code: str
    display: str


@dataclass(frozen=True, slots=True)
class Question:
    """One item of a form."""

    link_id: str
    text: str
    type: str  # boolean | choice | integer | decimal | string | date (others: display)
    required: bool
    options: tuple[Option, ...]
    max_length: int | None


@dataclass(frozen=True, slots=True)
class Form:
    """A questionnaire definition."""

    id: str
    url: str
    title: str
    kind: str  # pre-visit | pregnancy | follow-up | general
    questions: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer, as text (true/false, a number, YYYY-MM-DD, a choice code, free text)."""

    link_id: str
    value: str
    display: str | None  # the option's text of a choice answer


@dataclass(frozen=True, slots=True)
class NewAnswer:
    """One answer to store, typed by its question's type: bool (boolean), int (integer),
    float (decimal), str (string), date (date) or the chosen Option (choice)."""

    link_id: str
    value: bool | int | float | str | dt.date | Option = field(repr=False)


@dataclass(frozen=True, slots=True)
class Response:
    """A set of answers."""

    id: str
    authored: dt.datetime | None
    reported_by_patient: bool
    confirmed: bool
    answers: tuple[Answer, ...]


@dataclass(frozen=True, slots=True)
class Assigned:
    """A form assigned to the patient, with its answers once given."""

    id: str  # the Task id
    form: Form
    status: str  # requested | completed | ...
    assigned: dt.datetime | None
    due: dt.date | None
    appointment_id: str | None
    episode_id: str | None
    response: Response | None
    security: Security


RESPONSE = "QuestionnaireResponse"


def form(resource: fhir.Json) -> Form:
    """A Questionnaire resource as a form."""
    kind = next(
        (c.get("code") for c in resource.get("code", ()) if c.get("system") == KIND_SYSTEM),
        "general",
    )
    questions = []
    for item in resource.get("item", ()):
        options = tuple(
            Option(str(c.get("system", "")), str(c.get("code", "")), str(c.get("display") or ""))
            for o in item.get("answerOption", ())
            if isinstance(c := o.get("valueCoding"), dict)
        )
        length = item.get("maxLength")
        questions.append(
            Question(
                link_id=str(item.get("linkId", "")),
                text=str(item.get("text") or ""),
                type=str(item.get("type", "display")),
                required=bool(item.get("required", False)),
                options=options,
                max_length=length if isinstance(length, int) else None,
            )
        )
    return Form(
        id=str(resource["id"]),
        url=str(resource.get("url", "")),
        title=str(resource.get("title") or resource.get("name") or ""),
        kind=str(kind),
        questions=tuple(questions),
    )


def _answer_text(answer: fhir.Json) -> tuple[str, str | None] | None:
    for key, value in answer.items():
        if key == "valueCoding" and isinstance(value, dict):
            return str(value.get("code", "")), value.get("display")
        if key == "valueBoolean" and isinstance(value, bool):
            return ("true" if value else "false"), None
        if key.startswith("value") and isinstance(value, str | int | float):
            return str(value), None
    return None


def response(resource: fhir.Json) -> Response:
    """A QuestionnaireResponse as answers."""
    tags = (resource.get("meta") or {}).get("tag") or ()
    reported = any(
        t.get("system") == ORIGIN_SYSTEM and t.get("code") == PATIENT_REPORTED for t in tags
    ) or bool(fhir.ref_id(resource.get("source"), "Patient"))
    answers = []
    for item in resource.get("item", ()):
        for answer in item.get("answer", ()):
            found = _answer_text(answer)
            if found is not None:
                answers.append(Answer(str(item.get("linkId", "")), found[0], found[1]))
    reviewed = any(e.get("url") == REVIEWED_URL for e in resource.get("extension", ()))
    return Response(
        id=str(resource["id"]),
        authored=fhir.when(resource.get("authored")),
        reported_by_patient=reported,
        confirmed=reviewed or resource.get("status") == "amended",
        answers=tuple(answers),
    )


def assigned(task: fhir.Json, forms: dict[str, Form], responses: dict[str, Response]) -> Assigned:
    """A questionnaire Task with its form and answers."""
    form_id = fhir.ref_id(task.get("focus"), "Questionnaire")
    if form_id is None or form_id not in forms:
        raise UpstreamBadResponse("EHR", "search Task", "a task without its Questionnaire")
    outputs = [
        fhir.ref_id(o.get("valueReference"), "QuestionnaireResponse")
        for o in task.get("output", ())
    ]
    answered = next((responses[o] for o in outputs if o in responses), None)
    episodes = [fhir.ref_id(b, "EpisodeOfCare") for b in task.get("basedOn", ())]
    return Assigned(
        id=str(task["id"]),
        form=forms[form_id],
        status=str(task.get("status", "")),
        assigned=fhir.when(task.get("authoredOn")),
        due=fhir.day(((task.get("restriction") or {}).get("period") or {}).get("end")),
        appointment_id=fhir.ref_id(task.get("reasonReference"), "Appointment"),
        episode_id=next((e for e in episodes if e), None),
        response=answered,
        security=fhir.security(task),
    )


def _value(value: bool | int | float | str | dt.date | Option) -> fhir.Json:
    """The FHIR `answer` entry of one typed value (bool before int: a bool is an int)."""
    if isinstance(value, Option):
        return {"valueCoding": {"system": value.system, "code": value.code}}
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueDecimal": value}
    if isinstance(value, dt.date):
        return {"valueDate": value.isoformat()}
    return {"valueString": value}


def _items(answers: list[NewAnswer]) -> list[fhir.Json]:
    """The QuestionnaireResponse `item` entries of `answers`, in their order."""
    return [{"linkId": a.link_id, "answer": [_value(a.value)]} for a in answers]


def _response_resource(
    patient_id: str, item: Assigned, answers: list[NewAnswer], now: dt.datetime
) -> fhir.Json:
    """The QuestionnaireResponse of the patient's `answers` to `item`'s form, tagged as
    reported by the patient and carrying the task's sensitivity labels."""
    labels = []
    if item.security.sensitivity:
        act = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
        labels = [{"system": act, "code": c} for c in sorted(item.security.sensitivity)]
    patient = {"reference": f"Patient/{patient_id}"}
    meta: dict[str, Any] = {"tag": [{"system": ORIGIN_SYSTEM, "code": PATIENT_REPORTED}]}
    if labels:
        meta["security"] = labels
    return {
        "resourceType": "QuestionnaireResponse",
        "meta": meta,
        "questionnaire": item.form.url,
        "status": "completed",
        "subject": patient,
        "authored": now.isoformat(timespec="seconds"),
        "author": patient,
        "source": patient,
        "item": _items(answers),
    }


class EhrQuestionnaires:
    """Questionnaires assigned to the patient in the EHR, and their answers."""

    def __init__(self, ehr: EhrClient) -> None:
        self._ehr = ehr

    async def of(self, patient_id: str) -> list[Assigned]:
        """Every questionnaire assigned to the patient (one batch: tasks with their forms
        included, and the patient's answers)."""
        tasks, answers = await asyncio.gather(
            self._ehr.search(
                query(
                    "Task",
                    patient=patient_id,
                    code=TASK_CODE,
                    _include="Task:focus",
                    _count="200",
                )
            ),
            self._ehr.search(query("QuestionnaireResponse", patient=patient_id, _count="200")),
        )
        forms = {f.id: f for f in map(form, fhir.bundle_resources(tasks, mode="include"))}
        responses = {r.id: r for r in map(response, self._ehr.own(answers, patient_id))}
        return [assigned(t, forms, responses) for t in self._ehr.own(tasks, patient_id)]

    async def answer(
        self,
        patient_id: str,
        item: Assigned,
        answers: list[NewAnswer],
        *,
        idempotency: str,
        now: dt.datetime,
    ) -> Assigned:
        """Store the answers (in form order) once per key and complete the task.

        A retry finds the response created the first time (conditional create) and a task
        already completed with it.
        """
        created = await self._ehr.create(
            _response_resource(patient_id, item, answers, now), patient_id, idempotency=idempotency
        )
        task = await self._complete_task(patient_id, item.id, created)
        return assigned(task, {item.form.id: item.form}, {str(created["id"]): response(created)})

    async def _complete_task(self, patient_id: str, task_id: str, created: fhir.Json) -> fhir.Json:
        """The task, completed with the `created` response unless it already was (a retry);
        `UpstreamConflict` when it was completed with other answers."""
        task = await self._ehr.read("Task", task_id)
        if task is None:
            raise UpstreamBadResponse("EHR", "read Task", "the task is gone")
        if task.get("status") == "requested":
            output = {
                "type": {
                    "coding": [
                        {"system": TASK_CODE.split("|")[0], "code": "questionnaire-response"}
                    ]
                },
                "valueReference": {"reference": f"QuestionnaireResponse/{created['id']}"},
            }
            task = await self._ehr.update(
                {**task, "status": "completed", "output": [output]}, patient_id
            )
        answered_by = [
            fhir.ref_id(o.get("valueReference"), "QuestionnaireResponse")
            for o in task.get("output", ())
        ]
        if str(created["id"]) not in answered_by:
            raise UpstreamConflict("EHR", "update Task", "answered with other answers")
        return task
