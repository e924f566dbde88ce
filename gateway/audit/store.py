"""What every audit store shares: the `AuditStore` contract, `AuditUnavailable`, the
row/record conversions and `_Trail`, the reads and appends built on each store's primitives."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol, TypeVar

import orjson

from authz.audit import AuditEntry, AuditRecord, format_time

T = TypeVar("T")

PAGE = 1000  # records per round trip when streaming the whole trail
_FIELDS = (
    "seq, at, request_id, actor, actor_kind, basis, subject, categories, resources, "
    "action, outcome, client_id, prev_hash, hash"
)
_MAX_SEQ = 2**62


class AuditUnavailable(Exception):
    """The audit trail could not be written or read; health data must not be served."""


class AuditStore(Protocol):
    """An append-only, hash-chained trail of accesses to subjects' data.

    `append` seals and stores entries atomically (all or none); `for_subject` is
    newest first, older than `before_seq` when given; `records` streams the whole
    trail in seq order; `head` is `(0, GENESIS)` when empty. Every method raises
    `AuditUnavailable` on any failure.
    """

    async def append(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]: ...
    async def for_subject(
        self, subject: str, *, limit: int = 100, before_seq: int | None = None
    ) -> list[AuditRecord]: ...
    def records(self) -> AsyncIterator[AuditRecord]: ...
    async def head(self) -> tuple[int, str]: ...
    async def aclose(self) -> None: ...


def _record(row: Sequence[Any]) -> AuditRecord:
    """A record from a row in `_FIELDS` order (SQLite text or PostgreSQL native types)."""
    seq, at, request_id, actor, actor_kind, basis, subject, cats, res, *rest = row
    action, outcome, client_id, prev_hash, digest = rest
    entry = AuditEntry(
        at=at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(at),
        request_id=request_id,
        actor=actor,
        actor_kind=actor_kind,
        basis=basis,
        subject=subject,
        categories=tuple(orjson.loads(cats) if isinstance(cats, str) else cats),
        resources=tuple(orjson.loads(res) if isinstance(res, str) else res),
        action=action,
        outcome=outcome,
        client_id=client_id,
    )
    return AuditRecord(entry=entry, seq=seq, prev_hash=prev_hash, hash=digest)


class _Trail:
    """The public reads and appends of both stores, over the primitives each implements.

    Appends are group-committed: those that arrive while one transaction is being written
    go together in the next (one round trip and one fsync for all), each caller still
    getting its own contiguous records; a batch that fails fails every caller in it.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Sequence[AuditEntry], asyncio.Future[list[AuditRecord]]]] = []
        self._flusher: asyncio.Future[None] | None = None

    async def _write_batch(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        """Seal and store `entries` in one transaction; raise `AuditUnavailable`."""
        raise NotImplementedError

    async def _read(
        self, subject: str | None, *, after: int, before: int, limit: int
    ) -> list[AuditRecord]:
        """Up to `limit` records with `after < seq < before`; of `subject`, newest first."""
        raise NotImplementedError

    async def append(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        """Seal and store `entries` atomically (all or none); raise `AuditUnavailable`."""
        if not entries:
            return []
        future: asyncio.Future[list[AuditRecord]] = asyncio.get_running_loop().create_future()
        self._pending.append((entries, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush())
        return await future

    async def _flush(self) -> None:
        """Write what is pending, batch after batch, until nothing is."""
        while self._pending:
            batch, self._pending = self._pending, []
            everything = [entry for entries, _ in batch for entry in entries]
            try:
                records = await self._write_batch(everything)
            except AuditUnavailable as exc:
                for _, waiting in batch:
                    if not waiting.done():
                        waiting.set_exception(AuditUnavailable(str(exc)))
                continue
            start = 0
            for entries, waiting in batch:
                if not waiting.done():
                    waiting.set_result(records[start : start + len(entries)])
                start += len(entries)

    async def for_subject(
        self, subject: str, *, limit: int = 100, before_seq: int | None = None
    ) -> list[AuditRecord]:
        """Records about `subject`, newest first, older than `before_seq` when given."""
        before = _MAX_SEQ if before_seq is None else before_seq
        return await self._read(subject, after=0, before=before, limit=limit)

    async def records(self) -> AsyncIterator[AuditRecord]:
        """Every record in seq order, one page of `PAGE` per round trip."""
        after = 0
        while True:
            page = await self._read(None, after=after, before=_MAX_SEQ, limit=PAGE)
            for record in page:
                yield record
            if len(page) < PAGE:
                return
            after = page[-1].seq


def _row(record: AuditRecord, *, as_text: bool) -> tuple[Any, ...]:
    e = record.entry
    at: Any = format_time(e.at) if as_text else e.at
    cats: Any = orjson.dumps(e.categories).decode() if as_text else list(e.categories)
    res: Any = orjson.dumps(e.resources).decode() if as_text else list(e.resources)
    return (
        record.seq, at, e.request_id, e.actor, e.actor_kind, e.basis, e.subject, cats, res,
        e.action, e.outcome, e.client_id, record.prev_hash, record.hash,
    )  # fmt: skip
