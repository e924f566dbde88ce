"""Where the audit trail is kept: SQLite by default, PostgreSQL when a DSN is set.

Both stores are append-only (database triggers refuse UPDATE, DELETE and, on
PostgreSQL, TRUNCATE) and fail closed: any failure raises `AuditUnavailable`, and
the caller must then not serve the data. Each append reads the head and inserts
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


def open_audit_store(settings: Settings, *, create: bool = True) -> AuditStore:
    """PostgreSQL when `HELSEGRAF_AUDIT_DSN` is set, else SQLite at `HELSEGRAF_AUDIT_PATH`."""
    if settings.audit_dsn is not None:
        return PostgresAuditStore(settings.audit_dsn.get_secret_value())
    return SqliteAuditStore(settings.audit_path, create=create)
