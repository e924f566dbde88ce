"""Where the audit trail is kept: SQLite by default, PostgreSQL when a DSN is set.

Both stores are append-only (database triggers refuse UPDATE, DELETE and, on
PostgreSQL, TRUNCATE) and fail closed: any failure raises `AuditUnavailable`, and
the caller must then not serve the data. Each append reads the head and inserts
inside one write-locked transaction, so the chain stays gapless even with several
processes (SQLite: `BEGIN IMMEDIATE`) or replicas (PostgreSQL: an advisory lock).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import sqlite3
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

import asyncpg  # type: ignore[import-untyped]  # no stubs published

from authz.audit import GENESIS, AuditEntry, AuditRecord, format_time, seal
from gateway.settings import Settings

T = TypeVar("T")

PAGE = 1000  # records per round trip when streaming the whole trail
_FIELDS = (
    "seq, at, request_id, actor, actor_kind, basis, subject, categories, resources, "
    "action, outcome, client_id, prev_hash, hash"
)
_MAX_SEQ = 2**62
_ADVISORY_LOCK = 0x68656C7365617564  # "helseaud"; xor-ed with the schema's crc32


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
        categories=tuple(json.loads(cats) if isinstance(cats, str) else cats),
        resources=tuple(json.loads(res) if isinstance(res, str) else res),
        action=action,
        outcome=outcome,
        client_id=client_id,
    )
    return AuditRecord(entry=entry, seq=seq, prev_hash=prev_hash, hash=digest)


class _Trail:
    """The public reads and appends of both stores, over the primitives each implements."""

    async def _write(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        raise NotImplementedError

    async def _read(
        self, subject: str | None, *, after: int, before: int, limit: int
    ) -> list[AuditRecord]:
        """Up to `limit` records with `after < seq < before`; of `subject`, newest first."""
        raise NotImplementedError

    async def append(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        """Seal and store `entries` atomically (all or none); raise `AuditUnavailable`."""
        return await self._write(entries) if entries else []

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
    cats: Any = json.dumps(list(e.categories)) if as_text else list(e.categories)
    res: Any = json.dumps(list(e.resources)) if as_text else list(e.resources)
    return (
        record.seq, at, e.request_id, e.actor, e.actor_kind, e.basis, e.subject, cats, res,
        e.action, e.outcome, e.client_id, record.prev_hash, record.hash,
    )  # fmt: skip


_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_record (
    seq INTEGER PRIMARY KEY CHECK (seq > 0),
    at TEXT NOT NULL, request_id TEXT NOT NULL,
    actor TEXT NOT NULL, actor_kind TEXT NOT NULL, basis TEXT NOT NULL,
    subject TEXT NOT NULL, categories TEXT NOT NULL, resources TEXT NOT NULL,
    action TEXT NOT NULL, outcome TEXT NOT NULL, client_id TEXT,
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_record_subject_seq ON audit_record (subject, seq);
CREATE TRIGGER IF NOT EXISTS audit_record_no_update BEFORE UPDATE ON audit_record
BEGIN SELECT RAISE(ABORT, 'audit_record is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_record_no_delete BEFORE DELETE ON audit_record
BEGIN SELECT RAISE(ABORT, 'audit_record is append-only'); END;
"""


def _enable_wal(conn: sqlite3.Connection, attempts: int = 100) -> None:
    # Switching to WAL reports "locked" at once, without the busy timeout, while another
    # connection (another process starting at the same moment) has the file open.
    for attempt in range(1, attempts + 1):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == attempts:
                raise
            time.sleep(0.05)


class SqliteAuditStore(_Trail):
    """The trail in one SQLite file (WAL), on one worker thread that owns the connection."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self._path = Path(path)
        self._create = create  # False: refuse a missing file instead of starting a new trail
        self._conn: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-sqlite")
        self._append_lock = asyncio.Lock()

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            if self._create:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self._path, isolation_level=None, timeout=10)
            else:
                uri = f"{self._path.resolve().as_uri()}?mode=rw"
                conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=10)
            try:
                _enable_wal(conn)
                conn.execute("PRAGMA synchronous=FULL")  # an audit record must survive a crash
                conn.executescript(_SQLITE_SCHEMA)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    async def _run(self, operation: str, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._thread, fn, *args)
        except Exception as exc:  # fail closed: whatever went wrong, the caller must stop
            raise AuditUnavailable(
                f"audit store (SQLite) unavailable: {operation} failed ({type(exc).__name__})"
            ) from exc

    def _append_sync(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")  # takes the write lock before the head is read
        try:
            last_seq, last_hash = self._head_sync()
            records = seal(entries, last_seq, last_hash)
            conn.executemany(
                f"INSERT INTO audit_record ({_FIELDS}) VALUES ({', '.join('?' * 14)})",  # noqa: S608
                [_row(r, as_text=True) for r in records],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return records

    def _head_sync(self) -> tuple[int, str]:
        row = (
            self._connect()
            .execute("SELECT seq, hash FROM audit_record ORDER BY seq DESC LIMIT 1")
            .fetchone()
        )
        return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))

    def _select_sync(
        self, subject: str | None, after: int, before: int, limit: int
    ) -> list[AuditRecord]:
        of_subject = subject is not None
        sql = (
            f"SELECT {_FIELDS} FROM audit_record WHERE seq > ? AND seq < ?"  # noqa: S608
            + (" AND subject = ? ORDER BY seq DESC" if of_subject else " ORDER BY seq")
            + " LIMIT ?"
        )
        args = (after, before, subject, limit) if of_subject else (after, before, limit)
        return [_record(row) for row in self._connect().execute(sql, args).fetchall()]

    async def _write(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        async with self._append_lock:
            return await self._run("append", self._append_sync, entries)

    async def _read(
        self, subject: str | None, *, after: int, before: int, limit: int
    ) -> list[AuditRecord]:
        return await self._run("read", self._select_sync, subject, after, before, limit)

    async def head(self) -> tuple[int, str]:
        """The last record's seq and hash; `(0, GENESIS)` when the trail is empty."""
        return await self._run("read", self._head_sync)

    def _close_sync(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def aclose(self) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._close_sync)
        finally:
            self._thread.shutdown(wait=False)


