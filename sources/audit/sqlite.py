"""The audit trail in one SQLite file (WAL), append-only by trigger."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

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
from sources.sqlite_file import SqliteFile

_TABLE = """CREATE TABLE IF NOT EXISTS audit_record (
    seq INTEGER PRIMARY KEY CHECK (seq > 0),
    at TEXT NOT NULL, request_id TEXT NOT NULL,
    actor TEXT NOT NULL, actor_kind TEXT NOT NULL, basis TEXT NOT NULL,
    subject TEXT NOT NULL, categories TEXT NOT NULL, resources TEXT NOT NULL,
    action TEXT NOT NULL, outcome TEXT NOT NULL, client_id TEXT,
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1, reason TEXT, acr TEXT, operation TEXT
)"""
# Columns added by version 2, for a table created before it (rows so far: version 1).
_ADDED = {
    "version": "INTEGER NOT NULL DEFAULT 1",
    "reason": "TEXT",
    "acr": "TEXT",
    "operation": "TEXT",
}
_OBJECTS = {
    "audit_record_subject_seq": (
        "CREATE INDEX IF NOT EXISTS audit_record_subject_seq ON audit_record (subject, seq)"
    ),
    "audit_record_no_update": (
        "CREATE TRIGGER IF NOT EXISTS audit_record_no_update BEFORE UPDATE ON audit_record "
        "BEGIN SELECT RAISE(ABORT, 'audit_record is append-only'); END"
    ),
    "audit_record_no_delete": (
        "CREATE TRIGGER IF NOT EXISTS audit_record_no_delete BEFORE DELETE ON audit_record "
        "BEGIN SELECT RAISE(ABORT, 'audit_record is append-only'); END"
    ),
}


def _columns(conn: sqlite3.Connection) -> set[str]:
    return {str(row[1]) for row in conn.execute("PRAGMA table_info(audit_record)")}


def _missing(conn: sqlite3.Connection) -> bool:
    names = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master")}
    return (
        "audit_record" not in names
        or not set(_OBJECTS) <= names
        or bool(set(_ADDED) - _columns(conn))
    )


def _bring_up_to_date(conn: sqlite3.Connection) -> None:
    """Create the table, its index and triggers, and add the columns of version 2 to a
    trail created before it. Read first: a trail that needs nothing is not write-locked
    (a process starting while another holds the lock is not held up by it)."""
    if not _missing(conn):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(_TABLE)
        present = _columns(conn)
        for name, declaration in _ADDED.items():
            if name not in present:
                conn.execute(f"ALTER TABLE audit_record ADD COLUMN {name} {declaration}")
        for statement in _OBJECTS.values():
            conn.execute(statement)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


class SqliteAuditStore(_Trail):
    """The trail in one SQLite file (WAL), on one worker thread that owns the connection.

    `create=False` refuses a missing file instead of starting a new trail; `read_only`
    (implies `create=False`) opens it `mode=ro` and never changes it, not even its schema:
    a trail created before version 2 is read as it is.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        create: bool = True,
        read_only: bool = False,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        super().__init__(timeout_s)
        self._file = SqliteFile(
            path,
            _bring_up_to_date,
            thread_name="audit-sqlite",
            create=create,
            read_only=read_only,
            pragmas=("synchronous=FULL",),  # an audit record must survive a crash
            timeout_s=timeout_s,
        )
        self._select: str | None = None

    async def _run(
        self, operation: str, fn: Callable[..., T], *args: Any, deadline: float | None = None
    ) -> T:
        try:
            return await self._file.run(fn, *args, deadline=deadline)
        except TimeoutError:
            raise self._late(operation) from None
        except Exception as exc:  # fail closed: whatever went wrong, the caller must stop
            raise AuditUnavailable(
                f"audit store (SQLite) unavailable: {operation} failed ({type(exc).__name__})"
            ) from exc

    def _append_sync(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        def append(conn: sqlite3.Connection) -> list[AuditRecord]:
            last_seq, last_hash = self._head_sync()  # under the write lock
            records = seal(entries, last_seq, last_hash)
            conn.executemany(
                f"INSERT INTO audit_record ({_FIELDS}) "  # noqa: S608
                f"VALUES ({', '.join('?' * len(_COLUMNS))})",
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
        conn = self._file.connection()
        if self._select is None:
            self._select = select_list(_columns(conn))
        of_subject = subject is not None
        sql = (
            f"SELECT {self._select} FROM audit_record WHERE seq > ? AND seq < ?"  # noqa: S608
            + (" AND subject = ? ORDER BY seq DESC" if of_subject else " ORDER BY seq")
            + " LIMIT ?"
        )
        args = (after, before, subject, limit) if of_subject else (after, before, limit)
        return [_record(row) for row in conn.execute(sql, args).fetchall()]

    def _ping_sync(self) -> None:
        self._file.transaction(lambda conn: None)  # the write lock, taken and given back

    async def _write_batch(
        self, entries: Sequence[AuditEntry], deadline: float
    ) -> list[AuditRecord]:
        return await self._run("append", self._append_sync, entries, deadline=deadline)

    async def _read(
        self, subject: str | None, *, after: int, before: int, limit: int
    ) -> list[AuditRecord]:
        return await self._run("read", self._select_sync, subject, after, before, limit)

    async def head(self) -> tuple[int, str]:
        """The last record's seq and hash; `(0, GENESIS)` when the trail is empty."""
        return await self._run("read", self._head_sync)

    async def ping(self) -> None:
        """Succeeds when the write lock could be taken now (within the deadline)."""
        await self._run("ping", self._ping_sync)

    async def aclose(self) -> None:
        await self._file.aclose()
