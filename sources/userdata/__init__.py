"""Data the gateway itself owns for a person: private notes and notification settings.

SQLite by default (`userdata.sqlite3` beside the audit file, or `HELSEGRAF_USERDATA_PATH`),
PostgreSQL when `HELSEGRAF_USERDATA_DSN` is set (the settings choose, in
`gateway.stores`). Private notes are encrypted at rest
(AES-GCM, key from `HELSEGRAF_USERDATA_KEY` or the id secret, bound to subject and note).
"""

from __future__ import annotations

from sources.userdata.crypto import NoteCipher
from sources.userdata.postgres import PostgresUserdataStore
from sources.userdata.records import (
    Note,
    NoteContent,
    NoteNotFound,
    StaleNote,
    StoredSettings,
    UserdataUnavailable,
)
from sources.userdata.sqlite import SqliteUserdataStore
from sources.userdata.store import UserdataStore

__all__ = [
    "Note",
    "NoteCipher",
    "NoteContent",
    "NoteNotFound",
    "PostgresUserdataStore",
    "SqliteUserdataStore",
    "StaleNote",
    "StoredSettings",
    "UserdataStore",
    "UserdataUnavailable",
]