_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")

_POSTGRES_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.audit_record (
    seq bigint PRIMARY KEY CHECK (seq > 0),
    at timestamptz NOT NULL, request_id text NOT NULL,
    actor text NOT NULL, actor_kind text NOT NULL, basis text NOT NULL,
    subject text NOT NULL, categories text[] NOT NULL, resources text[] NOT NULL,
    action text NOT NULL, outcome text NOT NULL, client_id text,
    prev_hash char(64) NOT NULL, hash char(64) NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_record_subject_seq ON {s}.audit_record (subject, seq);
CREATE OR REPLACE FUNCTION {s}.audit_record_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN
    RAISE EXCEPTION 'audit_record is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE TRIGGER audit_record_no_change BEFORE UPDATE OR DELETE ON {s}.audit_record
    FOR EACH ROW EXECUTE FUNCTION {s}.audit_record_append_only();
CREATE OR REPLACE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON {s}.audit_record
    FOR EACH STATEMENT EXECUTE FUNCTION {s}.audit_record_append_only();
"""


class PostgresAuditStore(_Trail):
    """The trail in PostgreSQL table `<schema>.audit_record`, shared by every replica."""

    def __init__(self, dsn: str, *, schema: str = "public", timeout_s: float = 5.0) -> None:
        if not _IDENTIFIER.fullmatch(schema):
            raise ValueError(f"audit schema {schema!r} is not a lowercase SQL identifier")
        self._dsn = dsn
        self._schema = schema
        self._table = f"{schema}.audit_record"
        self._timeout_s = timeout_s
        self._lock_key = _ADVISORY_LOCK ^ zlib.crc32(schema.encode())
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()

    async def _get_pool(self) -> asyncpg.Pool:
        async with self._pool_lock:
            if self._pool is None:
                pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=1,
                    max_size=5,
                    timeout=self._timeout_s,
                    command_timeout=self._timeout_s,
                )
                try:
                    async with pool.acquire() as conn, conn.transaction():
                        # replicas starting together must not race on CREATE ... IF NOT EXISTS
                        await conn.execute("SELECT pg_advisory_xact_lock($1)", self._lock_key)
                        await conn.execute(_POSTGRES_SCHEMA.format(s=self._schema))
                except BaseException:
                    await pool.close()
                    raise
                self._pool = pool
            return self._pool

    async def _call(self, operation: str, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        try:
            pool = await self._get_pool()
            async with pool.acquire(timeout=self._timeout_s) as conn:
                return await fn(conn, *args)
        except Exception as exc:  # fail closed: whatever went wrong, the caller must stop
            raise AuditUnavailable(
                f"audit store (PostgreSQL) unavailable: {operation} failed ({type(exc).__name__})"
            ) from exc

    async def _head_on(self, conn: asyncpg.Connection) -> tuple[int, str]:
        row = await conn.fetchrow(f"SELECT seq, hash FROM {self._table} ORDER BY seq DESC LIMIT 1")  # noqa: S608
        return (0, GENESIS) if row is None else (int(row["seq"]), str(row["hash"]))

    async def _append_on(
        self, conn: asyncpg.Connection, entries: Sequence[AuditEntry]
    ) -> list[AuditRecord]:
        async with conn.transaction():
            # Held until commit, so the next appender (any replica) reads our head.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", self._lock_key)
            records = seal(entries, *await self._head_on(conn))
            await conn.executemany(
                f"INSERT INTO {self._table} ({_FIELDS}) "  # noqa: S608
                f"VALUES ({', '.join(f'${i}' for i in range(1, 15))})",
                [_row(r, as_text=False) for r in records],
            )
        return records

    async def _select_on(
        self, conn: asyncpg.Connection, subject: str | None, after: int, before: int, limit: int
    ) -> list[AuditRecord]:
        where = f"SELECT {_FIELDS} FROM {self._table} WHERE seq > $1 AND seq < $2"  # noqa: S608
        if subject is None:
            rows = await conn.fetch(f"{where} ORDER BY seq LIMIT $3", after, before, limit)
        else:
            sql = f"{where} AND subject = $3 ORDER BY seq DESC LIMIT $4"
            rows = await conn.fetch(sql, after, before, subject, limit)
        return [_record(tuple(row)) for row in rows]

    async def _write(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        return await self._call("append", self._append_on, entries)

    async def _read(
        self, subject: str | None, *, after: int, before: int, limit: int
    ) -> list[AuditRecord]:
        return await self._call("read", self._select_on, subject, after, before, limit)

    async def head(self) -> tuple[int, str]:
        """The last record's seq and hash; `(0, GENESIS)` when the trail is empty."""
        return await self._call("read", self._head_on)

    async def aclose(self) -> None:
        async with self._pool_lock:
            if self._pool is not None:
                await self._pool.close()
                self._pool = None


def open_audit_store(settings: Settings, *, create: bool = True) -> AuditStore:
    """PostgreSQL when `HELSEGRAF_AUDIT_DSN` is set, else SQLite at `HELSEGRAF_AUDIT_PATH`."""
    if settings.audit_dsn is not None:
        return PostgresAuditStore(settings.audit_dsn.get_secret_value())
    return SqliteAuditStore(settings.audit_path, create=create)
