"""Applications for municipal care services: what a municipality offers, a person's
applications, and sending a new one (safe to retry: it carries an `Idempotency-Key`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from authz.facts import KEPT_FROM_GUARDIANS, NO_LABELS, Security
from sources.errors import UpstreamBadResponse, UpstreamNotFound
from sources.models import SourceKind, SourceRef
from sources.ownership import own_items

if TYPE_CHECKING:
    from sources.municipal import MunicipalClient


@dataclass(frozen=True, slots=True)
class Application:
    """One application for a care service, as the municipality codes it."""

    id: str
    source: SourceRef
    service: str  # the municipality's code: homeNursing, respiteCare, ...
    status: str  # received | inReview | granted | rejected | withdrawn
    submitted_at: dt.datetime | None
    description: str | None = field(repr=False)
    wished_start: dt.date | None
    expected_decision_on: dt.date | None
    decided_on: dt.date | None
    decision_id: str | None
    unit: str | None
    security: Security = NO_LABELS


@dataclass(frozen=True, slots=True)
class NewApplication:
    """What a person applies for."""

    service: str
    description: str = field(repr=False)
    wished_start: dt.date | None = None
    contact_phone: str | None = field(default=None, repr=False)


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("not a text")
    return value


def parse(item: dict[str, Any], source: SourceRef) -> Application:
    """One application of the municipal API; ValueError/KeyError/TypeError when malformed."""
    identifier, service, status = item["id"], item["service"], item["status"]
    if not all(isinstance(v, str) and v for v in (identifier, service, status)):
        raise ValueError("id, service and status must be texts")
    submitted = item.get("submittedAt")
    return Application(
        id=identifier,
        source=source,
        service=service,
        status=status,
        submitted_at=dt.datetime.fromisoformat(submitted) if submitted else None,
        description=_text(item.get("description")),
        wished_start=_date(item.get("wishedStart")),
        expected_decision_on=_date(item.get("expectedDecisionOn")),
        decided_on=_date(item.get("decidedOn")),
        decision_id=_text(item.get("decisionId")),
        unit=_text(item.get("unit")),
        security=KEPT_FROM_GUARDIANS if item.get("keptFromGuardians") else NO_LABELS,
    )


def _malformed(municipality: str, operation: str, exc: Exception) -> UpstreamBadResponse:
    error = UpstreamBadResponse(f"MUNICIPAL {municipality}", operation, "malformed entry")
    error.__cause__ = exc
    return error


class MunicipalApplications:
    """A person's applications for care services with their municipality."""

    def __init__(self, client: MunicipalClient) -> None:
        self._client = client

    async def of(self, municipality: str, nin: str) -> list[Application]:
        """The person's applications to the municipality, as it lists them (newest first)."""
        batcher = self._client.batcher(municipality)
        try:
            found = await batcher.post_all("/applications/_search", {"nin": nin}, "applications")
        except UpstreamNotFound:
            return []  # not (or no longer) a resident there: nothing to show
        items = own_items(found, {nin}, source=batcher.source, kind="application")
        source = SourceRef(SourceKind.MUNICIPAL, municipality)
        try:
            return [parse(i, source) for i in items]
        except (KeyError, TypeError, ValueError) as exc:
            raise _malformed(municipality, "applications", exc) from exc

    async def offerings(self, municipality: str) -> frozenset[str]:
        """The services the municipality takes applications for, as it codes them."""
        found = await self._client.batcher(municipality).post_all(
            "/offerings/_search", {}, "offerings"
        )
        try:
            return frozenset(str(o["type"]) for o in found)
        except (KeyError, TypeError) as exc:
            raise _malformed(municipality, "offerings", exc) from exc

    async def apply(
        self,
        municipality: str,
        nin: str,
        new: NewApplication,
        *,
        idempotency: str,
    ) -> Application:
        """Send an application; a retry with the same `idempotency` key never sends a second.

        Raises UpstreamRejected when the municipality refuses the input (HTTP 400/422).
        """
        body: dict[str, Any] = {
            "nin": nin,
            "service": new.service,
            "description": new.description,
            "wishedStart": new.wished_start.isoformat() if new.wished_start else None,
            "contactPhone": new.contact_phone,
        }
        # The key makes the POST safe to repeat, so the upstream may retry it like a read.
        result = await self._client.upstream(municipality).call(
            "POST",
            "applications",
            operation="apply",
            json_body=body,
            idempotent=True,
            headers={"Idempotency-Key": idempotency},
        )
        if not isinstance(result, dict) or result.get("nin", nin) != nin:
            raise UpstreamBadResponse(f"MUNICIPAL {municipality}", "apply", "not an application")
        try:
            return parse(result, SourceRef(SourceKind.MUNICIPAL, municipality))
        except (KeyError, TypeError, ValueError) as exc:
            raise _malformed(municipality, "apply", exc) from exc
