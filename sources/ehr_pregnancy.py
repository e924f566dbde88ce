"""Digital pregnancy care from the EHR: the pregnancy `EpisodeOfCare` (type SNOMED CT
77386006) with its estimated due date (extension `.../estimated-due-date`), the health-card
Observations pointing to it (core extension `workflow-episodeOfCare`), the checks
(Appointments with `supportingInformation`) and documents (`context.encounter`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from authz.facts import Security
from sources import fhir
from sources.documents import document as parse_document
from sources.ehr_care import Measurement, measurement
from sources.fhir import day, query, when
from sources.models import Document

if TYPE_CHECKING:
    from sources.ehr import EhrClient

DUE_DATE_URL = "https://fhir.helsegraf.dev/StructureDefinition/estimated-due-date"
PREGNANCY = "http://snomed.info/sct|77386006"


@dataclass(frozen=True, slots=True)
class Check:
    """A pregnancy check."""

    id: str
    start: dt.datetime | None
    status: str


@dataclass(frozen=True, slots=True)
class Pregnancy:
    """Ongoing or ended pregnancy care."""

    id: str
    status: str
    start: dt.date | None
    due: dt.date | None
    measurements: tuple[Measurement, ...]
    checks: tuple[Check, ...]
    documents: tuple[Document, ...]
    security: Security


class EhrPregnancy:
    """Pregnancy care in the EHR."""

    def __init__(self, ehr: EhrClient) -> None:
        self._ehr = ehr

    async def of(self, patient_id: str) -> Pregnancy | None:
        """The patient's current pregnancy care with what hangs on it; None when there is none."""
        episodes, observations, appointments, documents = await asyncio.gather(
            self._ehr.search(
                query("EpisodeOfCare", patient=patient_id, type=PREGNANCY, _count="20")
            ),
            self._ehr.search(query("Observation", patient=patient_id, _sort="-date", _count="200")),
            self._ehr.search(query("Appointment", patient=patient_id, _sort="date", _count="200")),
            self._ehr.search(
                query("DocumentReference", patient=patient_id, status="current", _count="200")
            ),
        )
        found = [
            e
            for e in self._ehr.own(episodes, patient_id)
            if e.get("status") in ("active", "planned", "waitlist")
        ]
        if not found:
            return None
        episode = found[0]
        ref = f"EpisodeOfCare/{episode['id']}"
        own_measurements = (measurement(r) for r in self._ehr.own(observations, patient_id))
        return Pregnancy(
            id=str(episode["id"]),
            status=str(episode.get("status")),
            start=day((episode.get("period") or {}).get("start")),
            due=day(_due_date(episode)),
            measurements=tuple(
                m for m in own_measurements if m is not None and m.episode_id == episode["id"]
            ),
            checks=tuple(_checks(self._ehr.own(appointments, patient_id), ref)),
            documents=tuple(_documents(self._ehr.own(documents, patient_id), ref)),
            security=fhir.security(episode),
        )


def _due_date(episode: dict[str, Any]) -> Any:
    """The expected date of delivery the EHR put on the episode, when it did."""
    return next(
        (e.get("valueDate") for e in episode.get("extension", ()) if e.get("url") == DUE_DATE_URL),
        None,
    )


def _checks(appointments: list[dict[str, Any]], episode_ref: str) -> list[Check]:
    """The appointments that belong to the episode (its check-ups)."""
    return [
        Check(id=str(a["id"]), start=when(a.get("start")), status=str(a.get("status", "")))
        for a in appointments
        if any(s.get("reference") == episode_ref for s in a.get("supportingInformation", ()))
    ]


def _documents(documents: list[dict[str, Any]], episode_ref: str) -> list[Document]:
    """The documents written in the episode's encounters."""
    return [
        parse_document(d)
        for d in documents
        if any(
            c.get("reference") == episode_ref for c in (d.get("context") or {}).get("encounter", ())
        )
    ]
