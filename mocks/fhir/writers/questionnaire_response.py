"""Writing answers: `POST /QuestionnaireResponse` and completing the questionnaire `Task`.

A response is checked element by element against its Questionnaire (every answer's
linkId is an item of the form, its value has the item's type, a choice is one of the
options, a string is within `maxLength`, every required item is answered); a failure
is a 422 OperationOutcome naming the element (`QuestionnaireResponse.item[2].answer[0]`),
never echoing a value. Only `completed` responses reported by the patient (`source` the
Patient, `meta.tag` patient-reported) are accepted. `identifier` is 0..1 in R4; a list
of exactly one is read leniently (as HAPI does) and stored as the one identifier.

`PUT /Task/{id}` may only complete a questionnaire task: status `requested` ->
`completed`, with one `output` pointing to a QuestionnaireResponse of the same patient;
nothing else may change.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from mocks.fhir.model import Indexed, Resource, compound_id, instant, patient_of
from mocks.fhir.outcome import FhirError, safe_name
from mocks.fhir.questionnaires import (
    ORIGIN_SYSTEM,
    PATIENT_REPORTED,
    TASK_STATUS,
    indexed_response,
    output,
)
from mocks.fhir.repository import Repository
from mocks.fhir.writes import creator, updater

ALLOWED = frozenset(
    {
        "resourceType",
        "meta",
        "identifier",
        "questionnaire",
        "status",
        "subject",
        "authored",
        "author",
        "source",
        "item",
    }
)
_VALUE: dict[str, tuple[str, tuple[type, ...]]] = {
    "boolean": ("valueBoolean", (bool,)),
    "integer": ("valueInteger", (int,)),
    "decimal": ("valueDecimal", (int, float)),
    "string": ("valueString", (str,)),
    "date": ("valueDate", (str,)),
    "choice": ("valueCoding", (dict,)),
}
MAX_TEXT = 10_000


def _fail(element: str, why: str, code: str = "invalid") -> FhirError:
    return FhirError(422, code, f"QuestionnaireResponse.{element} {why}")


def _patient(repo: Repository, value: Any, element: str) -> str:
    reference = value.get("reference") if isinstance(value, dict) else None
    if (
        not isinstance(reference, str)
        or not reference.startswith("Patient/")
        or set(value) != {"reference"}
    ):
        raise _fail(element, "must be a reference to a Patient", "value")
    patient_id = reference.removeprefix("Patient/")
    if repo.store.population.by_fhir_id(patient_id) is None:
        raise _fail(element, "does not reference a known Patient", "not-found")
    return patient_id


def _identifier(value: Any) -> Resource | None:
    if value is None:
        return None
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if (
        not isinstance(value, dict)
        or set(value) != {"system", "value"}
        or not all(isinstance(v, str) and v.strip() for v in value.values())
    ):
        raise _fail("identifier", "must be one identifier with a system and a value", "structure")
    return dict(value)


def _meta(value: Any) -> Resource:
    if not isinstance(value, dict) or not set(value) <= {"tag", "security"}:
        raise _fail("meta", "may hold tag and security only", "structure")
    tags = value.get("tag")
    if tags != [{"system": ORIGIN_SYSTEM, "code": PATIENT_REPORTED}] and not (
        isinstance(tags, list)
        and len(tags) == 1
        and isinstance(tags[0], dict)
        and (tags[0].get("system"), tags[0].get("code")) == (ORIGIN_SYSTEM, PATIENT_REPORTED)
    ):
        raise _fail("meta.tag", "must mark the response as reported by the patient", "required")
    security = value.get("security", [])
    if not isinstance(security, list) or not all(
        isinstance(c, dict)
        and set(c) <= {"system", "code", "display"}
        and isinstance(c.get("system"), str)
        and isinstance(c.get("code"), str)
        for c in security
    ):
        raise _fail("meta.security", "must be a list of codings with system and code")
    out: Resource = {"tag": [dict(tags[0])]}
    if security:
        out["security"] = [dict(c) for c in security]
    return out


def _answer(item: Resource, answer: Any, element: str) -> Resource:
    name, kinds = _VALUE[item["type"]]
    if not isinstance(answer, dict) or set(answer) != {name}:
        raise _fail(element, f"must hold exactly {name} for a {item['type']} item", "value")
    value: Any = answer[name]
    if not isinstance(answer[name], kinds) or (isinstance(value, bool) and bool not in kinds):
        raise _fail(element, f"must hold a {item['type']} value", "value")
    if item["type"] == "string" and (
        not value.strip() or len(value) > item.get("maxLength", MAX_TEXT)
    ):
        raise _fail(element, "is empty or longer than the item's maxLength", "value")
    if item["type"] == "date":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise _fail(element, "must be a date (YYYY-MM-DD)", "value") from None
    if item["type"] == "choice":
        options = [o["valueCoding"] for o in item.get("answerOption", ())]
        picked = (value.get("system"), value.get("code"))
        if not any((o["system"], o["code"]) == picked for o in options):
            raise _fail(element, "is not one of the item's answer options", "code-invalid")
        return {name: next(o for o in options if (o["system"], o["code"]) == picked)}
    return {name: value}


def _items(form: Resource, data: Any) -> list[Resource]:
    if not isinstance(data, list):
        raise _fail("item", "must be a list", "structure")
    defined = {i["linkId"]: i for i in form.get("item", ())}
    out: list[Resource] = []
    seen: set[str] = set()
    for n, entry in enumerate(data):
        link = entry.get("linkId") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or not set(entry) <= {"linkId", "answer"}:
            raise _fail(f"item[{n}]", "must hold linkId and answer only", "structure")
        if not isinstance(link, str) or link not in defined or link in seen:
            raise _fail(f"item[{n}].linkId", "is not an item of the questionnaire, or repeated")
        seen.add(link)
        answers = entry.get("answer")
        if not isinstance(answers, list) or len(answers) != 1:
            raise _fail(f"item[{n}].answer", "must hold exactly one answer", "structure")
        answer = _answer(defined[link], answers[0], f"item[{n}].answer[0]")
        out.append({"linkId": link, "answer": [answer]})
    for link, item in defined.items():
        if item.get("required") and link not in seen:
            index = list(defined).index(link)
            raise _fail(f"item[{index}]", "is required by the questionnaire", "required")
    return out


@creator("QuestionnaireResponse")
def create_response(repo: Repository, data: dict[str, Any], now: dt.datetime) -> Indexed:
    """Check a patient's answers against the form and build the stored response."""
    unknown = sorted(set(data) - ALLOWED)
    if unknown:
        raise _fail(safe_name(unknown[0]), "is not an element this server accepts", "structure")
    if data.get("status") != "completed":
        raise _fail("status", "must be completed", "required")
    canonical = data.get("questionnaire")
    form_id = canonical.rsplit("/", 1)[-1] if isinstance(canonical, str) else ""
    form = repo.find(f"Questionnaire/{form_id}") if form_id else None
    if form is None or canonical != form.resource["url"]:
        raise _fail("questionnaire", "must be the canonical url of a known Questionnaire")
    patient_id = _patient(repo, data.get("subject"), "subject")
    if _patient(repo, data.get("source"), "source") != patient_id:
        raise _fail("source", "must be the subject: only patients report here", "value")
    if "author" in data and _patient(repo, data["author"], "author") != patient_id:
        raise _fail("author", "must be the subject", "value")
    authored = now
    if "authored" in data:
        try:
            authored = dt.datetime.fromisoformat(str(data["authored"]))
        except ValueError:
            raise _fail("authored", "must be a dateTime with a timezone") from None
        if authored.tzinfo is None or authored > now + dt.timedelta(minutes=5):
            raise _fail("authored", "must be a dateTime with a timezone, not in the future")
    resource: Resource = {
        "resourceType": "QuestionnaireResponse",
        "id": compound_id(patient_id, "qr" + uuid.uuid4().hex[:16]),
        "meta": {"versionId": "1", "lastUpdated": instant(now), **_meta(data.get("meta"))},
    }
    identifier = _identifier(data.get("identifier"))
    if identifier is not None:
        resource["identifier"] = identifier
    patient = {"reference": f"Patient/{patient_id}"}
    resource |= {
        "questionnaire": canonical,
        "status": "completed",
        "subject": patient,
        "authored": instant(authored),
        "author": patient,
        "source": patient,
        "item": _items(form.resource, data.get("item")),
    }
    return indexed_response(resource)


