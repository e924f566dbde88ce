"""The user-data store in PostgreSQL, shared by every replica."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]  # no stubs published

from sources.pg import SchemaPool
from sources.userdata.crypto import NoteCipher
from sources.userdata.records import NoteRow, StoredSettings, UserdataUnavailable
from sources.userdata.store import UserdataStore

T = TypeVar("T")

_ADVISORY_LOCK = 0x68656C7365757364  # "helseusd"; xor-ed with the schema's crc32
_NOTE = "subject, note_id, created_at, updated_at, version, sealed"

_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.private_note (
    subject text NOT NULL, note_id text NOT NULL,
    created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
    version integer NOT NULL CHECK (version > 0),
    sealed bytea,  -- NULL: deleted (a tombstone keeping the request key)
    request_key text NOT NULL, request_fp text NOT NULL,
    PRIMARY KEY (subject, note_id),
    UNIQUE (subject, request_key)
);
CREATE INDEX IF NOT EXISTS private_note_newest ON {s}.private_note (subject, created_at);
CREATE TABLE IF NOT EXISTS {s}.notification_settings (
    subject text PRIMARY KEY, data jsonb NOT NULL,
    updated_at timestamptz NOT NULL, version integer NOT NULL CHECK (version > 0)
);
"""


def _row(record: Any) -> NoteRow:
    return NoteRow(
        str(record["subject"]),
        str(record["note_id"]),
        record["created_at"],
        record["updated_at"],
        int(record["version"]),
        None if record["sealed"] is None else bytes(record["sealed"]),
    )


def _settings(record: Any) -> StoredSettings:
    return StoredSettings(json.loads(record["data"]), record["updated_at"], int(record["version"]))


class PostgresUserdataStore(UserdataStore):
    """Notes and settings in `<schema>.private_note` and `<schema>.notification_settings`."""

    def __init__(
        self, dsn: str, cipher: NoteCipher, *, schema: str = "public", timeout_s: float = 5.0
    ) -> None:
        super().__init__(cipher)
        self._pg = SchemaPool(
            dsn, schema=schema, ddl=_SCHEMA, lock=_ADVISORY_LOCK, timeout_s=timeout_s
        )
        self._notes = f"{schema}.private_note"
        self._prefs = f"{schema}.notification_settings"

    async def _call(self, operation: str, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        try:
            return await self._pg.run(fn, *args)
        except Exception as exc:
            raise UserdataUnavailable(operation, f"PostgreSQL: {type(exc).__name__}") from exc

    # -- notes -------------------------------------------------------------------------

    async def _select_on(
        self, conn: asyncpg.Connection, subject: str, note_id: str | None
    ) -> list[NoteRow]:
        sql = f"SELECT {_NOTE} FROM {self._notes} WHERE subject = $1 AND sealed IS NOT NULL"  # noqa: S608
        if note_id is None:
            rows = await conn.fetch(sql + " ORDER BY created_at DESC, note_id DESC", subject)
        else:
            rows = await conn.fetch(sql + " AND note_id = $2", subject, note_id)
        return [_row(r) for r in rows]

    async def _insert_on(
        self, conn: asyncpg.Connection, row: NoteRow, key: str, fingerprint: str
    ) -> tuple[NoteRow, str]:
        async with conn.transaction():
            await conn.execute(
                f"INSERT INTO {self._notes} ({_NOTE}, request_key, request_fp) "  # noqa: S608
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                "ON CONFLICT (subject, request_key) DO NOTHING",
                row.subject,
                row.note_id,
                row.created_at,
                row.updated_at,
                row.version,
                row.sealed,
                key,
                fingerprint,
            )
            found = await conn.fetchrow(
                f"SELECT {_NOTE}, request_fp FROM {self._notes} "  # noqa: S608
                "WHERE subject = $1 AND request_key = $2",
                row.subject,
                key,
            )
        return _row(found), str(found["request_fp"])

    async def _replace_on(
        self,
        conn: asyncpg.Connection,
        subject: str,
        note_id: str,
        expected: int,
        sealed: bytes,
        at: dt.datetime,
    ) -> NoteRow | None:
        found = await conn.fetchrow(
            f"UPDATE {self._notes} SET sealed = $1, updated_at = $2, "  # noqa: S608
            "version = version + 1 WHERE subject = $3 AND note_id = $4 AND version = $5 "
            "AND sealed IS NOT NULL "
            f"RETURNING {_NOTE}",
            sealed,
            at,
            subject,
            note_id,
            expected,
        )
        return None if found is None else _row(found)

    async def _delete_on(
        self, conn: asyncpg.Connection, subject: str, note_id: str, expected: int
    ) -> bool:
        found = await conn.fetchrow(
            f"UPDATE {self._notes} SET sealed = NULL, version = version + 1 "  # noqa: S608
            "WHERE subject = $1 AND note_id = $2 AND version = $3 AND sealed IS NOT NULL "
            "RETURNING note_id",
            subject,
            note_id,
            expected,
        )
        return found is not None

    async def _note_rows(self, subject: str, note_id: str | None) -> list[NoteRow]:
        return await self._call("read notes", self._select_on, subject, note_id)

    async def _insert_note(
        self, row: NoteRow, request_key: str, request_fp: str
    ) -> tuple[NoteRow, str]:
        return await self._call("create note", self._insert_on, row, request_key, request_fp)

    async def _replace_note(
        self, subject: str, note_id: str, expected_version: int, sealed: bytes, at: dt.datetime
    ) -> NoteRow | None:
        return await self._call(
            "update note", self._replace_on, subject, note_id, expected_version, sealed, at
        )

    async def _delete_note(self, subject: str, note_id: str, expected_version: int) -> bool:
        return await self._call("delete note", self._delete_on, subject, note_id, expected_version)

    # -- settings ----------------------------------------------------------------------

    async def _settings_on(self, conn: asyncpg.Connection, subject: str) -> StoredSettings | None:
        found = await conn.fetchrow(
            f"SELECT data, updated_at, version FROM {self._prefs} WHERE subject = $1",  # noqa: S608
            subject,
        )
        return None if found is None else _settings(found)

    async def _merge_on(
        self, conn: asyncpg.Connection, subject: str, changes: Mapping[str, Any], at: dt.datetime
    ) -> StoredSettings:
        found = await conn.fetchrow(
            f"INSERT INTO {self._prefs} AS s (subject, data, updated_at, version) "  # noqa: S608
            "VALUES ($1, $2::jsonb, $3, 1) ON CONFLICT (subject) DO UPDATE SET "
            "data = s.data || EXCLUDED.data, updated_at = EXCLUDED.updated_at, "
            "version = s.version + 1 RETURNING data, updated_at, version",
            subject,
            json.dumps(dict(changes), sort_keys=True),
            at,
        )
        return _settings(found)

    async def _settings_row(self, subject: str) -> StoredSettings | None:
        return await self._call("read settings", self._settings_on, subject)

    async def _merge_settings(
        self, subject: str, changes: Mapping[str, Any], at: dt.datetime
    ) -> StoredSettings:
        return await self._call("change settings", self._merge_on, subject, changes, at)

    async def aclose(self) -> None:
        await self._pg.aclose()
