"""The audit trail in PostgreSQL, shared by every replica, append-only by trigger."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # no stubs published

from authz.audit import GENESIS, AuditEntry, AuditRecord, seal
from gateway.audit.store import _FIELDS, AuditUnavailable, T, _record, _row, _Trail
from gateway.pg import SchemaPool

_ADVISORY_LOCK = 0x68656C7365617564  # "helseaud"; xor-ed with the schema's crc32

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
        super().__init__()
        self._pg = SchemaPool(
            dsn, schema=schema, ddl=_POSTGRES_SCHEMA, lock=_ADVISORY_LOCK, timeout_s=timeout_s
        )
        self._table = f"{schema}.audit_record"

    async def _call(self, operation: str, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        try:
            return await self._pg.run(fn, *args)
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
            await conn.execute("SELECT pg_advisory_xact_lock($1)", self._pg.lock_key)
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

    async def _write_batch(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        return await self._call("append", self._append_on, entries)

    async def _read(
        self, subject: str | None, *, after: int, before: int, limit: int
    ) -> list[AuditRecord]:
        return await self._call("read", self._select_on, subject, after, before, limit)

    async def head(self) -> tuple[int, str]:
        """The last record's seq and hash; `(0, GENESIS)` when the trail is empty."""
        return await self._call("read", self._head_on)

    async def aclose(self) -> None:
        await self._pg.aclose()
