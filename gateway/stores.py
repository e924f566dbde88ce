"""The stores the settings name: which audit trail and user-data store this process opens.

The stores themselves live in `sources/` (`sources.audit`, `sources.userdata`) and take
plain values; reading `Settings` stays here, in the composition root.
"""

from __future__ import annotations

from pathlib import Path

from gateway.settings import Settings
from sources.audit import AuditStore, PostgresAuditStore, SqliteAuditStore
from sources.userdata import (
    NoteCipher,
    PostgresUserdataStore,
    SqliteUserdataStore,
    UserdataStore,
)

__all__ = ["open_audit_store", "open_userdata_store", "userdata_path"]


def open_audit_store(settings: Settings, *, read_only: bool = False) -> AuditStore:
    """PostgreSQL when `HELSEGRAF_AUDIT_DSN` is set, else SQLite at `HELSEGRAF_AUDIT_PATH`;
    every operation bounded by `HELSEGRAF_AUDIT_TIMEOUT_S`. `read_only`: for what only
    reads the trail (`helsegraf audit`): a missing trail is an error, and nothing about
    the trail is created or changed, its schema included."""
    timeout_s = settings.audit_timeout_s
    if settings.audit_dsn is not None:
        dsn = settings.audit_dsn.get_secret_value()
        return PostgresAuditStore(dsn, timeout_s=timeout_s, read_only=read_only)
    return SqliteAuditStore(settings.audit_path, read_only=read_only, timeout_s=timeout_s)


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
