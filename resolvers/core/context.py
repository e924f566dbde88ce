"""The per-request context every resolver receives."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from authz.principal import Principal
from authz.relations import oslo_date
from resolvers.core.access import Access
from resolvers.core.i18n import Language
from resolvers.core.ids import IdCodec
from resolvers.core.recorder import AccessRecorder
from sources.audit import AuditStore
from sources.ehr import EhrClient
from sources.errors import UpstreamError
from sources.idempotency import IdempotencyStore
from sources.municipal import MunicipalClient
from sources.national import NationalClient
from sources.subject_cache import RequestCache
from sources.userdata import UserdataStore


@dataclass(frozen=True, slots=True)
class Problem:
    """A failure that cost part of a field's data but not the field: reported, not raised."""

    error: UpstreamError
    path: tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Context:
    """Who is asking, the clock, and fresh per-request upstream clients and loaders.

    `changed_people` is whose data this request's writes changed (or may have: a write
    that failed midway counts), named by `changed`; the endpoint invalidates exactly
    their cached answers before answering. It is separate from the audit record.
    """

    principal: Principal
    request_id: str
    now: dt.datetime  # timezone-aware, Europe/Oslo
    language: Language
    ids: IdCodec
    ehr: EhrClient
    national: NationalClient
    municipal: MunicipalClient
    access: Access
    audit: AuditStore
    userdata: UserdataStore
    idempotency: IdempotencyStore
    # The request's one recorder, the one `access` records refusals in: given, never a
    # fresh default, so nothing recorded by either can miss the audit write.
    recorder: AccessRecorder
    raw: RequestCache | None = None  # this request's use of the raw upstream cache
    problems: list[Problem] = field(default_factory=list)
    changed_people: set[str] = field(default_factory=set)  # national ids; see `changed`

    @property
    def today(self) -> dt.date:
        """Today's date in Europe/Oslo, the date every age rule uses."""
        return oslo_date(self.now)

    def report(self, error: UpstreamError, path: tuple[str | int, ...]) -> None:
        """Record a partial failure to return beside the data."""
        self.problems.append(Problem(error, path))

    def changed(self, nin: str) -> None:
        """This request changes (or is about to change) data of the person `nin`: every
        cached answer about them is stale once it has run. Writes call it through
        `resolvers.core.writes.once`, whether or not they are audited."""
        self.changed_people.add(nin)
