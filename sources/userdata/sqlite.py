"""The user-data store in one SQLite file (WAL), on one worker thread owning the connection."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from sources.sqlite_file import SqliteFile
from sources.userdata.crypto import NoteCipher
from sources.userdata.records import NoteRow, StoredSettings, UserdataUnavailable
from sources.userdata.store import UserdataStore

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS private_note (
    subject TEXT NOT NULL, note_id TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version > 0),
    sealed BLOB,  -- NULL: deleted (a tombstone keeping the request key)
    request_key TEXT NOT NULL, request_fp TEXT NOT NULL,
    PRIMARY KEY (subject, note_id),
    UNIQUE (subject, request_key)
);
CREATE INDEX IF NOT EXISTS private_note_newest ON private_note (subject, created_at);
CREATE TABLE IF NOT EXISTS notification_settings (
    subject TEXT PRIMARY KEY, data TEXT NOT NULL,
    updated_at TEXT NOT NULL, version INTEGER NOT NULL CHECK (version > 0)
);
"""
_NOTE = "subject, note_id, created_at, updated_at, version, sealed"


def _row(values: tuple[Any, ...]) -> NoteRow:
    subject, note_id, created, updated, version, sealed = values
    return NoteRow(
        subject,
        note_id,
        dt.datetime.fromisoformat(created),
        dt.datetime.fromisoformat(updated),
        int(version),
        None if sealed is None else bytes(sealed),
    )


class SqliteUserdataStore(UserdataStore):
    """Notes and settings in one SQLite file, created on first use."""

    def __init__(self, path: str | Path, cipher: NoteCipher) -> None:
        super().__init__(cipher)
        self._file = SqliteFile(path, _SCHEMA, thread_name="userdata-sqlite")

    async def _run(self, operation: str, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await self._file.run(fn, *args)
        except Exception as exc:
            raise UserdataUnavailable(operation, f"SQLite: {type(exc).__name__}") from exc

    # -- notes -------------------------------------------------------------------------

    def _select_sync(self, subject: str, note_id: str | None) -> list[NoteRow]:
        sql = f"SELECT {_NOTE} FROM private_note WHERE subject = ? AND sealed IS NOT NULL"  # noqa: S608
        if note_id is None:
            rows = self._file.connection().execute(
                sql + " ORDER BY created_at DESC, note_id DESC", (subject,)
            )
        else:
            rows = self._file.connection().execute(sql + " AND note_id = ?", (subject, note_id))
        return [_row(tuple(r)) for r in rows.fetchall()]

    def _insert_sync(self, row: NoteRow, key: str, fingerprint: str) -> tuple[NoteRow, str]:
        def insert(conn: sqlite3.Connection) -> tuple[NoteRow, str]:
            conn.execute(
                "INSERT INTO private_note "  # noqa: S608
                f"({_NOTE}, request_key, request_fp) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (subject, request_key) DO NOTHING",
                (
                    row.subject,
                    row.note_id,
                    row.created_at.isoformat(timespec="microseconds"),
                    row.updated_at.isoformat(timespec="microseconds"),
                    row.version,
                    row.sealed,
                    key,
                    fingerprint,
                ),
            )
            found = conn.execute(
                f"SELECT {_NOTE}, request_fp FROM private_note "  # noqa: S608
                "WHERE subject = ? AND request_key = ?",
                (row.subject, key),
            ).fetchone()
            return _row(tuple(found[:6])), str(found[6])

        return self._file.transaction(insert)

    def _replace_sync(
        self, subject: str, note_id: str, expected: int, sealed: bytes, at: dt.datetime
    ) -> NoteRow | None:
        def replace(conn: sqlite3.Connection) -> NoteRow | None:
            changed = conn.execute(
                "UPDATE private_note SET sealed = ?, updated_at = ?, version = version + 1 "
                "WHERE subject = ? AND note_id = ? AND version = ? AND sealed IS NOT NULL",
                (sealed, at.isoformat(timespec="microseconds"), subject, note_id, expected),
            ).rowcount
            if changed != 1:
                return None
            found = conn.execute(
                f"SELECT {_NOTE} FROM private_note WHERE subject = ? AND note_id = ?",  # noqa: S608
                (subject, note_id),
            ).fetchone()
            return _row(tuple(found))

        return self._file.transaction(replace)

    def _delete_sync(self, subject: str, note_id: str, expected: int) -> bool:
        deleted = (
            self._file.connection()
            .execute(
                "UPDATE private_note SET sealed = NULL, version = version + 1 "
                "WHERE subject = ? AND note_id = ? AND version = ? AND sealed IS NOT NULL",
                (subject, note_id, expected),
            )
            .rowcount
        )
        return bool(deleted == 1)

    async def _note_rows(self, subject: str, note_id: str | None) -> list[NoteRow]:
        return await self._run("read notes", self._select_sync, subject, note_id)

    async def _insert_note(
        self, row: NoteRow, request_key: str, request_fp: str
    ) -> tuple[NoteRow, str]:
        return await self._run("create note", self._insert_sync, row, request_key, request_fp)

    async def _replace_note(
        self, subject: str, note_id: str, expected_version: int, sealed: bytes, at: dt.datetime
    ) -> NoteRow | None:
        return await self._run(
            "update note", self._replace_sync, subject, note_id, expected_version, sealed, at
        )

    async def _delete_note(self, subject: str, note_id: str, expected_version: int) -> bool:
        return await self._run("delete note", self._delete_sync, subject, note_id, expected_version)

    # -- settings ----------------------------------------------------------------------

    def _settings_sync(self, subject: str) -> StoredSettings | None:
        found = (
            self._file.connection()
            .execute(
                "SELECT data, updated_at, version FROM notification_settings WHERE subject = ?",
                (subject,),
            )
            .fetchone()
        )
        if found is None:
            return None
        return StoredSettings(
            json.loads(found[0]), dt.datetime.fromisoformat(found[1]), int(found[2])
        )

    def _merge_sync(
        self, subject: str, changes: Mapping[str, Any], at: dt.datetime
    ) -> StoredSettings:
        def merge(conn: sqlite3.Connection) -> StoredSettings:
            current = self._settings_sync(subject)
            values = {**(current.values if current else {}), **changes}
            version = current.version + 1 if current else 1
            conn.execute(
                "INSERT INTO notification_settings (subject, data, updated_at, version) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (subject) DO UPDATE SET "
                "data = excluded.data, updated_at = excluded.updated_at, "
                "version = excluded.version",
                (
                    subject,
                    json.dumps(values, sort_keys=True),
                    at.isoformat(timespec="microseconds"),
                    version,
                ),
            )
            return StoredSettings(values, at, version)

        return self._file.transaction(merge)

    async def _settings_row(self, subject: str) -> StoredSettings | None:
        return await self._run("read settings", self._settings_sync, subject)

    async def _merge_settings(
        self, subject: str, changes: Mapping[str, Any], at: dt.datetime
    ) -> StoredSettings:
        return await self._run("change settings", self._merge_sync, subject, changes, at)

    async def aclose(self) -> None:
        await self._file.aclose()
