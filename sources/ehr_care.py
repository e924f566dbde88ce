"""Follow-up programmes (`CarePlan`) and measurements (vital-sign `Observation`s) from
the EHR (pregnancy care is in `ehr_pregnancy`).

Measurements: LOINC-coded, UCUM quantities; blood pressure is the panel 85354-9 with
systolic 8480-6 and diastolic 8462-4 components. Reported by the patient when
`meta.tag` carries `.../CodeSystem/origin|patient-reported` (or a Patient performs
it); confirmed once `final` (patient-reported values stay `preliminary` until a
clinician confirms them). The pregnancy episode carries the estimated due date as
`.../StructureDefinition/estimated-due-date`; its observations point to it with the
core extension `workflow-episodeOfCare`, its checks (Appointments) with
`supportingInformation`, its documents with `context.encounter`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from authz.facts import Security
from sources import fhir
from sources.fhir import query

if TYPE_CHECKING:
    from sources.ehr import EhrClient

PROFILE = "https://fhir.helsegraf.dev/"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ORIGIN_SYSTEM = PROFILE + "CodeSystem/origin"
PATIENT_REPORTED = "patient-reported"
EPISODE_URL = "http://hl7.org/fhir/StructureDefinition/workflow-episodeOfCare"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
SYSTOLIC, DIASTOLIC = "8480-6", "8462-4"
# kind -> (LOINC code, display, UCUM unit)
KINDS: dict[str, tuple[str, str, str]] = {
    "blood-pressure": ("85354-9", "Blood pressure panel", "mm[Hg]"),
    "pulse": ("8867-4", "Heart rate", "/min"),
    "weight": ("29463-7", "Body weight", "kg"),
    "glucose": ("15074-8", "Glucose [Moles/volume] in Blood", "mmol/L"),
    "spo2": ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%"),
    "temperature": ("8310-5", "Body temperature", "Cel"),
    "fundal-height": ("11881-0", "Uterus Fundal height by tape measure", "cm"),
}
BY_CODE = {code: kind for kind, (code, _, _) in KINDS.items()}


@dataclass(frozen=True, slots=True)
class Measurement:
    """One measurement."""

    id: str
    kind: str  # a key of KINDS
    value: float | None
    systolic: float | None
    diastolic: float | None
    unit: str
    at: dt.datetime | None
    reported_by_patient: bool
    confirmed: bool
    programme_id: str | None
    episode_id: str | None
    security: Security


@dataclass(frozen=True, slots=True)
class Activity:
    """What a programme asks the patient to measure, and how often."""

    kind: str | None
    text: str
    frequency: int | None
    period: float | None
    period_unit: str | None  # UCUM-ish: h d wk mo


@dataclass(frozen=True, slots=True)
class Programme:
    """A follow-up programme."""

    id: str
    title: str
    status: str
    start: dt.date | None
    end: dt.date | None
    contact: str | None
    activities: tuple[Activity, ...]
    security: Security


def _codes(concept: Any) -> list[str]:
    codings = concept.get("coding", ()) if isinstance(concept, dict) else ()
    return [str(c.get("code")) for c in codings if c.get("system") == LOINC]


def _number(quantity: Any) -> float | None:
    value = quantity.get("value") if isinstance(quantity, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def measurement(resource: fhir.Json) -> Measurement | None:
    """A vital-sign Observation as a measurement; None for codes the graph does not know."""
    kind = next((BY_CODE[c] for c in _codes(resource.get("code")) if c in BY_CODE), None)
    if kind is None:
        return None
    parts = {
        c: _number(p.get("valueQuantity"))
        for p in resource.get("component", ())
        for c in _codes(p.get("code"))
    }
    quantity = resource.get("valueQuantity") or {}
    tags = (resource.get("meta") or {}).get("tag") or ()
    reported = any(
        t.get("system") == ORIGIN_SYSTEM and t.get("code") == PATIENT_REPORTED for t in tags
    )
    episode = next(
        (
            fhir.ref_id(e.get("valueReference"), "EpisodeOfCare")
            for e in resource.get("extension", ())
            if e.get("url") == EPISODE_URL
        ),
        None,
    )
    plans = [fhir.ref_id(b, "CarePlan") for b in resource.get("basedOn", ())]
    return Measurement(
        id=str(resource["id"]),
        kind=kind,
        value=_number(quantity),
        systolic=parts.get(SYSTOLIC),
        diastolic=parts.get(DIASTOLIC),
        unit=str(quantity.get("unit") or KINDS[kind][2]),
        at=fhir.when(resource.get("effectiveDateTime")),
        reported_by_patient=reported
        or any(fhir.ref_id(p, "Patient") for p in resource.get("performer", ())),
        confirmed=resource.get("status") in ("final", "amended", "corrected"),
        programme_id=next((p for p in plans if p), None),
        episode_id=episode,
        security=fhir.security(resource),
    )


def programme(resource: fhir.Json) -> Programme:
    """A CarePlan as a follow-up programme."""
    activities = []
    for activity in resource.get("activity", ()):
        detail = activity.get("detail") or {}
        repeat = (detail.get("scheduledTiming") or {}).get("repeat") or {}
        codes = _codes(detail.get("code"))
        activities.append(
            Activity(
                kind=next((BY_CODE[c] for c in codes if c in BY_CODE), None),
                text=str(detail.get("description") or ""),
                frequency=repeat.get("frequency"),
                period=repeat.get("period"),
                period_unit=repeat.get("periodUnit"),
            )
        )
    period = resource.get("period") or {}
    return Programme(
        id=str(resource["id"]),
        title=str(resource.get("title") or resource.get("description") or ""),
        status=str(resource.get("status", "unknown")),
        start=fhir.day(period.get("start")),
        end=fhir.day(period.get("end")),
        contact=(resource.get("author") or {}).get("display"),
        activities=tuple(activities),
        security=fhir.security(resource),
    )


class EhrCare:
    """Follow-up programmes and measurements in the EHR."""

    def __init__(self, ehr: EhrClient) -> None:
        self._ehr = ehr

    async def programmes(self, patient_id: str) -> list[Programme]:
        """The patient's follow-up programmes."""
        bundle = await self._ehr.search(query("CarePlan", patient=patient_id, _count="100"))
        return [programme(r) for r in self._ehr.own(bundle, patient_id)]

    async def measurements(self, patient_id: str) -> list[Measurement]:
        """The patient's vital-sign measurements, newest first."""
        bundle = await self._ehr.search(
            query(
                "Observation",
                patient=patient_id,
                category="vital-signs",
                _sort="-date",
                _count="200",
            )
        )
        found = (measurement(r) for r in self._ehr.own(bundle, patient_id))
        return [m for m in found if m is not None]

    async def submit(
        self,
        patient_id: str,
        kind: str,
        values: tuple[float, ...],
        at: dt.datetime,
        programme_id: str | None,
        *,
        idempotency: str,
    ) -> Measurement:
        """Store a patient-reported measurement (preliminary, tagged patient-reported)."""
        code, display, unit = KINDS[kind]
        patient = {"reference": f"Patient/{patient_id}"}
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "meta": {"tag": [{"system": ORIGIN_SYSTEM, "code": PATIENT_REPORTED}]},
            "status": "preliminary",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
            "subject": patient,
            "effectiveDateTime": at.isoformat(timespec="seconds"),
            "performer": [patient],
        }
        if programme_id:
            resource["basedOn"] = [{"reference": f"CarePlan/{programme_id}"}]

        def quantity(value: float) -> dict[str, Any]:
            return {"value": value, "unit": unit, "system": UCUM, "code": unit}

        if kind == "blood-pressure":
            resource["component"] = [
                {"code": {"coding": [{"system": LOINC, "code": c}]}, "valueQuantity": quantity(v)}
                for c, v in zip((SYSTOLIC, DIASTOLIC), values, strict=True)
            ]
        else:
            resource["valueQuantity"] = quantity(values[0])
        created = await self._ehr.create(resource, patient_id, idempotency=idempotency)
        parsed = measurement(created)
        if parsed is None:
            from sources.errors import UpstreamBadResponse

            raise UpstreamBadResponse("EHR", "create Observation", "not a measurement")
        return parsed
