"""Home-care visits (home nursing, practical assistance) from the person's municipality."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sources.errors import UpstreamBadResponse, UpstreamNotFound
from sources.models import SourceKind, SourceRef
from sources.ownership import own_items

if TYPE_CHECKING:
    from sources.municipal import MunicipalClient


@dataclass(frozen=True, slots=True)
class Visit:
    """One planned, done or cancelled home-care visit, as the municipality codes it."""

    id: str
    source: SourceRef
    service: str  # homeNursing | practicalAssistance | ...
    start: dt.datetime
    end: dt.datetime | None
    status: str  # planned | done | cancelled
    tasks: tuple[str, ...]
    team: str | None


def parse(item: dict[str, Any], source: SourceRef) -> Visit:
    """One visit of the municipal API; ValueError/KeyError/TypeError when malformed."""
    identifier, service, status = item["id"], item["service"], item["status"]
    if not all(isinstance(v, str) and v for v in (identifier, service, status)):
        raise ValueError("id, service and status must be texts")
    start = dt.datetime.fromisoformat(item["start"])
    end = dt.datetime.fromisoformat(item["end"]) if item.get("end") else None
    if start.tzinfo is None or (end is not None and end.tzinfo is None):
        raise ValueError("times must carry an offset")
    tasks = item.get("tasks") or []
    team = item.get("team")
    if not isinstance(tasks, list) or not all(isinstance(t, str) for t in tasks):
        raise ValueError("tasks must be a list of texts")
    if team is not None and not isinstance(team, str):
        raise ValueError("team must be a text")
    return Visit(identifier, source, service, start, end, status, tuple(tasks), team)


class HomeCare:
    """The person's home-care visits from their municipality."""

    def __init__(self, client: MunicipalClient) -> None:
        self._client = client

    async def visits(
        self,
        municipality: str,
        nin: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> list[Visit]:
        """The person's visits on the days from `start` to `end` (both included), in time order."""
        batcher = self._client.batcher(municipality)
        body: dict[str, Any] = {"nin": nin}
        if start is not None:
            body["from"] = start.isoformat()
        if end is not None:
            body["to"] = end.isoformat()
        try:
            found = await batcher.post_all("/home-care/visits/_search", body, "visits")
        except UpstreamNotFound:
            return []  # not (or no longer) a resident there: nothing to show
        items = own_items(found, {nin}, source=batcher.source, kind="visit")
        source = SourceRef(SourceKind.MUNICIPAL, municipality)
        try:
            found_visits = [parse(i, source) for i in items]
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamBadResponse(
                f"MUNICIPAL {municipality}", "home-care visits", "malformed entry"
            ) from exc
        return sorted(found_visits, key=lambda v: (v.start, v.id))