def _task_fail(element: str, why: str, code: str = "invariant") -> FhirError:
    return FhirError(422, code, f"Task.{element} {why}")


@updater("Task")
def complete_task(
    repo: Repository, current: Indexed, data: dict[str, Any], now: dt.datetime
) -> Indexed:
    """A questionnaire task may only be completed, pointing at its response."""
    old = current.resource
    codes = [c.get("code") for c in old.get("code", {}).get("coding", ())]
    if "complete-questionnaire" not in codes:
        raise FhirError(405, "not-supported", "Only questionnaire tasks can be updated")
    for element in sorted(set(old) | set(data)):
        if element in ("meta", "status", "output", "lastModified"):
            continue
        if old.get(element) != data.get(element):
            raise _task_fail(safe_name(element), "cannot be changed")
    if old.get("status") != "requested" or data.get("status") != "completed":
        raise _task_fail("status", "may only go from requested to completed")
    outputs = data.get("output")
    reference = None
    if isinstance(outputs, list) and len(outputs) == 1 and isinstance(outputs[0], dict):
        reference = (outputs[0].get("valueReference") or {}).get("reference")
    found = repo.find(reference) if isinstance(reference, str) else None
    if (
        found is None
        or found.type != "QuestionnaireResponse"
        or patient_of(found.id) != patient_of(current.id)
    ):
        raise _task_fail("output", "must be one QuestionnaireResponse of the patient", "value")
    resource = {**old, "status": "completed", "lastModified": instant(now)}
    resource["output"] = [output(found.id)]
    tokens = {**current.tokens, "status": ((TASK_STATUS, "completed"),)}
    return Indexed(resource, current.dates, tokens, current.refs)
