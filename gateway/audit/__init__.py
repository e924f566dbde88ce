"""Where the audit trail is kept: SQLite by default, PostgreSQL when a DSN is set.

Both stores are append-only (database triggers refuse UPDATE, DELETE and, on
PostgreSQL, TRUNCATE) and fail closed: any failure raises `AuditUnavailable`, within
the store's deadline (`HELSEGRAF_AUDIT_TIMEOUT_S`), and the caller must then not
serve the data. Each append reads the head and inserts
inside one write-locked transaction, so the chain stays gapless even with several
processes (SQLite: `BEGIN IMMEDIATE`) or replicas (PostgreSQL: an advisory lock).
"""

from __future__ import annotations

from gateway.audit.postgres import PostgresAuditStore
from gateway.audit.sqlite import SqliteAuditStore
from gateway.audit.store import PAGE, AuditStore, AuditUnavailable
from gateway.settings import Settings

__all__ = [
    "PAGE",
    "AuditStore",
    "AuditUnavailable",
    "PostgresAuditStore",
    "SqliteAuditStore",
    "open_audit_store",
]


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
