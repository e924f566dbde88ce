"""Writing `Task`: `POST /Task` files a patient's request for access to their journal.

Only journal requests are accepted (see `mocks/fhir/journal_requests.py`): status
`requested`, intent `order`, a `code` from the journal-request code system, `for` a
known Patient, `requester` that same Patient (optional), an optional journal `period`
input and an optional `note` (the patient's message). The body is checked element by
element; a failure is a 422 OperationOutcome naming the element, never echoing a value.
Accepted requests get the id `{Patient id}-tk{16 hex}`, version 1 and `authoredOn`
now. Tasks cannot be updated through the API (the record staff handle them).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from mocks.fhir.journal_requests import INPUT_SYSTEM, KIND_SYSTEM, KINDS, indexed, kind_concept
from mocks.fhir.model import Indexed, Resource, compound_id, instant
from mocks.fhir.outcome import FhirError, safe_name
from mocks.fhir.repository import Repository
from mocks.fhir.writes import creator

ALLOWED = frozenset(
    {
        "resourceType",
        "identifier",
        "status",
        "intent",
        "code",
        "for",
        "requester",
        "input",
        "note",
    }
)
MAX_NOTE = 2000


def _fail(element: str, why: str, code: str = "invalid") -> FhirError:
    return FhirError(422, code, f"Task.{element} {why}")


def _text(value: Any, limit: int = MAX_NOTE) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= limit


def _patient(value: Any, element: str) -> str:
    if not isinstance(value, dict) or set(value) - {"reference", "display"}:
        raise _fail(element, "must be a reference", "structure")
    reference = value.get("reference")
    if not isinstance(reference, str) or not reference.startswith("Patient/"):
        raise _fail(element, "must be a reference to Patient", "value")
    return reference.removeprefix("Patient/")


def _date(value: Any, element: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else dt.date.min
    except ValueError:
        raise _fail(element, "must be a date") from None


def _period(data: dict[str, Any]) -> list[Resource]:
    items = data.get("input", [])
    if not isinstance(items, list) or len(items) > 1:
        raise _fail("input", "must be a list of at most one period", "structure")
    out = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("type"), dict):
            raise _fail("input[0].type", "must be the journal-request-input code period")
        codings = item["type"].get("coding")
        coding = codings[0] if isinstance(codings, list) and codings else {}
        if not isinstance(coding, dict) or (coding.get("system"), coding.get("code")) != (
            INPUT_SYSTEM,
            "period",
        ):
            raise _fail("input[0].type", "must be the journal-request-input code period")
        period = item.get("valuePeriod")
        if not isinstance(period, dict) or not period or set(period) - {"start", "end"}:
            raise _fail("input[0].valuePeriod", "must be a period with start and/or end")
        bounds = {k: _date(v, f"input[0].valuePeriod.{k}") for k, v in period.items()}
        if "start" in bounds and "end" in bounds and bounds["start"] > bounds["end"]:
            raise _fail("input[0].valuePeriod", "must not end before it starts")
        out.append(
            {
                "type": {"coding": [{"system": INPUT_SYSTEM, "code": "period"}]},
                "valuePeriod": {k: v.isoformat() for k, v in bounds.items()},
            }
        )
    return out


@creator("Task")
def create_task(repo: Repository, data: dict[str, Any], now: dt.datetime) -> Indexed:
    """Check a new journal request and build it (stored by `writes.create`)."""
    unknown = sorted(set(data) - ALLOWED)
    if unknown:
        raise _fail(safe_name(unknown[0]), "is not an element this server accepts", "structure")
    if data.get("status") != "requested":
        raise _fail("status", "must be requested", "required")
    if data.get("intent") != "order":
        raise _fail("intent", "must be order", "required")
    codings = (data.get("code") or {}).get("coding") if isinstance(data.get("code"), dict) else None
    first = codings[0] if isinstance(codings, list) and codings else {}
    first = first if isinstance(first, dict) else {}
    kind = first.get("code")
    if first.get("system") != KIND_SYSTEM or not isinstance(kind, str) or kind not in KINDS:
        raise _fail("code", "must be a journal-request code (copy, access, correction)")
    patient_id = _patient(data.get("for"), "for")
    if repo.store.population.by_fhir_id(patient_id) is None:
        raise _fail("for", "does not reference a known Patient", "not-found")
    if "requester" in data and _patient(data["requester"], "requester") != patient_id:
        raise _fail("requester", "must be the Patient the request is for")
    identifiers = data.get("identifier", [])
    if not isinstance(identifiers, list) or not all(
        isinstance(i, dict) and set(i) == {"system", "value"} and _text(i["value"], 200)
        for i in identifiers
    ):
        raise _fail("identifier", "must be a list of system and value")
    notes = data.get("note", [])
    if not isinstance(notes, list) or len(notes) > 1:
        raise _fail("note", "must be a list of at most one note", "structure")
    for note in notes:
        if not isinstance(note, dict) or set(note) != {"text"} or not _text(note["text"]):
            raise _fail("note[0].text", f"must be text of 1 to {MAX_NOTE} characters")
    resource: Resource = {
        "resourceType": "Task",
        "id": compound_id(patient_id, "tk" + uuid.uuid4().hex[:16]),
        "meta": {"versionId": "1", "lastUpdated": instant(now)},
        "identifier": [dict(i) for i in identifiers],
        "status": "requested",
        "intent": "order",
        "code": kind_concept(kind),
        "for": {"reference": f"Patient/{patient_id}"},
        "requester": {"reference": f"Patient/{patient_id}"},
        "authoredOn": instant(now),
        "lastModified": instant(now),
    }
    if not resource["identifier"]:
        del resource["identifier"]
    periods = _period(data)
    if periods:
        resource["input"] = periods
    if notes:
        resource["note"] = [{"text": notes[0]["text"], "time": instant(now)}]
    return indexed(resource)
