"""Referrals (ServiceRequest) and waiting-list places (EpisodeOfCare) from the EHR."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from authz.facts import NO_LABELS, Security
from sources import fhir
from sources.fhir import EXT, query, security

if TYPE_CHECKING:
    from sources.ehr import EhrClient

REFERRAL_STATUS_URL = EXT + "referral-status"
DEADLINE_URL = EXT + "treatment-deadline"
WAITING_TIME_URL = EXT + "expected-waiting-time"
EXPECTED_START_URL = EXT + "expected-start"
STATUSES = frozenset({"received", "assessed", "accepted", "rejected", "scheduled", "completed"})
# FHIR request status -> workflow status, when the EHR sends no workflow extension
_FALLBACK = {"revoked": "rejected", "completed": "completed", "active": "received"}
_WEEKS = {"wk": 1.0, "d": 1 / 7, "mo": 30.4 / 7, "a": 365.25 / 7}


@dataclass(frozen=True, slots=True)
class WaitingListPlace:
    """The person's place on a department's waiting list (an EpisodeOfCare)."""

    id: str
    waitlist: bool  # True: waiting; False: a start is planned
    since: dt.date | None
    expected_start: dt.date | None
    security: Security = NO_LABELS


@dataclass(frozen=True, slots=True)
class Referral:
    """A referral to a hospital department and where it stands."""

    id: str
    status: str  # received | assessed | accepted | rejected | scheduled | completed
    received_at: dt.datetime | None
    priority: str | None  # routine | urgent | asap | stat
    referred_by: str | None
    department: str | None
    place: str | None
    deadline: dt.date | None  # frist for helsehjelp
    expected_wait_weeks: int | None
    waiting_list: WaitingListPlace | None
    security: Security = NO_LABELS


def _extension(resource: dict[str, Any], url: str) -> Any:
    for extension in resource.get("extension", ()):
        if extension.get("url") == url:
            for key, value in extension.items():
                if key.startswith("value"):
                    return value
    return None


def _weeks(duration: Any) -> int | None:
    if not isinstance(duration, dict) or not isinstance(duration.get("value"), int | float):
        return None
    factor = _WEEKS.get(str(duration.get("code") or duration.get("unit")))
    return None if factor is None else round(duration["value"] * factor)


def waiting_list_place(resource: dict[str, Any]) -> WaitingListPlace:
    """An EpisodeOfCare as a record."""
    return WaitingListPlace(
        id=resource["id"],
        waitlist=resource.get("status") == "waitlist",
        since=fhir.day((resource.get("period") or {}).get("start")),
        expected_start=fhir.day(_extension(resource, EXPECTED_START_URL)),
        security=security(resource),
    )


def referral(resource: dict[str, Any], place: WaitingListPlace | None) -> Referral:
    """A ServiceRequest (and its waiting-list place, if any) as a record."""
    status = _extension(resource, REFERRAL_STATUS_URL)
    if status not in STATUSES:
        status = _FALLBACK.get(str(resource.get("status")), "received")
    locations = resource.get("locationReference") or [{}]
    return Referral(
        id=resource["id"],
        status=str(status),
        received_at=fhir.when(resource.get("authoredOn")),
        priority=resource.get("priority"),
        referred_by=(resource.get("requester") or {}).get("display"),
        department=(resource.get("performerType") or {}).get("text"),
        place=locations[0].get("display"),
        deadline=fhir.day(_extension(resource, DEADLINE_URL)),
        expected_wait_weeks=_weeks(_extension(resource, WAITING_TIME_URL)),
        waiting_list=place,
        security=security(resource),
    )


class EhrReferrals:
    """The patient's referrals and waiting-list places in the EHR."""

    def __init__(self, ehr: EhrClient) -> None:
        self._ehr = ehr

    async def of(self, patient_id: str) -> list[Referral]:
        """The patient's referrals, newest first, each with its waiting-list place."""
        requests, episodes = await asyncio.gather(
            self._ehr.search(
                query("ServiceRequest", patient=patient_id, _sort="-authored", _count="200")
            ),
            self._ehr.search(query("EpisodeOfCare", patient=patient_id, _count="200")),
        )
        places: dict[str, WaitingListPlace] = {}
        for episode in self._ehr.own(episodes, patient_id):
            for target in episode.get("referralRequest", ()):
                reference = str(target.get("reference", ""))
                if reference.startswith("ServiceRequest/"):
                    places[reference.removeprefix("ServiceRequest/")] = waiting_list_place(episode)
        return [referral(r, places.get(r["id"])) for r in self._ehr.own(requests, patient_id)]
