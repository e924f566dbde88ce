"""The audit trail in one SQLite file (WAL), append-only by trigger."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from authz.audit import GENESIS, AuditEntry, AuditRecord, seal
from gateway.audit.store import _FIELDS, AuditUnavailable, T, _record, _row, _Trail

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
        super().__init__()
        self._path = Path(path)
        self._create = create  # False: refuse a missing file instead of starting a new trail
        self._conn: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-sqlite")

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

    async def _write_batch(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
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
