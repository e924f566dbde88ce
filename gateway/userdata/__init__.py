"""Data the gateway itself owns for a person: private notes and notification settings.

SQLite by default (`userdata.sqlite3` beside the audit file, or `HELSEGRAF_USERDATA_PATH`),
PostgreSQL when `HELSEGRAF_USERDATA_DSN` is set. Private notes are encrypted at rest
(AES-GCM, key from `HELSEGRAF_USERDATA_KEY` or the id secret, bound to subject and note).
"""

from __future__ import annotations

from pathlib import Path

from gateway.settings import Settings
from gateway.userdata.crypto import NoteCipher
from gateway.userdata.postgres import PostgresUserdataStore
from gateway.userdata.records import (
    Note,
    NoteContent,
    NoteNotFound,
    StaleNote,
    StoredSettings,
    UserdataUnavailable,
)
from gateway.userdata.sqlite import SqliteUserdataStore
from gateway.userdata.store import UserdataStore

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
    "open_userdata_store",
    "userdata_path",
]


def userdata_path(settings: Settings) -> Path:
    """`HELSEGRAF_USERDATA_PATH`, else `userdata.sqlite3` in the audit file's directory."""
    if settings.userdata_path is not None:
        return Path(settings.userdata_path)
    return Path(settings.audit_path).with_name("userdata.sqlite3")


def open_userdata_store(settings: Settings) -> UserdataStore:
    """PostgreSQL when `HELSEGRAF_USERDATA_DSN` is set, else SQLite; nothing is opened yet."""
    secret = (settings.userdata_key or settings.id_secret).get_secret_value().encode()
    cipher = NoteCipher(secret)
    if settings.userdata_dsn is not None:
        return PostgresUserdataStore(settings.userdata_dsn.get_secret_value(), cipher)
    return SqliteUserdataStore(userdata_path(settings), cipher)
