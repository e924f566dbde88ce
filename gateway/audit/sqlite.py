"""The audit trail in one SQLite file (WAL), append-only by trigger."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from authz.audit import GENESIS, AuditEntry, AuditRecord, seal
from gateway.audit.store import _FIELDS, AuditUnavailable, T, _record, _row, _Trail
from gateway.sqlite_file import SqliteFile

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


class SqliteAuditStore(_Trail):
    """The trail in one SQLite file (WAL), on one worker thread that owns the connection."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        super().__init__()
        # create=False: refuse a missing file instead of starting a new trail
        self._file = SqliteFile(
            path,
            _SQLITE_SCHEMA,
            thread_name="audit-sqlite",
            create=create,
            pragmas=("synchronous=FULL",),  # an audit record must survive a crash
        )

    async def _run(self, operation: str, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await self._file.run(fn, *args)
        except Exception as exc:  # fail closed: whatever went wrong, the caller must stop
            raise AuditUnavailable(
                f"audit store (SQLite) unavailable: {operation} failed ({type(exc).__name__})"
            ) from exc

    def _append_sync(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        def append(conn: sqlite3.Connection) -> list[AuditRecord]:
            last_seq, last_hash = self._head_sync()  # under the write lock
            records = seal(entries, last_seq, last_hash)
            conn.executemany(
                f"INSERT INTO audit_record ({_FIELDS}) VALUES ({', '.join('?' * 14)})",  # noqa: S608
                [_row(r, as_text=True) for r in records],
            )
            return records

        return self._file.transaction(append)

    def _head_sync(self) -> tuple[int, str]:
        row = (
            self._file.connection()
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
        return [_record(row) for row in self._file.connection().execute(sql, args).fetchall()]

    async def _write_batch(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        return await self._run("append", self._append_sync, entries)

    async def _read(
        self, subject: str | None, *, after: int, before: int, limit: int
    ) -> list[AuditRecord]:
        return await self._run("read", self._select_sync, subject, after, before, limit)

    async def head(self) -> tuple[int, str]:
        """The last record's seq and hash; `(0, GENESIS)` when the trail is empty."""
        return await self._run("read", self._head_sync)

    async def aclose(self) -> None:
        await self._file.aclose()
