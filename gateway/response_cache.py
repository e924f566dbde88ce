"""The whole-response cache: a repeated query answered without executing it again.

Keyed by everything the answer depends on — the caller (person, client, partner acting,
login level, scopes), the operation (document hash and name), its variables, the
language and the day in Norway (ages and "upcoming" move with it) — and valid only while
the generation tokens of every person it touched, the viewer included, are unchanged:
a write through the gateway or an upstream change notification about any of them ends
it at once, in every process. Only complete answers are kept (no errors, no partial
failures), only for queries, and each hit still writes its audit entries — the same
subjects, categories and resources the first answer recorded, with this request's id
and time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from authz.audit import AuditEntry
from gateway.auth import Principal
from gateway.cache import Cache
from gateway.cache.tiers import EPOCH


@dataclass(frozen=True, slots=True)
class Hit:
    """A cached answer: the body as sent, and the audit entries to write again."""

    body: bytes
    entries: list[dict[str, Any]]

    def audit_entries(
        self,
        *,
        at: dt.datetime,
        request_id: str,
        actor: str,
        actor_kind: str,
        client_id: str | None,
        acr: str | None,
        operation: str | None,
    ) -> list[AuditEntry]:
        """This hit's entries, as the first answer recorded them, at this request: its
        time, id, login level and operation hash."""
        return [
            AuditEntry(
                at=at,
                request_id=request_id,
                actor=actor,
                actor_kind=actor_kind,
                basis=e["basis"],
                subject=e["subject"],
                categories=tuple(e["categories"]),
                resources=tuple(e["resources"]),
                action=e["action"],
                outcome=e["outcome"],
                client_id=client_id,
                reason=e.get("reason"),
                acr=acr,
                operation=operation,
            )
            for e in self.entries
        ]


def response_key(
    principal: Principal,
    *,
    digest: str,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    language: str,
    today: dt.date,
) -> str:
    """The logical key of an answer (hashed again before any tier stores it)."""
    caller = "|".join(
        (
            principal.nin,
            principal.client_id or "",
            principal.actor_client_id or "",
            principal.acr or "",
            " ".join(sorted(principal.scopes)),
        )
    )
    shape = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
    asked = hashlib.sha256(shape).hexdigest()
    return f"resp|{caller}|{digest}|{operation_name or ''}|{asked}|{language}|{today}"


def _pack(header: dict[str, Any], body: bytes) -> bytes:
    """One stored value: the header's length (4 bytes), the header as JSON, then the body
    as sent (so a hit decodes only the small header)."""
    encoded = orjson.dumps(header)
    return len(encoded).to_bytes(4, "big") + encoded + body


def _unpack(stored: bytes) -> tuple[dict[str, Any], bytes]:
    size = int.from_bytes(stored[:4], "big")
    header: dict[str, Any] = orjson.loads(stored[4 : 4 + size])
    return header, stored[4 + size :]


class ResponseCache:
    """Answers by key in the cache tiers, each valid while its people's tokens hold."""

    def __init__(self, cache: Cache, ttl_s: float) -> None:
        self._cache = cache
        self._ttl_s = ttl_s

    async def lookup(self, key: str) -> Hit | None:
        """The cached answer, when there is one and nobody it touched changed since."""
        raw = await self._cache.get(key)
        if raw is None:
            return None
        header, body = _unpack(raw)
        generations: dict[str, str] = header["g"]
        current = await self._cache.generations(list(generations))
        if current != generations:
            return None
        return Hit(body=body, entries=header["e"])

    async def epoch(self) -> str | None:
        """The write epoch before an answer is computed (see `store`); None: do not cache."""
        found = await self._cache.generations([EPOCH])
        return None if found is None else found[EPOCH]

    async def store(
        self,
        key: str,
        body: bytes,
        viewer: str,
        entries: Sequence[AuditEntry],
        epoch: str | None,
    ) -> None:
        """Keep an answer, stamped with the tokens of the viewer and everyone it touched.

        `epoch` is `epoch()` from before the answer was computed: when any write landed
        meanwhile, the answer may hold data older than the tokens read now, so it is not
        kept (tokens are read after execution, when the people it touched are known).
        """
        if epoch is None:
            return
        subjects = sorted({viewer, *(e.subject for e in entries), EPOCH})
        generations = await self._cache.generations(subjects)
        if generations is None or generations.pop(EPOCH) != epoch:
            return  # the cache cannot be trusted right now, or something changed meanwhile
        header = {
            "e": [
                {
                    "basis": e.basis,
                    "subject": e.subject,
                    "categories": list(e.categories),
                    "resources": list(e.resources),
                    "action": e.action,
                    "outcome": e.outcome,
                    "reason": e.reason,
                }
                for e in entries
            ],
            "g": generations,
        }
        await self._cache.put(key, _pack(header, body), self._ttl_s)

    async def aclose(self) -> None:
        """Close the shared tier's connections."""
        await self._cache.aclose()

    async def changed(self, subjects: Sequence[str]) -> None:
        """Everything cached about these people is stale now: answers, and the raw upstream
        answers kept in the same tiers (`sources.subject_cache`)."""
        if subjects:
            await self._cache.bump(sorted(set(subjects)))
