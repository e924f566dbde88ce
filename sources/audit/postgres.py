"""The audit trail in PostgreSQL, shared by every replica, append-only by trigger."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # no stubs published

from authz.audit import GENESIS, AuditEntry, AuditRecord, seal
from sources.audit.store import (
    _COLUMNS,
    _FIELDS,
    DEFAULT_TIMEOUT_S,
    AuditUnavailable,
    T,
    _record,
    _row,
    _Trail,
    select_list,
)
from sources.pg import SchemaPool, remaining_ms

_ADVISORY_LOCK = 0x68656C7365617564  # "helseaud"; xor-ed with the schema's crc32

# The columns after `hash` came with version 2; a table created before gets them here,
# its rows reading as version 1.
_POSTGRES_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.audit_record (
    seq bigint PRIMARY KEY CHECK (seq > 0),
    at timestamptz NOT NULL, request_id text NOT NULL,
    actor text NOT NULL, actor_kind text NOT NULL, basis text NOT NULL,
    subject text NOT NULL, categories text[] NOT NULL, resources text[] NOT NULL,
    action text NOT NULL, outcome text NOT NULL, client_id text,
    prev_hash char(64) NOT NULL, hash char(64) NOT NULL,
    version smallint NOT NULL DEFAULT 1, reason text, acr text, operation text
);
DO $$ BEGIN
    -- only when a column is missing: ALTER TABLE locks out every reader while it waits
    IF (SELECT count(*) FROM information_schema.columns
        WHERE table_schema = '{s}' AND table_name = 'audit_record'
          AND column_name IN ('version', 'reason', 'acr', 'operation')) < 4 THEN
        ALTER TABLE {s}.audit_record
            ADD COLUMN IF NOT EXISTS version smallint NOT NULL DEFAULT 1,
            ADD COLUMN IF NOT EXISTS reason text,
            ADD COLUMN IF NOT EXISTS acr text,
            ADD COLUMN IF NOT EXISTS operation text;
    END IF;
END $$;
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
    """The trail in PostgreSQL table `<schema>.audit_record`, shared by every replica.

    `read_only` runs no DDL and reads in sessions that refuse writes: a trail created
    before version 2 is read as it is.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "public",
        timeout_s: float = DEFAULT_TIMEOUT_S,
        read_only: bool = False,
    ) -> None:
        super().__init__(timeout_s)
        self._pg = SchemaPool(
            dsn,
            schema=schema,
            ddl=_POSTGRES_SCHEMA,
            lock=_ADVISORY_LOCK,
            timeout_s=timeout_s,
            read_only=read_only,
        )
        self._schema = schema
        self._table = f"{schema}.audit_record"
        self._select: str | None = None

    async def _call(
        self,
        operation: str,
        fn: Callable[..., Awaitable[T]],
        *args: Any,
        deadline: float | None = None,
    ) -> T:
        try:
            return await self._pg.run(fn, *args, deadline=deadline)
        except TimeoutError:
            raise self._late(operation) from None
        except Exception as exc:  # fail closed: whatever went wrong, the caller must stop
            raise AuditUnavailable(
                f"audit store (PostgreSQL) unavailable: {operation} failed ({type(exc).__name__})"
            ) from exc

    @property
    def lock_key(self) -> int:
        """The advisory lock every appender holds while it writes (`pg_locks` shows who
        holds the trail)."""
        return self._pg.lock_key

    async def _head_on(self, conn: asyncpg.Connection) -> tuple[int, str]:
        row = await conn.fetchrow(f"SELECT seq, hash FROM {self._table} ORDER BY seq DESC LIMIT 1")  # noqa: S608
        return (0, GENESIS) if row is None else (int(row["seq"]), str(row["hash"]))

    async def _locked(self, conn: asyncpg.Connection, deadline: float) -> None:
        """Take the trail's lock in the current transaction, held until it ends; the
        server gives up waiting at the deadline (`lock_timeout`) rather than holding a
        connection for an appender that has gone."""
        # a little before the deadline, so the server's refusal usually arrives first and
        # the connection goes back to the pool clean instead of being cancelled mid-call
        lock_ms = max(1, remaining_ms(deadline) - 50)
        await conn.execute(f"SET LOCAL lock_timeout = {lock_ms}")
        await conn.execute("SELECT pg_advisory_xact_lock($1)", self._pg.lock_key)
        if time.monotonic() >= deadline:  # whoever asked has stopped waiting
            raise TimeoutError("the trail's lock came after the deadline")

    async def _append_on(
        self, conn: asyncpg.Connection, entries: Sequence[AuditEntry], deadline: float
    ) -> list[AuditRecord]:
        async with conn.transaction():
            # Held until commit, so the next appender (any replica) reads our head.
            await self._locked(conn, deadline)
            records = seal(entries, *await self._head_on(conn))
            await conn.executemany(
                f"INSERT INTO {self._table} ({_FIELDS}) "  # noqa: S608
                f"VALUES ({', '.join(f'${i}' for i in range(1, len(_COLUMNS) + 1))})",
                [_row(r, as_text=False) for r in records],
            )
        return records

    async def _select_on(
        self, conn: asyncpg.Connection, subject: str | None, after: int, before: int, limit: int
    ) -> list[AuditRecord]:
        if self._select is None:
            present = await conn.fetch(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = $1 AND table_name = 'audit_record'",
                self._schema,
            )
            self._select = select_list({str(row[0]) for row in present})
        where = f"SELECT {self._select} FROM {self._table} WHERE seq > $1 AND seq < $2"  # noqa: S608
        if subject is None:
            rows = await conn.fetch(f"{where} ORDER BY seq LIMIT $3", after, before, limit)
        else:
            sql = f"{where} AND subject = $3 ORDER BY seq DESC LIMIT $4"
            rows = await conn.fetch(sql, after, before, subject, limit)
        return [_record(tuple(row)) for row in rows]

    async def _ping_on(self, conn: asyncpg.Connection, deadline: float) -> None:
        async with conn.transaction():
            await self._locked(conn, deadline)
            await conn.fetchval(f"SELECT count(*) FROM (SELECT 1 FROM {self._table} LIMIT 1) t")  # noqa: S608

    async def _write_batch(
        self, entries: Sequence[AuditEntry], deadline: float
    ) -> list[AuditRecord]:
        return await self._call("append", self._append_on, entries, deadline, deadline=deadline)

    async def _read(
        self, subject: str | None, *, after: int, before: int, limit: int
    ) -> list[AuditRecord]:
        return await self._call("read", self._select_on, subject, after, before, limit)

    async def head(self) -> tuple[int, str]:
        """The last record's seq and hash; `(0, GENESIS)` when the trail is empty."""
        return await self._call("read", self._head_on)

    async def ping(self) -> None:
        """Succeeds when the trail's lock could be taken now (within the deadline)."""
        deadline = self._deadline()
        await self._call("ping", self._ping_on, deadline, deadline=deadline)

    async def aclose(self) -> None:
        await self._pg.aclose()
