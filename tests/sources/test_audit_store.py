"""Both audit stores, SQLite and the real PostgreSQL server, held to one contract."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import secrets
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import NoReturn

import asyncpg  # type: ignore[import-untyped]
import pytest

from authz.audit import GENESIS, AuditEntry, AuditRecord, verify
from sources.audit import (
    PAGE,
    AuditStore,
    AuditUnavailable,
    PostgresAuditStore,
    SqliteAuditStore,
)

PG_ADDRESS = "127.0.0.1:5432"
PG_USERS = ("postgres", "root")
ACTOR = "01010012345"
SUBJECT = "02020054321"
OTHER = "03030098765"
AT = dt.datetime(2026, 11, 23, 9, 30, 0, 123456, tzinfo=dt.UTC)


def postgres_unreachable(reason: str) -> NoReturn:
    """Skip when the PostgreSQL server is not there, but fail under CI, which must run it."""
    message = f"PostgreSQL not reachable at {PG_ADDRESS}: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


async def postgres_dsn() -> str:
    """A superuser DSN for the local test database (trust auth; `postgres`, else `root`)."""
    reasons = []
    for user in PG_USERS:
        dsn = f"postgresql://{user}@{PG_ADDRESS}/test"
        try:
            conn = await asyncpg.connect(dsn, timeout=5)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            reasons.append(f"{user}: {type(exc).__name__}: {exc}")
            continue
        await conn.close()
        return dsn
    postgres_unreachable("; ".join(reasons))


def entry(n: int, subject: str = SUBJECT, **changes: object) -> AuditEntry:
    base = AuditEntry(
        at=AT + dt.timedelta(milliseconds=n),
        request_id=f"req-{n}",
        actor=ACTOR,
        actor_kind="citizen",
        basis="PARENT",
        subject=subject,
        categories=("observations", "medications"),
        resources=(f"EHR/Observation/{n}", f"EHR/MedicationStatement/{n}"),
        action="read",
        outcome="success",
        client_id="helsenorge-app",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@dataclasses.dataclass
class Backend:
    """One store under test plus raw access to its database, bypassing the store."""

    name: str
    store: AuditStore
    new_store: Callable[[], AuditStore]  # another instance on the same trail: a "replica"
    execute: Callable[[str], Awaitable[None]]  # raw SQL, triggers in force
    tamper: Callable[[str], Awaitable[None]]  # raw SQL with the triggers bypassed
    table: str

    async def all_records(self) -> list[AuditRecord]:
        return [record async for record in self.store.records()]


async def _sqlite(tmp_path: Path) -> AsyncIterator[Backend]:
    path = tmp_path / "audit" / "trail.sqlite3"

    async def execute(sql: str) -> None:
        with sqlite3.connect(path) as conn:
            conn.execute(sql)

    async def tamper(sql: str) -> None:
        with sqlite3.connect(path) as conn:
            conn.execute("DROP TRIGGER audit_record_no_update")
            conn.execute(sql)

    store = SqliteAuditStore(path)
    yield Backend("sqlite", store, lambda: SqliteAuditStore(path), execute, tamper, "audit_record")
    await store.aclose()


async def _postgres() -> AsyncIterator[Backend]:
    dsn = await postgres_dsn()
    schema = f"audit_test_{secrets.token_hex(6)}"
    table = f"{schema}.audit_record"

    async def execute(sql: str) -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def tamper(sql: str) -> None:
        await execute(
            f"ALTER TABLE {table} DISABLE TRIGGER ALL; {sql}; "
            f"ALTER TABLE {table} ENABLE TRIGGER ALL"
        )

    store = PostgresAuditStore(dsn, schema=schema)
    try:
        yield Backend(
            "postgres",
            store,
            lambda: PostgresAuditStore(dsn, schema=schema),
            execute,
            tamper,
            table,
        )
    finally:
        await store.aclose()
        await execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """Each test on a fresh trail: a new SQLite file, or a new PostgreSQL schema."""
    backends = _sqlite(tmp_path) if request.param == "sqlite" else _postgres()
    async for created in backends:
        yield created


@pytest.fixture
async def postgres() -> AsyncIterator[Backend]:
    """A fresh PostgreSQL trail, for what only PostgreSQL does."""
    async for created in _postgres():
        yield created


async def test_an_empty_trail_has_the_genesis_head(backend: Backend) -> None:
    assert await backend.store.head() == (0, GENESIS)
    assert await backend.all_records() == []
    assert await backend.store.for_subject(SUBJECT) == []


async def test_appended_entries_come_back_unchanged_in_a_valid_chain(backend: Backend) -> None:
    oslo = dt.timezone(dt.timedelta(hours=1))
    entries = [
        entry(1),
        entry(2, at=dt.datetime(2026, 11, 23, 10, 0, 0, 1, tzinfo=oslo), client_id=None),
        entry(3, categories=(), resources=(), outcome="denied", basis="PROXY"),
        entry(4, request_id="rød-æøå-🙂", action="write", actor_kind="partner"),
    ]
    sealed = await backend.store.append(entries[:1])
    sealed += await backend.store.append(entries[1:])
    assert [r.seq for r in sealed] == [1, 2, 3, 4]
    stored = await backend.all_records()
    assert stored == sealed
    assert [r.entry for r in stored] == entries
    assert await backend.store.head() == (4, sealed[-1].hash)
    assert verify(stored, expected_head=await backend.store.head()).ok


async def test_reasons_login_levels_and_operations_come_back_unchanged(
    backend: Backend,
) -> None:
    entries = [
        entry(1, acr="idporten-loa-high", operation="sha256:" + "0f" * 32),
        entry(2, outcome="denied", reason="MANDATE_EXPIRED", basis="NONE", subject="key:AbC_-1"),
        entry(3, outcome="denied", reason="FORGED_ID", acr="idporten-loa-substantial"),
    ]
    sealed = await backend.store.append(entries)
    stored = await backend.all_records()
    assert stored == sealed
    assert [r.entry for r in stored] == entries
    assert [r.version for r in stored] == [2, 2, 2]
    assert verify(stored).ok


async def test_appending_nothing_writes_nothing(backend: Backend) -> None:
    assert await backend.store.append([]) == []
    assert await backend.store.head() == (0, GENESIS)


async def test_for_subject_is_newest_first_paged_and_only_that_subject(backend: Backend) -> None:
    await backend.store.append([entry(n, SUBJECT if n % 3 else OTHER) for n in range(1, 31)])
    mine = await backend.store.for_subject(SUBJECT, limit=100)
    assert {r.entry.subject for r in mine} == {SUBJECT}
    assert [r.seq for r in mine] == sorted((r.seq for r in mine), reverse=True)
    assert len(mine) == 20

    first = await backend.store.for_subject(SUBJECT, limit=8)
    second = await backend.store.for_subject(SUBJECT, limit=8, before_seq=first[-1].seq)
    last = await backend.store.for_subject(SUBJECT, limit=8, before_seq=second[-1].seq)
    assert first + second + last == mine
    assert await backend.store.for_subject(SUBJECT, before_seq=1) == []
    assert await backend.store.for_subject("nobody") == []


async def test_records_stream_in_order_across_pages(backend: Backend) -> None:
    total = PAGE + 7
    for start in range(0, total, 400):
        await backend.store.append([entry(n) for n in range(start, min(start + 400, total))])
    seqs = [record.seq async for record in backend.store.records()]
    assert seqs == list(range(1, total + 1))


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("UPDATE {table} SET outcome = 'denied' WHERE seq = 1", id="update"),
        pytest.param("DELETE FROM {table} WHERE seq = 1", id="delete"),
        pytest.param("DELETE FROM {table}", id="delete-all"),
    ],
)
async def test_the_database_refuses_to_change_records(backend: Backend, statement: str) -> None:
    await backend.store.append([entry(1), entry(2)])
    with pytest.raises((sqlite3.Error, asyncpg.PostgresError), match="append-only"):
        await backend.execute(statement.format(table=backend.table))
    assert len(await backend.all_records()) == 2


async def test_postgres_refuses_truncate(postgres: Backend) -> None:
    await postgres.store.append([entry(1)])
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await postgres.execute(f"TRUNCATE {postgres.table}")
    assert len(await postgres.all_records()) == 1


async def test_tampering_behind_the_triggers_is_caught_at_that_record(backend: Backend) -> None:
    await backend.store.append([entry(n) for n in range(1, 6)])
    await backend.tamper(f"UPDATE {backend.table} SET outcome = 'denied' WHERE seq = 3")  # noqa: S608
    result = verify(await backend.all_records())
    assert not result.ok
    assert result.first_broken_seq == 3
    assert result.checked == 2


async def test_concurrent_appends_keep_one_gapless_chain(backend: Backend) -> None:
    batches = await asyncio.gather(
        *(backend.store.append([entry(n), entry(n + 100)]) for n in range(50))
    )
    stored = await backend.all_records()
    assert [r.seq for r in stored] == list(range(1, 101))
    assert sorted(r.seq for batch in batches for r in batch) == list(range(1, 101))
    assert all(b[1].seq == b[0].seq + 1 for b in batches)  # a batch is never split
    assert verify(stored).ok


async def test_two_replicas_appending_together_keep_one_chain(backend: Backend) -> None:
    replica = backend.new_store()
    try:
        await asyncio.gather(
            *(store.append([entry(n)]) for n in range(40) for store in (backend.store, replica))
        )
        stored = await backend.all_records()
        assert [r.seq for r in stored] == list(range(1, 81))
        assert verify(stored, expected_head=await replica.head()).ok
    finally:
        await replica.aclose()


async def test_a_failed_batch_leaves_no_trace(postgres: Backend) -> None:
    await postgres.store.append([entry(1)])
    head = await postgres.store.head()
    with pytest.raises(AuditUnavailable):  # PostgreSQL refuses NUL in text: the batch fails
        await postgres.store.append([entry(2), entry(3, request_id="nul\x00byte")])
    assert await postgres.store.head() == head
    assert len(await postgres.all_records()) == 1


def _unreachable(name: str, tmp_path: Path) -> AuditStore:
    if name == "postgres":
        return PostgresAuditStore("postgresql://postgres@127.0.0.1:1/test", timeout_s=2)
    regular_file = tmp_path / "not-a-directory"
    regular_file.write_text("")
    return SqliteAuditStore(regular_file / "audit.sqlite3")


@pytest.mark.parametrize("name", ["sqlite", "postgres"])
@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda s: s.append([entry(1)]), id="append"),
        pytest.param(lambda s: s.for_subject(SUBJECT), id="for_subject"),
        pytest.param(lambda s: s.head(), id="head"),
    ],
)
async def test_an_unreachable_store_fails_closed_without_personal_data(
    name: str, operation: Callable[[AuditStore], Awaitable[object]], tmp_path: Path
) -> None:
    store = _unreachable(name, tmp_path)
    try:
        with pytest.raises(AuditUnavailable) as raised:
            await operation(store)
        for text in (str(raised.value), repr(raised.value)):
            assert ACTOR not in text
            assert SUBJECT not in text
            assert "unavailable" in text
    finally:
        await store.aclose()


async def test_streaming_an_unreachable_store_fails_closed(tmp_path: Path) -> None:
    store = _unreachable("sqlite", tmp_path)
    with pytest.raises(AuditUnavailable):
        async for _ in store.records():
            pass
    await store.aclose()


def test_a_schema_name_must_be_a_plain_identifier() -> None:
    with pytest.raises(ValueError, match="identifier"):
        PostgresAuditStore("postgresql://x@127.0.0.1/test", schema="x; DROP TABLE y")


async def test_concurrent_appends_are_committed_together(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group commit: appends waiting behind a write share the next transaction, and each
    caller still gets exactly its own records (with both stores: a PostgreSQL trail under
    load must not queue one transaction per request behind its pool)."""
    store = backend.store
    assert isinstance(store, SqliteAuditStore | PostgresAuditStore)
    transactions: list[int] = []
    original = store._write_batch

    async def counting(entries: Sequence[AuditEntry], deadline: float) -> list[AuditRecord]:
        transactions.append(len(entries))
        return await original(entries, deadline)

    monkeypatch.setattr(store, "_write_batch", counting)
    batches = await asyncio.gather(*(store.append([entry(n), entry(n + 100)]) for n in range(40)))
    assert sum(transactions) == 80
    assert len(transactions) < 40
    for n, batch in enumerate(batches):
        assert [r.entry for r in batch] == [entry(n), entry(n + 100)]
    assert verify(await backend.all_records()).ok
