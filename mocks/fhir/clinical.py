"""Observation, DiagnosticReport and MedicationStatement resources.

Lab results become laboratory Observations (LOINC codes, UCUM quantities, reference
range, H/L/N interpretation) with the release category as the extension
`https://fhir.helsegraf.dev/StructureDefinition/release-category` (valueInteger), and
when set `.../reviewed` (clinician review) and `.../released` (manual release), both
valueDateTime; labels go in `meta.security` (see `labels.py`), a report carrying the
most restrictive labels of its results;
each report id becomes a DiagnosticReport whose `result` lists its Observations.
Medicines the EHR lists (`ehr_id` set) become MedicationStatements coded in ATC; one
whose prescription is reserved from guardians is labelled `kept-from-guardians`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from mocks.fhir.labels import combined, labelled
from mocks.fhir.model import (
    RELEASE_CATEGORY_URL,
    RELEASED_URL,
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
from mocks.population import OSLO, Person
from mocks.records import PLAIN, Labels, LabResult, MedicationUse

KEPT = Labels(kept_from_guardians=True)

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ATC = "http://www.whocc.no/atc"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
DIAGNOSTIC_SERVICE = "http://terminology.hl7.org/CodeSystem/v2-0074"
OBSERVATION_STATUS = "http://hl7.org/fhir/observation-status"
REPORT_STATUS = "http://hl7.org/fhir/diagnostic-report-status"
MEDICATION_STATUS = "http://hl7.org/fhir/CodeSystem/medication-statement-status"
UCUM_CODES = {"mIU/L": "m[IU]/L"}  # where the display unit is not itself UCUM
LAB_REPORT = (LOINC, "11502-2", "Laboratory report")
_INTERPRETATIONS = {"H": "High", "L": "Low", "N": "Normal"}


def issued_at(lab: LabResult) -> dt.datetime:
    """When a result was released from the laboratory."""
    return lab.taken_at + dt.timedelta(hours=6)


def _lab_extensions(lab: LabResult) -> list[Resource]:
    out: list[Resource] = [{"url": RELEASE_CATEGORY_URL, "valueInteger": lab.release_category}]
    if lab.reviewed_at is not None:
        out.append({"url": REVIEWED_URL, "valueDateTime": instant(lab.reviewed_at)})
    if lab.released_at is not None:
        out.append({"url": RELEASED_URL, "valueDateTime": instant(lab.released_at)})
    return out


def _quantity(value: float, unit: str) -> Resource:
    return {"value": value, "unit": unit, "system": UCUM, "code": UCUM_CODES.get(unit, unit)}


def observation(lab: LabResult, person: Person) -> Indexed:
    """One lab result as a laboratory Observation."""
    flag = "H" if lab.value > lab.high else "L" if lab.value < lab.low else "N"
    resource: Resource = {
        "resourceType": "Observation",
        "id": compound_id(person.fhir_id, lab.id),
        "meta": labelled(meta(issued_at(lab)), lab.security),
        "extension": _lab_extensions(lab),
        "identifier": [record_identifier(lab.id)],
        "status": "final",
        "category": [
            {
                "coding": [
                    {"system": OBSERVATION_CATEGORY, "code": "laboratory", "display": "Laboratory"}
                ]
            }
        ],
        "code": {
            "coding": [{"system": LOINC, "code": lab.code, "display": lab.display}],
            "text": lab.display,
        },
        "subject": ref("Patient", person.fhir_id),
        "effectiveDateTime": instant(lab.taken_at),
        "issued": instant(issued_at(lab)),
        "valueQuantity": _quantity(lab.value, lab.unit),
        "interpretation": [
            {
                "coding": [
                    {"system": INTERPRETATION, "code": flag, "display": _INTERPRETATIONS[flag]}
                ]
            }
        ],
        "referenceRange": [
            {"low": _quantity(lab.low, lab.unit), "high": _quantity(lab.high, lab.unit)}
        ],
    }
    patient_ref = f"Patient/{person.fhir_id}"
    return Indexed(
        resource,
        dates={"date": Span.instant(lab.taken_at)},
        tokens={
            "status": ((OBSERVATION_STATUS, "final"),),
            "category": ((OBSERVATION_CATEGORY, "laboratory"),),
            "code": ((LOINC, lab.code),),
        },
        refs={"patient": (patient_ref,), "subject": (patient_ref,)},
    )


def diagnostic_reports(labs: Iterable[LabResult], person: Person) -> Iterator[Indexed]:
    """One DiagnosticReport per report id, in the order reports first appear."""
    reports: dict[str, list[LabResult]] = {}
    for lab in labs:
        reports.setdefault(lab.report_id, []).append(lab)
    for report_id, members in reports.items():
        first = members[0]
        results = [compound_id(person.fhir_id, lab.id) for lab in members]
        system, code, display = LAB_REPORT
        resource: Resource = {
            "resourceType": "DiagnosticReport",
            "id": compound_id(person.fhir_id, report_id),
            "meta": labelled(meta(issued_at(first)), combined(lab.security for lab in members)),
            "identifier": [record_identifier(report_id)],
            "status": "final",
            "category": [
                {"coding": [{"system": DIAGNOSTIC_SERVICE, "code": "LAB", "display": "Laboratory"}]}
            ],
            "code": {
                "coding": [{"system": system, "code": code, "display": display}],
                "text": "Laboratoriesvar",
            },
            "subject": ref("Patient", person.fhir_id),
            "effectiveDateTime": instant(first.taken_at),
            "issued": instant(issued_at(first)),
            "result": [
                ref("Observation", id_, lab.display)
                for id_, lab in zip(results, members, strict=True)
            ],
        }
        patient_ref = f"Patient/{person.fhir_id}"
        yield Indexed(
            resource,
            dates={"date": Span.instant(first.taken_at)},
            tokens={
                "status": ((REPORT_STATUS, "final"),),
                "category": ((DIAGNOSTIC_SERVICE, "LAB"),),
                "code": ((system, code),),
            },
            refs={
                "patient": (patient_ref,),
                "subject": (patient_ref,),
                "result": tuple(f"Observation/{id_}" for id_ in results),
            },
        )


def medication_statement(use: MedicationUse, person: Person) -> Indexed | None:
    """A medicine the EHR lists as a MedicationStatement; None when only e-prescribed."""
    if use.ehr_id is None:
        return None
    asserted = dt.datetime(use.started.year, use.started.month, use.started.day, 10, tzinfo=OSLO)
    resource: Resource = {
        "resourceType": "MedicationStatement",
        "id": compound_id(person.fhir_id, use.ehr_id),
        "meta": labelled(meta(asserted), KEPT if use.reserved_from_guardians else PLAIN),
        "identifier": [record_identifier(use.ehr_id)],
        "status": "active",
        "medicationCodeableConcept": {
            "coding": [{"system": ATC, "code": use.atc, "display": use.name}],
            "text": use.name,
        },
        "subject": ref("Patient", person.fhir_id),
        "effectivePeriod": {"start": use.started.isoformat()},
        "dateAsserted": instant(asserted),
        "dosage": [{"text": use.dosage, "sequence": 1}],
        "note": [{"text": f"Legemiddelform: {use.form}"}],
    }
    patient_ref = f"Patient/{person.fhir_id}"
    return Indexed(
        resource,
        dates={"effective": Span.day(use.started, open_ended=True)},
        tokens={"status": ((MEDICATION_STATUS, "active"),), "code": ((ATC, use.atc),)},
        refs={"patient": (patient_ref,), "subject": (patient_ref,)},
    )
