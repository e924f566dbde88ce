"""What every audit store shares: the `AuditStore` contract, `AuditUnavailable`, the
row/record conversions and `_Trail`, the reads and appends built on each store's primitives.

Every operation has a deadline (`timeout_s`, `HELSEGRAF_AUDIT_TIMEOUT_S`): a store that
is locked, slow or down answers `AuditUnavailable` by then instead of holding the request.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import orjson

from authz.audit import AuditEntry, AuditRecord, format_time

T = TypeVar("T")

PAGE = 1000  # records per round trip when streaming the whole trail
# Columns of a record, in row order. The last four came with version 2 of the canonical
# form; a trail created before has them added (`ALTER TABLE`), its rows as version 1.
_COLUMNS = (
    "seq", "at", "request_id", "actor", "actor_kind", "basis", "subject", "categories",
    "resources", "action", "outcome", "client_id", "prev_hash", "hash",
    "version", "reason", "acr", "operation",
)  # fmt: skip
_FIELDS = ", ".join(_COLUMNS)
# What a version 1 table without the newer columns reads as, column by column.
_BEFORE_V2 = {"version": "1", "reason": "NULL", "acr": "NULL", "operation": "NULL"}
_MAX_SEQ = 2**62
DEFAULT_TIMEOUT_S = 3.0
# A batch must have its lock this long before its first caller's deadline, or it writes
# nothing: the insert and commit that follow take milliseconds.
COMMIT_MARGIN_S = 0.1


def select_list(present: Collection[str]) -> str:
    """`_FIELDS` for a table holding the columns `present`: a trail the reader may not
    upgrade (read-only) reads its missing newer columns as version 1 values."""
    return ", ".join(
        name if name in present else f"{_BEFORE_V2[name]} AS {name}" for name in _COLUMNS
    )


class AuditUnavailable(Exception):
    """The audit trail could not be written or read; health data must not be served."""


class AuditStore(Protocol):
    """An append-only, hash-chained trail of accesses to subjects' data.

    `append` seals and stores entries atomically (all or none); `for_subject` is
    newest first, older than `before_seq` when given; `records` streams the whole
    trail in seq order; `head` is `(0, GENESIS)` when empty; `ping` succeeds when the
    store could take a record now. Every method raises `AuditUnavailable` on any
    failure, within the store's deadline.
    """

    async def append(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]: ...
    async def for_subject(
        self, subject: str, *, limit: int = 100, before_seq: int | None = None
    ) -> list[AuditRecord]: ...
    def records(self) -> AsyncIterator[AuditRecord]: ...
    async def head(self) -> tuple[int, str]: ...
    async def ping(self) -> None: ...
    async def aclose(self) -> None: ...


def _record(row: Sequence[Any]) -> AuditRecord:
    """A record from a row in `_FIELDS` order (SQLite text or PostgreSQL native types)."""
    seq, at, request_id, actor, actor_kind, basis, subject, cats, res, *rest = row
    action, outcome, client_id, prev_hash, digest, version, reason, acr, operation = rest
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
        reason=reason,
        acr=acr,
        operation=operation,
    )
    return AuditRecord(entry, seq, prev_hash, digest, int(version))


@dataclass(eq=False)
class _Waiting:
    """One caller's entries waiting for the next transaction, until its deadline."""

    entries: Sequence[AuditEntry]
    deadline: float  # time.monotonic()
    future: asyncio.Future[list[AuditRecord]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class _Trail:
    """The public reads and appends of both stores, over the primitives each implements.

    Appends are group-committed: those that arrive while one transaction is being written
    go together in the next (one round trip and one fsync for all), each caller still
    getting its own contiguous records; a batch that fails fails every caller in it.

    Every caller waits until its own deadline at most. One still queued then is taken
    out of the queue (nothing of it is written); a batch writes only if it holds the
    store's lock `COMMIT_MARGIN_S` before the earliest deadline of its callers, so when
    the store is locked it gives up, writing nothing, before its first caller does. Only
    a commit slower than that margin can land after its callers were refused: a record
    too many for a refused request, never one too few for a served one.
    """

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        if timeout_s <= 0:
            raise ValueError("the audit store's timeout must be positive")
        self.timeout_s = timeout_s
        self._margin_s = min(COMMIT_MARGIN_S, timeout_s / 10)
        self._pending: list[_Waiting] = []
        self._flusher: asyncio.Future[None] | None = None

    def _deadline(self) -> float:
        return time.monotonic() + self.timeout_s

    def _late(self, operation: str) -> AuditUnavailable:
        return AuditUnavailable(
            f"audit store unavailable: {operation} did not complete within {self.timeout_s:g} s"
        )

    async def _write_batch(
        self, entries: Sequence[AuditEntry], deadline: float
    ) -> list[AuditRecord]:
        """Seal and store `entries` in one transaction by `deadline` (monotonic); raise
        `AuditUnavailable`."""
        raise NotImplementedError

    async def _read(
        self, subject: str | None, *, after: int, before: int, limit: int
    ) -> list[AuditRecord]:
        """Up to `limit` records with `after < seq < before`; of `subject`, newest first."""
        raise NotImplementedError

    async def append(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        """Seal and store `entries` atomically (all or none); raise `AuditUnavailable`,
        within `timeout_s` whatever the store does."""
        if not entries:
            return []
        waiting = _Waiting(entries, self._deadline())
        self._pending.append(waiting)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush())
        try:
            async with asyncio.timeout(waiting.deadline - time.monotonic()):
                return await asyncio.shield(waiting.future)
        except TimeoutError:
            raise self._late("append") from None
        finally:
            if waiting in self._pending:  # gave up before the store had it: withdrawn
                self._pending.remove(waiting)
            if not waiting.future.done():
                waiting.future.cancel()  # nobody waits for its outcome any more

    async def _flush(self) -> None:
        """Write what is pending, batch after batch, until nothing is."""
        while self._pending:
            batch, self._pending = self._pending, []
            everything = [entry for waiting in batch for entry in waiting.entries]
            # The store must decide to write before the first caller stops waiting.
            deadline = min(w.deadline for w in batch) - self._margin_s
            try:
                records = await self._write_batch(everything, deadline)
            except AuditUnavailable as exc:
                for waiting in batch:
                    if not waiting.future.done():
                        waiting.future.set_exception(AuditUnavailable(str(exc)))
                continue
            start = 0
            for waiting in batch:
                if not waiting.future.done():
                    waiting.future.set_result(records[start : start + len(waiting.entries)])
                start += len(waiting.entries)

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
        record.version, e.reason, e.acr, e.operation,
    )  # fmt: skip
