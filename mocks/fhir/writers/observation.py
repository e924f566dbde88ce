"""Writing home measurements: `POST /Observation` for a patient-reported vital sign.

Accepted: status `preliminary` (a clinician confirms it later), category `vital-signs`,
a LOINC `code` of a home measurement (blood pressure panel, heart rate, body weight,
blood glucose, oxygen saturation, body temperature), the Patient as `subject` and as the
only `performer`, `meta.tag` patient-reported, `effectiveDateTime` with a timezone and
not in the future, a UCUM `valueQuantity` in the kind's unit (blood pressure: systolic
and diastolic `component`s instead), an optional `basedOn` CarePlan of the same patient.
A failure is a 422 OperationOutcome naming the element, never echoing a value.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from mocks.fhir.careplans import (
    DIASTOLIC,
    LOINC,
    OBSERVATION_CATEGORY,
    SYSTOLIC,
    UCUM,
    VITALS,
    indexed_vital,
    quantity,
)
from mocks.fhir.model import Indexed, Resource, compound_id, instant, patient_of
from mocks.fhir.outcome import FhirError, safe_name
from mocks.fhir.questionnaires import ORIGIN_SYSTEM, PATIENT_REPORTED, origin_tag
from mocks.fhir.repository import Repository
from mocks.fhir.writes import creator

ALLOWED = frozenset(
    {
        "resourceType",
        "meta",
        "identifier",
        "basedOn",
        "status",
        "category",
        "code",
        "subject",
        "effectiveDateTime",
        "performer",
        "valueQuantity",
        "component",
    }
)
HOME_KINDS = {v[0]: k for k, v in VITALS.items() if v[3] == "vital-signs"}


def _fail(element: str, why: str, code: str = "invalid") -> FhirError:
    return FhirError(422, code, f"Observation.{element} {why}")


def _quantity(value: Any, unit: str, element: str) -> Resource:
    if (
        not isinstance(value, dict)
        or not set(value) <= {"value", "unit", "system", "code"}
        or value.get("system") != UCUM
        or value.get("code") != unit
    ):
        raise _fail(element, f"must be a UCUM quantity in {unit}", "value")
    number = value.get("value")
    if isinstance(number, bool) or not isinstance(number, int | float) or not 0 < number < 1000:
        raise _fail(f"{element}.value", "must be a positive number below 1000", "value")
    return quantity(number, unit)


def _coded(value: Any) -> set[tuple[Any, Any]]:
    codings = value.get("coding") if isinstance(value, dict) else None
    if not isinstance(codings, list):
        return set()
    return {(c.get("system"), c.get("code")) for c in codings if isinstance(c, dict)}


@creator("Observation")
def create_observation(repo: Repository, data: dict[str, Any], now: dt.datetime) -> Indexed:
    """Check a patient-reported measurement and build it."""
    unknown = sorted(set(data) - ALLOWED)
    if unknown:
        raise _fail(safe_name(unknown[0]), "is not an element this server accepts", "structure")
    if data.get("status") != "preliminary":
        raise _fail("status", "must be preliminary for a patient-reported value", "required")
    categories = data.get("category")
    if not isinstance(categories, list) or not any(
        (OBSERVATION_CATEGORY, "vital-signs") in _coded(c) for c in categories
    ):
        raise _fail("category", "must include vital-signs", "required")
    kinds = [HOME_KINDS[c] for s, c in _coded(data.get("code")) if s == LOINC and c in HOME_KINDS]
    if len(kinds) != 1:
        raise _fail("code", "must be one LOINC code of a home measurement", "code-invalid")
    kind = kinds[0]
    found_subject = (data.get("subject") or {}).get("reference")
    subject = found_subject if isinstance(found_subject, str) else ""
    patient_id = subject.removeprefix("Patient/")
    if not subject.startswith("Patient/") or repo.store.population.by_fhir_id(patient_id) is None:
        raise _fail("subject", "must reference a known Patient", "not-found")
    if data.get("performer") != [{"reference": subject}]:
        raise _fail("performer", "must be the subject alone", "value")
    tags = (data.get("meta") or {}).get("tag") or []
    if (
        not isinstance(data.get("meta"), dict)
        or set(data["meta"]) != {"tag"}
        or [(t.get("system"), t.get("code")) for t in tags if isinstance(t, dict)]
        != [(ORIGIN_SYSTEM, PATIENT_REPORTED)]
    ):
        raise _fail("meta.tag", "must mark the value as reported by the patient", "required")
    try:
        at = dt.datetime.fromisoformat(str(data.get("effectiveDateTime")))
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise _fail("effectiveDateTime", "must be a dateTime with a timezone", "required")
    if at > now + dt.timedelta(minutes=5):
        raise _fail("effectiveDateTime", "must not be in the future", "value")
    code, display, unit, _ = VITALS[kind]
    resource: Resource = {
        "resourceType": "Observation",
        "id": compound_id(patient_id, "vs" + uuid.uuid4().hex[:16]),
        "meta": {"versionId": "1", "lastUpdated": instant(now), "tag": [origin_tag()]},
    }
    identifiers = data.get("identifier", [])
    if not isinstance(identifiers, list) or not all(
        isinstance(i, dict) and set(i) == {"system", "value"} for i in identifiers
    ):
        raise _fail("identifier", "must be a list of identifiers with system and value")
    if identifiers:
        resource["identifier"] = [dict(i) for i in identifiers]
    if "basedOn" in data:
        plans = data["basedOn"]
        target = plans[0].get("reference") if isinstance(plans, list) and len(plans) == 1 else None
        found = repo.find(target) if isinstance(target, str) else None
        if found is None or found.type != "CarePlan" or patient_of(found.id) != patient_id:
            raise _fail("basedOn", "must be one CarePlan of the subject", "value")
        resource["basedOn"] = [{"reference": target}]
    resource |= {
        "status": "preliminary",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        "subject": {"reference": subject},
        "effectiveDateTime": instant(at),
        "performer": [{"reference": subject}],
    }
    if kind == "blood-pressure":
        parts = data.get("component")
        if not isinstance(parts, list) or len(parts) != 2 or "valueQuantity" in data:
            raise _fail("component", "must hold systolic and diastolic", "required")
        out = []
        for n, (part, (c, d)) in enumerate(zip(parts, (SYSTOLIC, DIASTOLIC), strict=True)):
            if not isinstance(part, dict) or (LOINC, c) not in _coded(part.get("code")):
                raise _fail(f"component[{n}].code", f"must be LOINC {c}", "code-invalid")
            value = _quantity(part.get("valueQuantity"), unit, f"component[{n}].valueQuantity")
            out.append(
                {
                    "code": {"coding": [{"system": LOINC, "code": c, "display": d}]},
                    "valueQuantity": value,
                }
            )
        resource["component"] = out
    else:
        if "component" in data:
            raise _fail("component", "is only for blood pressure", "structure")
        resource["valueQuantity"] = _quantity(data.get("valueQuantity"), unit, "valueQuantity")
    return indexed_vital(resource)
