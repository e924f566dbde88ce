"""Writing `MedicationStatement`: a patient adds a medicine, or comments on one.

`POST /MedicationStatement` takes a medicine the patient reports using: status
`active`, `medicationCodeableConcept` (text, optionally an ATC coding), `subject` and
`informationSource` the same known Patient (this server takes patient reports only),
optional `effectivePeriod.start`, one `dosage` text and one `reasonCode` text. The
server marks it reported by the patient (`meta.tag` `.../CodeSystem/medication-origin`
`patient-reported`) and not yet confirmed by a clinician (extension
`.../StructureDefinition/clinician-confirmation`, valueCode `unconfirmed`), and stores it
as `{Patient id}-ms{16 hex}`.

`PUT /MedicationStatement/{id}` (with If-Match) may only append `note`s written by the
statement's Patient (`authorReference`), each with text and optionally extensions (the
server stamps `time`); everything else must be sent back unchanged.
A failure is a 422 OperationOutcome naming the element, never echoing a value.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from mocks.fhir.clinical import ATC, MEDICATION_STATUS
from mocks.fhir.model import PROFILE_BASE, Indexed, Resource, Span, compound_id, instant
from mocks.fhir.outcome import FhirError, safe_name
from mocks.fhir.repository import Repository
from mocks.fhir.writes import creator, updater

ORIGIN_SYSTEM = PROFILE_BASE + "CodeSystem/medication-origin"
CONFIRMATION_URL = PROFILE_BASE + "StructureDefinition/clinician-confirmation"
ALLOWED = frozenset(
    {
        "resourceType",
        "meta",
        "identifier",
        "status",
        "medicationCodeableConcept",
        "subject",
        "informationSource",
        "effectivePeriod",
        "dosage",
        "reasonCode",
    }
)
MAX_TEXT = 2000
ATC_CODE = re.compile(r"[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}")


def _fail(element: str, why: str, code: str = "invalid") -> FhirError:
    return FhirError(422, code, f"MedicationStatement.{element} {why}")


def _text(value: Any, limit: int = MAX_TEXT) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= limit


def _patient(value: Any, element: str) -> str:
    if not isinstance(value, dict) or set(value) - {"reference", "display"}:
        raise _fail(element, "must be a reference", "structure")
    reference = value.get("reference")
    if not isinstance(reference, str) or not reference.startswith("Patient/"):
        raise _fail(element, "must be a reference to Patient", "value")
    return reference.removeprefix("Patient/")


def _one_text(data: dict[str, Any], element: str) -> list[Resource]:
    items = data.get(element, [])
    if not isinstance(items, list) or len(items) > 1:
        raise _fail(element, "must be a list of at most one item", "structure")
    for item in items:
        if not isinstance(item, dict) or set(item) != {"text"} or not _text(item["text"], 500):
            raise _fail(f"{element}[0].text", "must be text of 1 to 500 characters")
    return [{"text": item["text"]} for item in items]


def _medicine(value: Any) -> Resource:
    if not isinstance(value, dict) or set(value) - {"text", "coding"}:
        raise _fail("medicationCodeableConcept", "must have text and codings only", "structure")
    if not _text(value.get("text"), 200):
        raise _fail("medicationCodeableConcept.text", "must be text of 1 to 200 characters")
    out: Resource = {"text": value["text"]}
    codings = value.get("coding", [])
    if not isinstance(codings, list) or not all(
        isinstance(c, dict)
        and c.get("system") == ATC
        and isinstance(c.get("code"), str)
        and ATC_CODE.fullmatch(c["code"])
        and set(c) <= {"system", "code", "display"}
        for c in codings
    ):
        raise _fail("medicationCodeableConcept.coding", "must be ATC codings")
    if codings:
        out["coding"] = [dict(c) for c in codings]
    return out


@creator("MedicationStatement")
def create_statement(repo: Repository, data: dict[str, Any], now: dt.datetime) -> Indexed:
    """Check a patient-reported medicine and build it (stored by `writes.create`)."""
    unknown = sorted(set(data) - ALLOWED)
    if unknown:
        raise _fail(safe_name(unknown[0]), "is not an element this server accepts", "structure")
    if data.get("status") != "active":
        raise _fail("status", "must be active", "required")
    medicine = _medicine(data.get("medicationCodeableConcept"))
    patient_id = _patient(data.get("subject"), "subject")
    if repo.store.population.by_fhir_id(patient_id) is None:
        raise _fail("subject", "does not reference a known Patient", "not-found")
    if _patient(data.get("informationSource"), "informationSource") != patient_id:
        raise _fail("informationSource", "must be the subject (patient reports only)")
    meta = data.get("meta", {})
    if not isinstance(meta, dict) or set(meta) - {"tag"}:
        raise _fail("meta", "may carry tags only", "structure")
    identifiers = data.get("identifier", [])
    if not isinstance(identifiers, list) or not all(
        isinstance(i, dict) and set(i) == {"system", "value"} and _text(i["value"], 200)
        for i in identifiers
    ):
        raise _fail("identifier", "must be a list of system and value")
    start = None
    if "effectivePeriod" in data:
        period = data["effectivePeriod"]
        if not isinstance(period, dict) or set(period) != {"start"}:
            raise _fail("effectivePeriod", "must have a start only", "structure")
        try:
            start = dt.date.fromisoformat(period["start"]) if len(period["start"]) == 10 else None
        except (TypeError, ValueError):
            start = None
        if start is None or start > now.date():
            raise _fail("effectivePeriod.start", "must be a date, not in the future")
    patient_ref = f"Patient/{patient_id}"
    resource: Resource = {
        "resourceType": "MedicationStatement",
        "id": compound_id(patient_id, "ms" + uuid.uuid4().hex[:16]),
        "meta": {
            "versionId": "1",
            "lastUpdated": instant(now),
            "tag": [{"system": ORIGIN_SYSTEM, "code": "patient-reported"}],
        },
        "extension": [{"url": CONFIRMATION_URL, "valueCode": "unconfirmed"}],
        "identifier": [dict(i) for i in identifiers],
        "status": "active",
        "medicationCodeableConcept": medicine,
        "subject": {"reference": patient_ref},
        "dateAsserted": instant(now),
        "informationSource": {"reference": patient_ref},
    }
    if not identifiers:
        del resource["identifier"]
    if start is not None:
        resource["effectivePeriod"] = {"start": start.isoformat()}
    for element in ("dosage", "reasonCode"):
        items = _one_text(data, element)
        if items:
            resource[element] = items
    span = Span.day(start or now.date(), open_ended=True)
    codes = tuple((ATC, c["code"]) for c in medicine.get("coding", []))
    return Indexed(
        resource,
        dates={"effective": span},
        tokens={"status": ((MEDICATION_STATUS, "active"),), "code": codes},
        refs={"patient": (patient_ref,), "subject": (patient_ref,)},
    )


@updater("MedicationStatement")
def update_statement(
    repo: Repository, current: Indexed, data: dict[str, Any], now: dt.datetime
) -> Indexed:
    """Append the patient's notes; nothing else may change."""
    old = current.resource
    for element in sorted(set(old) | set(data)):
        if element in ("meta", "note"):
            continue
        if old.get(element) != data.get(element):
            raise _fail(
                safe_name(element), "cannot be changed; only notes can be added", "invariant"
            )
    before = old.get("note", [])
    notes = data.get("note", [])
    if not isinstance(notes, list) or notes[: len(before)] != before:
        raise _fail("note", "may only be appended to", "invariant")
    added = notes[len(before) :]
    if not added or len(added) > 5:
        raise _fail("note", "must gain one to five notes", "invariant")
    author = old["subject"]["reference"]
    checked = []
    for n, note in enumerate(added, start=len(before)):
        if not isinstance(note, dict) or set(note) - {
            "text",
            "time",
            "authorReference",
            "extension",
        }:
            raise _fail(
                f"note[{n}]", "must have text, time, authorReference, extension", "structure"
            )
        if not _text(note.get("text")):
            raise _fail(f"note[{n}].text", f"must be text of 1 to {MAX_TEXT} characters")
        if note.get("authorReference") != {"reference": author}:
            raise _fail(f"note[{n}].authorReference", "must be the statement's Patient")
        extensions = note.get("extension", [])
        if not isinstance(extensions, list) or not all(
            isinstance(e, dict)
            and set(e) == {"url", "valueString"}
            and _text(e["valueString"], 200)
            for e in extensions
        ):
            raise _fail(f"note[{n}].extension", "must be a list of url and valueString")
        checked.append({**note, "time": instant(now)})
    resource = {**old, "note": [*before, *checked]}
    return Indexed(resource, current.dates, current.tokens, current.refs)
