"""One request's audit envelope: the stamp every entry carries, the write that must
succeed before anything is served, and the refusal when it cannot (fail closed). Shared by
`/graphql` and document downloads."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from starlette.responses import Response

from authz.audit import AuditEntry
from authz.principal import Principal
from gateway.exchange import Exchange
from resolvers.core.access import PrincipalKind
from resolvers.core.errors import ErrorCode
from sources.audit import AuditStore, AuditUnavailable

log = logging.getLogger("helsegraf.http")


class Auditor:
    """Writes a request's audit entries, failing closed."""

    def __init__(
        self,
        store: AuditStore,
        principal: Principal,
        kind: PrincipalKind,
        now: dt.datetime,
        exchange: Exchange,
        *,
        operation: str,
    ) -> None:
        self._store = store
        self._principal = principal
        self._kind = kind
        self._now = now
        self._exchange = exchange
        self._operation = operation

    def stamp(self) -> dict[str, Any]:
        """Who, when, at which login level and asking what (`sha256:<hex>` of the
        operation document), as every entry of this request records it."""
        principal = self._principal
        return {
            "at": self._now.astimezone(dt.UTC),
            "request_id": self._exchange.request_id,
            "actor": principal.actor_client_id or principal.nin,
            "actor_kind": self._kind.value,
            "client_id": principal.actor_client_id or principal.client_id,
            "acr": principal.acr,
            "operation": self._operation,
        }

    async def write(self, entries: list[AuditEntry]) -> bool:
        """True once written; False when the trail is unavailable."""
        try:
            await self._store.append(entries)
        except AuditUnavailable:
            log.error("audit trail unavailable; withholding the response")
            return False
        return True

    def refused(self) -> Response:
        """Fail closed: what cannot be audited is not served."""
        return self._exchange.refuse(
            "The request could not be completed safely. Try again shortly.",
            ErrorCode.AUDIT_UNAVAILABLE,
            503,
            {"retry-after": "5"},
            requestId=self._exchange.request_id,
        )
