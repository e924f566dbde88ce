"""A locked, slow or unreachable audit store answers `AuditUnavailable` by its deadline,
and recovers by itself once it can write again: nothing lost, nothing written twice.

The bounds below are generous guards against a hang (today's stalls last minutes), not
measurements of speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from authz.audit import verify
from sources.audit import (
    AuditStore,
    AuditUnavailable,
    PostgresAuditStore,
    SqliteAuditStore,
)
from tests.sources.test_audit_store import entry, postgres_dsn

TIMEOUT_S = 0.5
GUARD_S = TIMEOUT_S + 4.5  # far below any stall, far above any deadline kept
WAITING = 6  # requests queued behind the lock at once


@contextlib.contextmanager
def write_locked(path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's connection holding the trail's write lock until the block ends."""
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()


async def refused_by_the_deadline(store: AuditStore, first: int) -> None:
    """`WAITING` appends at once: every one refused, none hanging."""
    async with asyncio.timeout(GUARD_S):
        outcomes = await asyncio.gather(
            *(store.append([entry(first + n)]) for n in range(WAITING)),
            return_exceptions=True,
        )
    assert all(isinstance(o, AuditUnavailable) for o in outcomes), outcomes
    assert all("unavailable" in str(o) for o in outcomes)


async def recovers(store: AuditStore, expected: int) -> None:
    """The next appends are written, and the trail holds exactly `expected` records."""
    async with asyncio.timeout(GUARD_S):
        await asyncio.gather(*(store.append([entry(900 + n)]) for n in range(3)))
        records = [r async for r in store.records()]
    assert [r.seq for r in records] == list(range(1, expected + 1))
    assert verify(records).ok


@pytest.fixture
async def sqlite_trail(tmp_path: Path) -> AsyncIterator[tuple[SqliteAuditStore, Path]]:
    path = tmp_path / "audit.sqlite3"
    store = SqliteAuditStore(path, timeout_s=TIMEOUT_S)
    await store.append([entry(1)])  # the file exists, with its schema
    yield store, path
    await store.aclose()


async def test_a_write_locked_sqlite_trail_refuses_every_waiting_append_in_time(
    sqlite_trail: tuple[SqliteAuditStore, Path],
) -> None:
    store, path = sqlite_trail
    with write_locked(path):
        await refused_by_the_deadline(store, 10)
        await refused_by_the_deadline(store, 20)  # the worker is not left stuck behind
    await recovers(store, expected=1 + 3)  # none of the refused entries was written


async def test_reads_of_a_locked_sqlite_trail_are_not_held_up(
    sqlite_trail: tuple[SqliteAuditStore, Path],
) -> None:
    """WAL readers never wait for the writer: the access log keeps answering."""
    store, path = sqlite_trail
    with write_locked(path):
        async with asyncio.timeout(GUARD_S):
            assert len(await store.for_subject(entry(1).subject)) == 1
            assert (await store.head())[0] == 1


async def test_a_locked_sqlite_trail_is_not_ready_until_released(
    sqlite_trail: tuple[SqliteAuditStore, Path],
) -> None:
    store, path = sqlite_trail
    await store.ping()
    with write_locked(path):
        async with asyncio.timeout(GUARD_S):
            with pytest.raises(AuditUnavailable):
                await store.ping()
    await store.ping()


async def test_a_second_gateway_process_opening_a_locked_trail_is_refused_in_time(
    sqlite_trail: tuple[SqliteAuditStore, Path],
) -> None:
    _, path = sqlite_trail
    late = SqliteAuditStore(path, timeout_s=TIMEOUT_S)
    try:
        with write_locked(path):
            await refused_by_the_deadline(late, 30)
        await recovers(late, expected=1 + 3)
    finally:
        await late.aclose()


# -- PostgreSQL ---------------------------------------------------------------------------


@pytest.fixture
async def pg_trail() -> AsyncIterator[tuple[PostgresAuditStore, str, str]]:
    dsn = await postgres_dsn()
    schema = f"audit_deadline_{secrets.token_hex(6)}"
    store = PostgresAuditStore(dsn, schema=schema, timeout_s=TIMEOUT_S)
    await store.append([entry(1)])
    try:
        yield store, dsn, schema
    finally:
        await store.aclose()
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            await conn.close()


async def test_a_postgres_trail_whose_lock_is_held_refuses_in_time_and_recovers(
    pg_trail: tuple[PostgresAuditStore, str, str],
) -> None:
    store, dsn, _ = pg_trail
    holder = await asyncpg.connect(dsn)
    try:
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("SELECT pg_advisory_xact_lock($1)", store.lock_key)
        await refused_by_the_deadline(store, 10)
        async with asyncio.timeout(GUARD_S):
            with pytest.raises(AuditUnavailable):
                await store.ping()
        await transaction.rollback()
    finally:
        await holder.close()
    await store.ping()
    await recovers(store, expected=1 + 3)


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A port that accepts connections and never answers: a paused database server."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_postgres_server_that_does_not_answer_is_refused_in_time() -> None:
    async with silent_server() as port:
        store = PostgresAuditStore(
            f"postgresql://postgres@127.0.0.1:{port}/test", timeout_s=TIMEOUT_S
        )
        try:
            await refused_by_the_deadline(store, 1)
            async with asyncio.timeout(GUARD_S):
                with pytest.raises(AuditUnavailable):
                    await store.ping()
                with pytest.raises(AuditUnavailable):
                    await store.head()
        finally:
            async with asyncio.timeout(GUARD_S):
                await store.aclose()
