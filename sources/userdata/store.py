"""The user-data store's contract and the logic both backends share.

Notes are keyed by an opaque subject key (`IdCodec.person_key`), never a national id.
The content (title, text, link, who wrote it) is sealed by `NoteCipher` before it reaches
a backend; a row that does not open for the subject asking is answered as absent and
logged by code only. Every note has a version; a change names the version it was based on
and loses (`StaleNote`) when another device wrote first. A create carries the caller's
scoped idempotency key: a retry returns the first note, even through another replica, and
the same key with other content is `KeyReused`.

Backends implement the `_`-prefixed primitives and raise `UserdataUnavailable` on any
failure of their database.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import secrets
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from sources.idempotency import KeyReused
from sources.userdata.crypto import NoteCipher, Unreadable
from sources.userdata.records import (
    Note,
    NoteContent,
    NoteNotFound,
    NoteRow,
    StaleNote,
    StoredSettings,
)

log = logging.getLogger("helsegraf.userdata")

UNREADABLE = "USERDATA_NOTE_UNREADABLE"  # the code logged for a row that does not open


def new_note_id() -> str:
    """A random note id (no meaning, no order)."""
    return "pn" + secrets.token_hex(8)


def utc(moment: dt.datetime) -> dt.datetime:
    """`moment` in UTC (stored and returned so by every backend)."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(dt.UTC)


def _dump(content: NoteContent, written_by: str, updated_by: str) -> bytes:
    body = {
        "title": content.title,
        "text": content.text,
        "link": content.link,
        "writtenBy": written_by,
        "updatedBy": updated_by,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _request(content: NoteContent) -> bytes:
    return json.dumps([content.title, content.text, content.link], ensure_ascii=False).encode()


class UserdataStore(ABC):
    """Private notes (encrypted) and notification settings of subjects."""

    def __init__(self, cipher: NoteCipher) -> None:
        self._cipher = cipher

    # -- backend primitives ------------------------------------------------------------

    @abstractmethod
    async def _note_rows(self, subject: str, note_id: str | None) -> list[NoteRow]:
        """The subject's rows (one, when `note_id` is given), newest created first."""

    @abstractmethod
    async def _insert_note(
        self, row: NoteRow, request_key: str, request_fp: str
    ) -> tuple[NoteRow, str]:
        """Insert `row` unless the subject has a row for `request_key`; that row (the new
        one or the earlier) and its request fingerprint."""

    @abstractmethod
    async def _replace_note(
        self, subject: str, note_id: str, expected_version: int, sealed: bytes, at: dt.datetime
    ) -> NoteRow | None:
        """Store new content when the row is still at `expected_version` (the version goes
        up by one); None when it is not (changed or gone)."""

    @abstractmethod
    async def _delete_note(self, subject: str, note_id: str, expected_version: int) -> bool:
        """Erase the row's content (sealed becomes NULL, the version goes up) when still
        at `expected_version`; False when it is not."""

    @abstractmethod
    async def _settings_row(self, subject: str) -> StoredSettings | None:
        """The subject's stored settings, None when nothing was ever changed."""

    @abstractmethod
    async def _merge_settings(
        self, subject: str, changes: Mapping[str, Any], at: dt.datetime
    ) -> StoredSettings:
        """Merge `changes` into the stored settings atomically; the result."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release connections."""

    # -- notes -------------------------------------------------------------------------

    def _open(self, row: NoteRow) -> Note | None:
        if row.sealed is None:
            return None  # deleted
        try:
            body = json.loads(self._cipher.open(row.subject, row.note_id, row.sealed))
        except (Unreadable, ValueError):
            log.warning("a private note did not open (%s)", UNREADABLE)
            return None
        return Note(
            id=row.note_id,
            content=NoteContent(text=body["text"], title=body["title"], link=body["link"]),
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
            written_by=body["writtenBy"],
            updated_by=body["updatedBy"],
        )

    async def notes(self, subject: str) -> list[Note]:
        """The subject's notes, newest first; unreadable rows are absent."""
        opened = (self._open(row) for row in await self._note_rows(subject, None))
        return [note for note in opened if note is not None]

    async def note(self, subject: str, note_id: str) -> Note | None:
        """One note of the subject, None when absent or unreadable."""
        rows = await self._note_rows(subject, note_id)
        return self._open(rows[0]) if rows else None

    async def create_note(
        self, subject: str, content: NoteContent, *, by: str, now: dt.datetime, request_key: str
    ) -> Note:
        """A new note (version 1); a repeated `request_key` returns the first note, or
        `NoteNotFound` when that note was deleted since."""
        note_id = new_note_id()
        sealed = self._cipher.seal(subject, note_id, _dump(content, by, by))
        row = NoteRow(subject, note_id, utc(now), utc(now), 1, sealed)
        fingerprint = self._cipher.fingerprint(subject, _request(content))
        stored, stored_fp = await self._insert_note(row, request_key, fingerprint)
        if not hmac.compare_digest(stored_fp, fingerprint):
            raise KeyReused()
        note = self._open(stored)
        if note is None:
            raise NoteNotFound()
        return note

    async def _current(self, subject: str, note_id: str, expected_version: int) -> Note:
        current = await self.note(subject, note_id)
        if current is None:
            raise NoteNotFound()
        if current.version != expected_version:
            raise StaleNote()
        return current

    async def _lost_race(self, subject: str, note_id: str) -> Exception:
        return StaleNote() if await self.note(subject, note_id) is not None else NoteNotFound()

    async def update_note(
        self,
        subject: str,
        note_id: str,
        content: NoteContent,
        *,
        expected_version: int,
        by: str,
        now: dt.datetime,
    ) -> Note:
        """Replace the content; `StaleNote` unless the note is still at `expected_version`."""
        current = await self._current(subject, note_id, expected_version)
        sealed = self._cipher.seal(subject, note_id, _dump(content, current.written_by, by))
        row = await self._replace_note(subject, note_id, expected_version, sealed, utc(now))
        if row is None:
            raise await self._lost_race(subject, note_id)
        note = self._open(row)
        if note is None:
            raise NoteNotFound()
        return note

    async def delete_note(self, subject: str, note_id: str, *, expected_version: int) -> None:
        """Delete the note (its content is erased; the row stays as a tombstone for the
        request key); `StaleNote` unless it is still at `expected_version`."""
        await self._current(subject, note_id, expected_version)
        if not await self._delete_note(subject, note_id, expected_version):
            raise await self._lost_race(subject, note_id)

    # -- settings ----------------------------------------------------------------------

    async def settings(self, subject: str) -> StoredSettings | None:
        """What the subject changed from the defaults; None when nothing."""
        return await self._settings_row(subject)

    async def change_settings(
        self, subject: str, changes: Mapping[str, Any], *, now: dt.datetime
    ) -> StoredSettings:
        """Merge `changes` (flat keys to JSON scalars) into the stored settings."""
        return await self._merge_settings(subject, dict(changes), utc(now))
