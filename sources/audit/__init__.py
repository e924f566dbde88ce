"""Where the audit trail is kept: SQLite by default, PostgreSQL when a DSN is set (the
settings choose, in `gateway.stores`).

Both stores are append-only (database triggers refuse UPDATE, DELETE and, on
PostgreSQL, TRUNCATE) and fail closed: any failure raises `AuditUnavailable`, within
the store's deadline (`HELSEGRAF_AUDIT_TIMEOUT_S`), and the caller must then not
serve the data. Each append reads the head and inserts
inside one write-locked transaction, so the chain stays gapless even with several
processes (SQLite: `BEGIN IMMEDIATE`) or replicas (PostgreSQL: an advisory lock).
"""

from __future__ import annotations

from sources.audit.postgres import PostgresAuditStore
from sources.audit.sqlite import SqliteAuditStore
from sources.audit.store import PAGE, AuditStore, AuditUnavailable

__all__ = [
    "PAGE",
    "AuditStore",
    "AuditUnavailable",
    "PostgresAuditStore",
    "SqliteAuditStore",
]
