"""The municipal-services client of one GraphQL request, routed by municipality code."""

from __future__ import annotations

import datetime as dt
from typing import Any

from authz.facts import KEPT_FROM_GUARDIANS, NO_LABELS, Address
from sources.errors import UpstreamBadResponse, UpstreamNotFound
from sources.home_care import HomeCare
from sources.models import (
    Appointment,
    Location,
    MunicipalServiceEntry,
    Practitioner,
    SourceKind,
    SourceRef,
    VaccinationEntry,
)
from sources.municipal_applications import MunicipalApplications
from sources.municipal_messages import MunicipalMessages
from sources.ownership import own_items
from sources.rest import RestBatcher
from sources.subject_cache import RequestCache
from sources.upstream import Upstream

_STATUS = {
    "booked": "booked",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "noShow": "noshow",
}


def _appointment(item: dict[str, Any], source: SourceRef) -> Appointment:
    place = item.get("place") or {}
    staff = item.get("staff") or {}
    return Appointment(
        id=item["id"],
        source=source,
        start=dt.datetime.fromisoformat(item["start"]),
        end=dt.datetime.fromisoformat(item["end"]) if item.get("end") else None,
        status=_STATUS.get(item.get("status", ""), "booked"),
        service=item.get("service"),
        video=bool(item.get("video")),
        practitioner=Practitioner(
            id=f"{source.municipality}:{staff.get('name', '')}",
            name=staff.get("name", ""),
            role=staff.get("role"),
        )
        if staff
        else None,
        security=KEPT_FROM_GUARDIANS if item.get("keptFromGuardians") else NO_LABELS,
        location=Location(
            id=f"{source.municipality}:{place.get('name', '')}",
            name=place.get("name", ""),
            address=Address(place.get("street", ""), "", place.get("city", "")),
        )
        if place
        else None,
    )


class MunicipalClient:
    """Reads from each municipality's service for one GraphQL request."""

    def __init__(
        self,
        upstreams: dict[str, Upstream],
        names: dict[str, str],
        *,
        shared_ehr: frozenset[str] = frozenset(),
        cache: RequestCache | None = None,
    ) -> None:
        self._batchers = {code: RestBatcher(u, cache) for code, u in upstreams.items()}
        self._upstreams = upstreams
        self._names = names
        self._shared_ehr = shared_ehr
        # One object per domain, each holding this client: `municipal.applications.apply(...)`.
        self.applications = MunicipalApplications(self)
        self.home_care = HomeCare(self)
        self.messages = MunicipalMessages(self)

    def on_shared_ehr(self, municipality: str | None) -> bool:
        """True when the municipality's health services run on the shared EHR."""
        return municipality is not None and municipality in self._shared_ehr

    def batcher(self, municipality: str) -> RestBatcher:
        """The batched JSON client of one configured municipality (for feature sources)."""
        return self._batchers[municipality]

    def upstream(self, municipality: str) -> Upstream:
        """One configured municipality's upstream, for writes (reads go through `batcher`)."""
        return self._upstreams[municipality]

    def name(self, municipality: str) -> str | None:
        """The municipality's display name, when configured."""
        return self._names.get(municipality)

    def serves(self, municipality: str | None) -> bool:
        """True when a service for this municipality is configured."""
        return municipality is not None and municipality in self._batchers

    async def _list(self, municipality: str, path: str, nin: str, items: str) -> list[Any]:
        batcher = self._batchers[municipality]
        try:
            found = await batcher.post_all(path, {"nin": nin}, items)
        except UpstreamNotFound:
            return []  # not (or no longer) known as a resident there: nothing to show
        return own_items(found, {nin}, source=batcher.source, kind=items.rstrip("s"))

    async def appointments(self, municipality: str, nin: str) -> list[Appointment]:
        """The person's appointments with their municipality."""
        source = SourceRef(SourceKind.MUNICIPAL, municipality)
        items = await self._list(municipality, "/appointments/_search", nin, "appointments")
        try:
            return [_appointment(i, source) for i in items]
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamBadResponse(
                f"MUNICIPAL {municipality}", "appointments", "malformed entry"
            ) from exc

    async def vaccinations(self, municipality: str, nin: str) -> list[VaccinationEntry]:
        """Health-station vaccinations recorded by the municipality."""
        source = SourceRef(SourceKind.MUNICIPAL, municipality)
        items = await self._list(municipality, "/vaccinations/_search", nin, "vaccinations")
        try:
            return [
                VaccinationEntry(
                    id=v["id"],
                    source=source,
                    atc=v.get("atc"),
                    name=v["name"],
                    date=dt.date.fromisoformat(v["date"]),
                )
                for v in items
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamBadResponse(
                f"MUNICIPAL {municipality}", "vaccinations", "malformed entry"
            ) from exc

    async def services(self, municipality: str, nin: str) -> list[MunicipalServiceEntry]:
        """The municipality's care-service decisions for the person, as it codes them."""
        source = SourceRef(SourceKind.MUNICIPAL, municipality)
        items = await self._list(municipality, "/services/_search", nin, "services")
        try:
            return [_service(i, source) for i in items]
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamBadResponse(
                f"MUNICIPAL {municipality}", "services", "malformed entry"
            ) from exc


def _service(item: dict[str, Any], source: SourceRef) -> MunicipalServiceEntry:
    identifier, kind, status = item["id"], item["type"], item["status"]
    if not all(isinstance(v, str) and v for v in (identifier, kind, status)):
        raise ValueError("id, type and status must be texts")
    decided = item.get("decidedOn")
    return MunicipalServiceEntry(
        id=identifier,
        source=source,
        kind=kind,
        status=status,
        decided_on=dt.date.fromisoformat(decided) if decided else None,
        security=KEPT_FROM_GUARDIANS if item.get("keptFromGuardians") else NO_LABELS,
    )
