"""The care team (CareTeam) from the EHR: who looks after the person, and how to reach them.

Only a department's work phone (the participant-contact extension) is passed on; a
member's own telecom, if an EHR ever sent one, is never read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from authz.facts import NO_LABELS, Security
from sources import fhir
from sources.fhir import EXT, query, security

if TYPE_CHECKING:
    from sources.ehr import EhrClient

ROLE_SYSTEM = "https://fhir.helsegraf.dev/CodeSystem/care-team-role"
CONTACT_URL = EXT + "participant-contact"
ROLES = frozenset({"contact-physician", "contact-nurse", "coordinator", "gp"})


@dataclass(frozen=True, slots=True)
class CareTeamMember:
    """One participant of one care team."""

    id: str  # "{CareTeam id}.{participant index}"
    team: str | None
    role: str  # contact-physician | contact-nurse | coordinator | gp | other
    role_text: str | None  # the EHR's own name for the role
    name: str | None
    organisation: str | None
    start: dt.date | None
    end: dt.date | None
    phone: str | None  # a department's work phone
    security: Security = NO_LABELS


def _role(participant: dict[str, Any]) -> tuple[str, str | None]:
    for concept in participant.get("role", ()):
        for coding in concept.get("coding", ()):
            if coding.get("system") == ROLE_SYSTEM and coding.get("code") in ROLES:
                return str(coding["code"]), concept.get("text")
    concepts = participant.get("role") or [{}]
    return "other", concepts[0].get("text")


def _phone(participant: dict[str, Any]) -> str | None:
    for extension in participant.get("extension", ()):
        point = extension.get("valueContactPoint") or {}
        if (
            extension.get("url") == CONTACT_URL
            and point.get("system") == "phone"
            and point.get("use") == "work"
        ):
            return str(point.get("value")) if point.get("value") else None
    return None


def members(resource: dict[str, Any]) -> list[CareTeamMember]:
    """Every participant of a CareTeam as a record (labels are the team's)."""
    labels = security(resource)
    out = []
    for n, participant in enumerate(resource.get("participant", ())):
        role, role_text = _role(participant)
        period = participant.get("period") or {}
        out.append(
            CareTeamMember(
                id=f"{resource['id']}.{n}",
                team=resource.get("name"),
                role=role,
                role_text=role_text,
                name=(participant.get("member") or {}).get("display"),
                organisation=(participant.get("onBehalfOf") or {}).get("display"),
                start=fhir.day(period.get("start")),
                end=fhir.day(period.get("end")),
                phone=_phone(participant),
                security=labels,
            )
        )
    return out


class EhrCareTeam:
    """The patient's care team in the EHR."""

    def __init__(self, ehr: EhrClient) -> None:
        self._ehr = ehr

    async def of(self, patient_id: str) -> list[CareTeamMember]:
        """The members of the patient's active care teams."""
        bundle = await self._ehr.search(
            query("CareTeam", patient=patient_id, status="active", _count="50")
        )
        return [m for team in self._ehr.own(bundle, patient_id) for m in members(team)]
