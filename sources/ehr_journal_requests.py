"""Requests for access to one's journal: FHIR Tasks with a journal-request code."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from authz.facts import NO_LABELS, Security
from sources import fhir
from sources.errors import UpstreamBadResponse
from sources.fhir import query, security

if TYPE_CHECKING:
    from sources.ehr import EhrClient

KIND_SYSTEM = "https://fhir.helsegraf.dev/CodeSystem/journal-request"
INPUT_SYSTEM = "https://fhir.helsegraf.dev/CodeSystem/journal-request-input"
KINDS = frozenset({"copy", "access", "correction"})
STATUSES = frozenset({"requested", "in-progress", "completed", "rejected"})


@dataclass(frozen=True, slots=True)
class JournalRequest:
    """One request for a copy of, access to, or a correction of the journal."""

    id: str
    kind: str  # copy | access | correction
    status: str  # requested | in-progress | completed | rejected | other
    requested_at: dt.datetime | None
    updated_at: dt.datetime | None
    period_start: dt.date | None
    period_end: dt.date | None
    message: str | None
    security: Security = NO_LABELS


def _kind(resource: dict[str, Any]) -> str | None:
    for coding in (resource.get("code") or {}).get("coding", ()):
        if coding.get("system") == KIND_SYSTEM and coding.get("code") in KINDS:
            return str(coding["code"])
    return None


def journal_request(resource: dict[str, Any]) -> JournalRequest | None:
    """A Task as a journal request; None for a Task of another kind."""
    kind = _kind(resource)
    if kind is None:
        return None
    period: dict[str, Any] = {}
    for item in resource.get("input", ()):
        codings = (item.get("type") or {}).get("coding", ())
        if any(c.get("system") == INPUT_SYSTEM and c.get("code") == "period" for c in codings):
            period = item.get("valuePeriod") or {}
    status = str(resource.get("status"))
    notes = resource.get("note") or [{}]
    return JournalRequest(
        id=resource["id"],
        kind=kind,
        status=status if status in STATUSES else "other",
        requested_at=fhir.when(resource.get("authoredOn")),
        updated_at=fhir.when(resource.get("lastModified")),
        period_start=fhir.day(period.get("start")),
        period_end=fhir.day(period.get("end")),
        message=notes[0].get("text"),
        security=security(resource),
    )


class EhrJournalRequests:
    """The patient's requests about their journal in the EHR."""

    def __init__(self, ehr: EhrClient) -> None:
        self._ehr = ehr

    async def of(self, patient_id: str) -> list[JournalRequest]:
        """The patient's journal requests, newest first."""
        bundle = await self._ehr.search(
            query(
                "Task",
                patient=patient_id,
                code=f"{KIND_SYSTEM}|",
                _sort="-authored-on",
                _count="100",
            )
        )
        found = (journal_request(r) for r in self._ehr.own(bundle, patient_id))
        return [r for r in found if r is not None]

    async def request(
        self,
        patient_id: str,
        *,
        kind: str,
        period: tuple[dt.date | None, dt.date | None] | None,
        message: str | None,
        idempotency: str,
    ) -> JournalRequest:
        """File a request (a Task, status requested) for the patient, at most once per key."""
        resource: dict[str, Any] = {
            "resourceType": "Task",
            "status": "requested",
            "intent": "order",
            "code": {"coding": [{"system": KIND_SYSTEM, "code": kind}]},
            "for": {"reference": f"Patient/{patient_id}"},
            "requester": {"reference": f"Patient/{patient_id}"},
        }
        if period is not None:
            bounds = {k: v.isoformat() for k, v in zip(("start", "end"), period, strict=True) if v}
            resource["input"] = [
                {
                    "type": {"coding": [{"system": INPUT_SYSTEM, "code": "period"}]},
                    "valuePeriod": bounds,
                }
            ]
        if message:
            resource["note"] = [{"text": message}]
        created = await self._ehr.create(resource, patient_id, idempotency=idempotency)
        parsed = journal_request(created)
        if parsed is None:
            raise UpstreamBadResponse("EHR", "create Task", "not a journal request")
        return parsed
