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

import asyncio
import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from authz.audit import AuditEntry
from authz.principal import Principal
from gateway.cache import Cache
from gateway.cache.tiers import EPOCH
from sources.registry_reads import RegistryReads
from sources.waiting import waiting


@dataclass(frozen=True, slots=True)
class Hit:
    """A cached answer: the body as sent, the audit entries to write again, and the
    registry reads its access decisions rested on (to check again before serving it)."""

    body: bytes
    entries: list[dict[str, Any]]
    registry: RegistryReads | None = None

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


def _entry_dicts(entries: Sequence[AuditEntry]) -> list[dict[str, Any]]:
    """What a cached answer keeps of its audit entries (the rest is the next request's)."""
    return [
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
    ]


class Flight:
    """An answer being computed now by the first of identical concurrent misses; the
    others wait for it (`ResponseCache.answer`) instead of asking the upstreams again."""

    def __init__(self, running: dict[str, asyncio.Future[Hit | None]], key: str) -> None:
        self._running = running
        self.key = key
        self._future: asyncio.Future[Hit | None] = asyncio.get_running_loop().create_future()
        self._shared: Hit | None = None
        self.epoch: str | None = None  # see `ResponseCache.store`
        running.setdefault(key, self._future)

    def share(self, body: bytes, entries: Sequence[AuditEntry]) -> None:
        """The complete answer the waiting requests may send as theirs (audited as theirs)."""
        self._shared = Hit(body=body, entries=_entry_dicts(entries))

    def land(self) -> None:
        """Done (answered, refused, failed or cancelled): the waiting requests get the
        shared answer, or compute their own when there is none."""
        if self._running.get(self.key) is self._future:
            del self._running[self.key]
        if not self._future.done():
            self._future.set_result(self._shared)


class ResponseCache:
    """Answers by key in the cache tiers, each valid while its people's tokens hold."""

    def __init__(self, cache: Cache, ttl_s: float) -> None:
        self._cache = cache
        self._ttl_s = ttl_s
        self._running: dict[str, asyncio.Future[Hit | None]] = {}

    async def answer(
        self, key: str, still_hold: Callable[[RegistryReads], Awaitable[bool]]
    ) -> Hit | Flight:
        """The answer to send without executing: a cached one whose people are unchanged
        and whose registry reads `still_hold`, or the one an identical request is computing
        now. Otherwise the `Flight` this request leads: compute, `share`, then `land` it."""
        hit = await self.lookup(key)
        if hit is not None and (hit.registry is None or await still_hold(hit.registry)):
            return hit
        running = self._running.get(key)
        if running is not None:
            with waiting():  # on the upstreams of the request computing it
                shared = await asyncio.shield(running)
            if shared is not None:
                return shared
        flight = Flight(self._running, key)
        flight.epoch = await self.epoch()
        return flight

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
        registry = header.get("r")
        return Hit(
            body=body,
            entries=header["e"],
            registry=None if registry is None else RegistryReads.decode(registry),
        )

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
        registry: RegistryReads | None = None,
    ) -> None:
        """Keep an answer, stamped with the tokens of the viewer and everyone it touched,
        with the `registry` reads its access decisions rested on.

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
        header: dict[str, Any] = {"e": _entry_dicts(entries), "g": generations}
        if registry is not None:
            header["r"] = registry.encode()
        await self._cache.put(key, _pack(header, body), self._ttl_s)

    async def aclose(self) -> None:
        """Close the shared tier's connections."""
        await self._cache.aclose()

    async def changed(self, subjects: Sequence[str]) -> None:
        """Everything cached about these people is stale now: answers, and the raw upstream
        answers kept in the same tiers (`sources.subject_cache`)."""
        if subjects:
            await self._cache.bump(sorted(set(subjects)))
