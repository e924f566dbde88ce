"""Trails written before version 2 of the record (no reason, login level or operation)
keep working: the gateway adds the columns and continues the chain; checking a trail
reads it as it is and changes nothing, its schema included."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import orjson
import pytest

from authz.audit import GENESIS, AuditRecord, format_time, seal, verify
from sources.audit import AuditStore, PostgresAuditStore, SqliteAuditStore
from tests.sources.test_audit_store import entry, postgres_dsn

# The schemas as the version 1 gateway created them, verbatim.
V1_SQLITE = """
CREATE TABLE IF NOT EXISTS audit_record (
    seq INTEGER PRIMARY KEY CHECK (seq > 0),
    at TEXT NOT NULL, request_id TEXT NOT NULL,
    actor TEXT NOT NULL, actor_kind TEXT NOT NULL, basis TEXT NOT NULL,
    subject TEXT NOT NULL, categories TEXT NOT NULL, resources TEXT NOT NULL,
    action TEXT NOT NULL, outcome TEXT NOT NULL, client_id TEXT,
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_record_subject_seq ON audit_record (subject, seq);
CREATE TRIGGER IF NOT EXISTS audit_record_no_update BEFORE UPDATE ON audit_record
BEGIN SELECT RAISE(ABORT, 'audit_record is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_record_no_delete BEFORE DELETE ON audit_record
BEGIN SELECT RAISE(ABORT, 'audit_record is append-only'); END;
"""
V1_POSTGRES = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.audit_record (
    seq bigint PRIMARY KEY CHECK (seq > 0),
    at timestamptz NOT NULL, request_id text NOT NULL,
    actor text NOT NULL, actor_kind text NOT NULL, basis text NOT NULL,
    subject text NOT NULL, categories text[] NOT NULL, resources text[] NOT NULL,
    action text NOT NULL, outcome text NOT NULL, client_id text,
    prev_hash char(64) NOT NULL, hash char(64) NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_record_subject_seq ON {s}.audit_record (subject, seq);
CREATE OR REPLACE FUNCTION {s}.audit_record_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN
    RAISE EXCEPTION 'audit_record is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE TRIGGER audit_record_no_change BEFORE UPDATE OR DELETE ON {s}.audit_record
    FOR EACH ROW EXECUTE FUNCTION {s}.audit_record_append_only();
CREATE OR REPLACE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON {s}.audit_record
    FOR EACH STATEMENT EXECUTE FUNCTION {s}.audit_record_append_only();
"""
V1_INSERT = (
    "INSERT INTO {table} (seq, at, request_id, actor, actor_kind, basis, subject, categories, "
    "resources, action, outcome, client_id, prev_hash, hash) VALUES ({marks})"
)

OLD = [entry(n) for n in range(1, 4)]
NEW = [
    entry(4, acr="idporten-loa-high", operation="sha256:" + "ab" * 32),
    entry(5, outcome="denied", reason="NO_RELATION", basis="NONE", acr="idporten-loa-high"),
]


def v1_records() -> list[AuditRecord]:
    return seal(OLD, 0, GENESIS, version=1)


def v1_row(record: AuditRecord, *, as_text: bool) -> tuple[Any, ...]:
    e = record.entry
    return (
        record.seq,
        format_time(e.at) if as_text else e.at,
        e.request_id, e.actor, e.actor_kind, e.basis, e.subject,
        orjson.dumps(e.categories).decode() if as_text else list(e.categories),
        orjson.dumps(e.resources).decode() if as_text else list(e.resources),
        e.action, e.outcome, e.client_id, record.prev_hash, record.hash,
    )  # fmt: skip


def old_sqlite_trail(path: Path) -> None:
    """A trail file exactly as the version 1 gateway left it."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(V1_SQLITE)
        conn.executemany(
            V1_INSERT.format(table="audit_record", marks=", ".join("?" * 14)),
            [v1_row(r, as_text=True) for r in v1_records()],
        )
    conn.close()


def sqlite_schema(path: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    finally:
        conn.close()


async def continued(store: AuditStore) -> list[AuditRecord]:
    """Append version 2 entries after the old records and read the whole trail back."""
    appended = await store.append(NEW)
    assert [r.version for r in appended] == [2, 2]
    return [r async for r in store.records()]


def assert_one_chain(records: Sequence[AuditRecord]) -> None:
    assert [r.version for r in records] == [1, 1, 1, 2, 2]
    assert [r.entry for r in records] == [*OLD, *NEW]
    assert verify(records, expected_head=(5, records[-1].hash)).ok


async def test_an_old_sqlite_trail_is_upgraded_and_continued(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    old_sqlite_trail(path)
    store = SqliteAuditStore(path)
    try:
        records = await continued(store)
    finally:
        await store.aclose()
    assert_one_chain(records)
    assert records[:3] == v1_records()
    with sqlite3.connect(path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(audit_record)")]
        with pytest.raises(sqlite3.Error, match="append-only"):
            conn.execute("UPDATE audit_record SET acr = 'x' WHERE seq = 4")
    conn.close()
    assert columns[-4:] == ["version", "reason", "acr", "operation"]


async def test_reading_an_old_sqlite_trail_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    old_sqlite_trail(path)
    before = sqlite_schema(path)
    store = SqliteAuditStore(path, read_only=True)
    try:
        records = [r async for r in store.records()]
        head = await store.head()
    finally:
        await store.aclose()
    assert records == v1_records()
    assert head == (3, records[-1].hash)
    assert sqlite_schema(path) == before


async def test_a_read_only_sqlite_store_never_creates_a_trail(tmp_path: Path) -> None:
    from sources.audit import AuditUnavailable

    store = SqliteAuditStore(tmp_path / "missing.sqlite3", read_only=True)
    try:
        with pytest.raises(AuditUnavailable):
            await store.head()
    finally:
        await store.aclose()
    assert await asyncio.to_thread(lambda: list(tmp_path.iterdir())) == []


# -- PostgreSQL ---------------------------------------------------------------------------


@pytest.fixture
async def old_pg_trail() -> AsyncIterator[tuple[str, str]]:
    """A schema holding a trail exactly as the version 1 gateway left it."""
    dsn = await postgres_dsn()
    schema = f"audit_v1_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(V1_POSTGRES.format(s=schema))
        marks = ", ".join(f"${i}" for i in range(1, 15))
        await conn.executemany(
            V1_INSERT.format(table=f"{schema}.audit_record", marks=marks),
            [v1_row(r, as_text=False) for r in v1_records()],
        )
        yield dsn, schema
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


async def pg_schema(dsn: str, schema: str) -> list[tuple[Any, ...]]:
    """Columns, indexes, triggers and functions of `schema`, as the catalog shows them."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            """
            SELECT 'column', column_name || ' ' || data_type || ' ' || is_nullable
                   || ' ' || coalesce(column_default, '')
            FROM information_schema.columns WHERE table_schema = $1
            UNION ALL
            SELECT 'index', indexdef FROM pg_indexes WHERE schemaname = $1
            UNION ALL
            SELECT 'trigger', pg_get_triggerdef(t.oid) FROM pg_trigger t
            JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND NOT t.tgisinternal
            UNION ALL
            SELECT 'function', p.proname || ' ' || md5(p.prosrc) || ' ' || p.xmin::text
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1
            ORDER BY 1, 2
            """,
            schema,
        )
        return [tuple(row) for row in rows]
    finally:
        await conn.close()


async def test_an_old_postgres_trail_is_upgraded_and_continued(
    old_pg_trail: tuple[str, str],
) -> None:
    dsn, schema = old_pg_trail
    store = PostgresAuditStore(dsn, schema=schema)
    try:
        records = await continued(store)
    finally:
        await store.aclose()
    assert_one_chain(records)
    assert records[:3] == v1_records()


async def test_reading_an_old_postgres_trail_changes_nothing(
    old_pg_trail: tuple[str, str],
) -> None:
    dsn, schema = old_pg_trail
    before = await pg_schema(dsn, schema)
    # sessions that refuse every write: a reader that tried DDL would fail here
    store = PostgresAuditStore(
        f"{dsn}?default_transaction_read_only=on", schema=schema, read_only=True
    )
    try:
        records = [r async for r in store.records()]
        head = await store.head()
    finally:
        await store.aclose()
    assert records == v1_records()
    assert head == (3, records[-1].hash)
    assert await pg_schema(dsn, schema) == before


async def test_reading_a_postgres_trail_never_recreates_a_dropped_trigger(
    old_pg_trail: tuple[str, str],
) -> None:
    """A trigger someone dropped stays dropped for the checker to report, not repaired."""
    dsn, schema = old_pg_trail
    writer = PostgresAuditStore(dsn, schema=schema)
    try:
        await writer.append(NEW)
    finally:
        await writer.aclose()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"DROP TRIGGER audit_record_no_truncate ON {schema}.audit_record")
    finally:
        await conn.close()
    before = await pg_schema(dsn, schema)
    reader = PostgresAuditStore(dsn, schema=schema, read_only=True)
    try:
        assert_one_chain([r async for r in reader.records()])
    finally:
        await reader.aclose()
    assert await pg_schema(dsn, schema) == before
    assert not any("audit_record_no_truncate" in str(row) for row in before)


async def test_a_replica_starting_on_an_upgraded_trail_waits_for_no_reader() -> None:
    """Every replica brings the schema up to date as it starts; once it is, starting must
    take no lock that waits for (and then blocks) the readers of the trail."""
    dsn = await postgres_dsn()
    schema = f"audit_start_{secrets.token_hex(6)}"
    first = PostgresAuditStore(dsn, schema=schema)
    reader = await asyncpg.connect(dsn)
    try:
        await first.append(NEW[:1])  # created, at the current version
        reading = reader.transaction()
        await reading.start()
        await reader.fetch(f"SELECT count(*) FROM {schema}.audit_record")  # noqa: S608
        starting = PostgresAuditStore(dsn, schema=schema, timeout_s=2)
        try:
            written = await starting.append(NEW[1:2])  # a replica's first request
        finally:
            await reading.rollback()
            await starting.aclose()
        assert [r.seq for r in written] == [2]
    finally:
        await first.aclose()
        await reader.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await reader.close()
