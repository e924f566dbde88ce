"""What the user-data store holds and answers: private notes, notification settings, and
the failures a caller can act on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sources.errors import UpstreamUnavailable

SOURCE = "USERDATA"


class UserdataUnavailable(UpstreamUnavailable):
    """The store could not be read or written; the message names the operation only."""

    def __init__(self, operation: str, detail: str = "") -> None:
        super().__init__(SOURCE, operation, detail)


class NoteNotFound(Exception):
    """No such note for this subject (absent, deleted, or unreadable: never told apart)."""


class StaleNote(Exception):
    """The note changed since the version the caller read (another device wrote first)."""


@dataclass(frozen=True, slots=True)
class NoteContent:
    """What the person writes: everything here is encrypted at rest."""

    text: str
    title: str | None = None
    link: str | None = None  # a global id of another entity of the same person


@dataclass(frozen=True, slots=True)
class Note:
    """A private note as read back (decrypted).

    `written_by` and `updated_by` are access bases (`SELF`, `PROXY`, `PARTNER`), never
    names.
    """

    id: str
    content: NoteContent
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    written_by: str
    updated_by: str


@dataclass(frozen=True, slots=True)
class StoredSettings:
    """The preferences a person changed from the defaults (flat keys), and when."""

    values: dict[str, Any]
    updated_at: dt.datetime
    version: int


@dataclass(frozen=True, slots=True)
class NoteRow:
    """A note as stored: plaintext bookkeeping, the content sealed; `sealed` is None once
    the note was deleted (the row stays as a tombstone, so a retried create that made it
    never makes a second note)."""

    subject: str
    note_id: str
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    sealed: bytes | None
