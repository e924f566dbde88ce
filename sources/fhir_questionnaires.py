"""Parsing FHIR R4 Task, Questionnaire and QuestionnaireResponse resources into the
questionnaire records (`sources.ehr_questionnaires`), and the QuestionnaireResponse of the
patient's answers.

The EHR models an assigned form the Epic way: a Task (`code` complete-questionnaire,
status `requested` until answered, `focus` the Questionnaire, `for` the Patient,
`restriction.period.end` the due date, `reasonReference` an Appointment for a pre-visit
form, `basedOn` the pregnancy EpisodeOfCare) whose `output` points to the answers once
given. Answers reported by the patient carry `meta.tag` patient-reported; a clinician
confirms them with the `reviewed` extension.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sources import fhir
from sources.ehr_questionnaires import (
    Answer,
    Assigned,
    Form,
    NewAnswer,
    Option,
    Question,
    Response,
)
from sources.errors import UpstreamBadResponse

PROFILE = "https://fhir.helsegraf.dev/"
KIND_SYSTEM = PROFILE + "CodeSystem/questionnaire-kind"
TASK_CODE = PROFILE + "CodeSystem/task-code|complete-questionnaire"
ORIGIN_SYSTEM = PROFILE + "CodeSystem/origin"
PATIENT_REPORTED = "patient-reported"
REVIEWED_URL = PROFILE + "StructureDefinition/reviewed"
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


def response_resource(
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
