"""The EHR's medication list (MedicationStatement): clinician-recorded and patient-reported
medicines, with the patient's comments; adding a medicine and commenting on one.

A patient-reported statement carries the `meta.tag` medication-origin
`patient-reported` and stays unconfirmed until a clinician confirms it (extension
clinician-confirmation). Comments are `note`s authored by the Patient; a write carries
the idempotency key on the note (extension), so a retried comment is written once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sources import fhir
from sources.errors import UpstreamConflict
from sources.fhir import ATC_SYSTEM, EXT, query, security
from sources.models import EHR, MedicationEntry

if TYPE_CHECKING:
    from sources.ehr import EhrClient

ORIGIN_SYSTEM = "https://fhir.helsegraf.dev/CodeSystem/medication-origin"
CONFIRMATION_URL = EXT + "clinician-confirmation"
COMMENT_KEY_URL = EXT + "comment-idempotency-key"
FORM_PREFIX = "Legemiddelform: "


@dataclass(frozen=True, slots=True)
class Comment:
    """A note on a medicine: by the patient (or someone acting for them) or a clinician."""

    text: str
    at: dt.datetime | None
    by_patient: bool


@dataclass(frozen=True, slots=True)
class EhrMedicationEntry(MedicationEntry):
    """A medicine as the EHR lists it, with who recorded it and the comments on it."""

    reported_by_patient: bool = False
    confirmed: bool = True
    comments: tuple[Comment, ...] = ()


def _confirmation(resource: dict[str, Any]) -> str | None:
    for extension in resource.get("extension", ()):
        if extension.get("url") == CONFIRMATION_URL:
            return str(extension.get("valueCode"))
    return None


def medication(resource: dict[str, Any]) -> EhrMedicationEntry:
    """A MedicationStatement as a record."""
    concept = resource.get("medicationCodeableConcept") or {}
    codings = concept.get("coding") or []
    atc = next((c.get("code") for c in codings if c.get("system") == ATC_SYSTEM), None)
    dosage = resource.get("dosage") or [{}]
    period = resource.get("effectivePeriod") or {}
    tags = (resource.get("meta") or {}).get("tag") or ()
    reported = any(
        t.get("system") == ORIGIN_SYSTEM and t.get("code") == "patient-reported" for t in tags
    )
    patient = (resource.get("subject") or {}).get("reference")
    form = None
    comments = []
    for note in resource.get("note", ()):
        text = str(note.get("text", ""))
        author = (note.get("authorReference") or {}).get("reference")
        if author is None and text.startswith(FORM_PREFIX):
            form = text.removeprefix(FORM_PREFIX) or None
        elif author is not None:
            comments.append(Comment(text, fhir.when(note.get("time")), author == patient))
    confirmation = _confirmation(resource)
    return EhrMedicationEntry(
        id=resource["id"],
        source=EHR,
        atc=atc,
        name=concept.get("text") or (codings or [{}])[0].get("display", ""),
        form=form,
        dosage=dosage[0].get("text"),
        started=fhir.day(period.get("start") or resource.get("effectiveDateTime")),
        security=security(resource),
        reported_by_patient=reported,
        confirmed=confirmation == "confirmed" if confirmation else not reported,
        comments=tuple(comments),
    )


def _has_comment(resource: dict[str, Any], key: str) -> bool:
    return any(
        e.get("url") == COMMENT_KEY_URL and e.get("valueString") == key
        for note in resource.get("note", ())
        for e in note.get("extension", ())
    )


class EhrMedications:
    """The medication list kept in the EHR: reads, patient-reported entries, comments."""

    def __init__(self, ehr: EhrClient) -> None:
        self._ehr = ehr

    async def of(self, patient_id: str) -> list[EhrMedicationEntry]:
        """The patient's active medication statements."""
        bundle = await self._ehr.search(
            query("MedicationStatement", patient=patient_id, status="active", _count="200")
        )
        return [medication(r) for r in self._ehr.own(bundle, patient_id)]

    async def add_medication(
        self,
        patient_id: str,
        *,
        name: str,
        dosage: str | None,
        reason: str | None,
        started_on: dt.date | None,
        idempotency: str,
    ) -> EhrMedicationEntry:
        """Record a medicine the patient reports using (unconfirmed), at most once per key."""
        patient = {"reference": f"Patient/{patient_id}"}
        resource: dict[str, Any] = {
            "resourceType": "MedicationStatement",
            "meta": {"tag": [{"system": ORIGIN_SYSTEM, "code": "patient-reported"}]},
            "status": "active",
            "medicationCodeableConcept": {"text": name},
            "subject": patient,
            "informationSource": patient,
        }
        if started_on is not None:
            resource["effectivePeriod"] = {"start": started_on.isoformat()}
        if dosage:
            resource["dosage"] = [{"text": dosage}]
        if reason:
            resource["reasonCode"] = [{"text": reason}]
        return medication(await self._ehr.create(resource, patient_id, idempotency=idempotency))

    async def comment(
        self, patient_id: str, statement_id: str, text: str, *, idempotency: str
    ) -> EhrMedicationEntry | None:
        """Add the patient's comment to a statement (re-read and retried once when it changed
        meanwhile; UpstreamConflict when it changed again). None when there is no such
        statement of this patient."""
        for attempt in range(2):
            current = await self._current(patient_id, statement_id, fresh=attempt > 0)
            if current is None:
                return None
            if _has_comment(current, idempotency):
                return medication(current)  # written before: a retry writes nothing
            note = {
                "text": text,
                "authorReference": {"reference": f"Patient/{patient_id}"},
                "extension": [{"url": COMMENT_KEY_URL, "valueString": idempotency}],
            }
            changed = {**current, "note": [*current.get("note", []), note]}
            try:
                return medication(await self._ehr.update(changed, patient_id))
            except UpstreamConflict:
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    async def _current(
        self, patient_id: str, statement_id: str, *, fresh: bool
    ) -> dict[str, Any] | None:
        """The statement as stored, when it is this patient's. `fresh` reads it again by a
        search (a read of the same url is answered from this request's first read)."""
        if fresh:
            bundle = await self._ehr.search(query("MedicationStatement", _id=statement_id))
        else:
            found = await self._ehr.read("MedicationStatement", statement_id)
            if found is None:
                return None
            bundle = {"resourceType": "Bundle", "entry": [{"resource": found}]}
        owned = self._ehr.own(bundle, patient_id)
        return owned[0] if owned else None
