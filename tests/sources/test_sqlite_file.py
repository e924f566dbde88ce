"""The SQLite file behind one worker thread that both SQLite stores use."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from sources import sqlite_file
from sources.sqlite_file import SqliteFile, patiently

SCHEMA = "CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"


@pytest.fixture
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_file, "PAUSE_S", 0.0)


@pytest.mark.usefixtures("no_pause")
def test_locked_and_busy_are_tried_again_until_they_pass() -> None:
    answers = iter(["database is locked", "database table is busy", None])

    def flaky() -> str:
        error = next(answers)
        if error is not None:
            raise sqlite3.OperationalError(error)
        return "done"

    assert patiently(flaky) == "done"


@pytest.mark.usefixtures("no_pause")
def test_other_errors_and_the_last_attempt_are_raised() -> None:
    calls = []

    def broken() -> None:
        calls.append(1)
        raise sqlite3.OperationalError("no such table: item")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        patiently(broken)
    assert len(calls) == 1

    def locked() -> None:
        calls.append(1)
        raise sqlite3.OperationalError("database is locked")

    calls.clear()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        patiently(locked)
    assert len(calls) == sqlite_file.ATTEMPTS


async def test_the_file_is_opened_in_wal_with_its_schema_and_pragmas(tmp_path: Path) -> None:
    file = SqliteFile(
        tmp_path / "sub" / "x.sqlite3", SCHEMA, thread_name="t", pragmas=("synchronous=FULL",)
    )
    try:
        mode, synchronous, tables = await file.run(
            lambda: (
                file.connection().execute("PRAGMA journal_mode").fetchone()[0],
                file.connection().execute("PRAGMA synchronous").fetchone()[0],
                file.connection().execute("SELECT name FROM sqlite_master").fetchall(),
            )
        )
    finally:
        await file.aclose()
    assert (mode, synchronous) == ("wal", 2)  # 2: FULL
    assert ("item",) in tables


async def test_every_call_runs_on_the_one_worker_thread(tmp_path: Path) -> None:
    file = SqliteFile(tmp_path / "x.sqlite3", SCHEMA, thread_name="t")
    try:
        threads = {await file.run(threading.get_ident) for _ in range(5)}
    finally:
        await file.aclose()
    assert len(threads) == 1
    assert threading.get_ident() not in threads


async def test_a_transaction_that_raises_leaves_nothing(tmp_path: Path) -> None:
    file = SqliteFile(tmp_path / "x.sqlite3", SCHEMA, thread_name="t")

    def insert(name: str, fail: bool) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO item (name) VALUES (?)", (name,))
            if fail:
                raise ValueError("after the insert")

        file.transaction(write)

    try:
        await file.run(insert, "kept", False)
        with pytest.raises(ValueError, match="after the insert"):
            await file.run(insert, "lost", True)
        names = await file.run(
            lambda: file.connection().execute("SELECT name FROM item").fetchall()
        )
    finally:
        await file.aclose()
    assert names == [("kept",)]


async def test_a_missing_file_is_refused_when_it_may_not_be_created(tmp_path: Path) -> None:
    path = tmp_path / "missing.sqlite3"
    file = SqliteFile(path, SCHEMA, thread_name="t", create=False)
    try:
        with pytest.raises(sqlite3.OperationalError):
            await file.run(file.connection)
    finally:
        await file.aclose()
    assert not path.exists()


async def test_closing_twice_is_harmless_and_a_closed_file_refuses_work(tmp_path: Path) -> None:
    file = SqliteFile(tmp_path / "x.sqlite3", SCHEMA, thread_name="t")
    await file.run(file.connection)
    await file.aclose()
    await file.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await file.run(file.connection)


def test_a_deadline_ends_the_retries() -> None:
    calls = []

    def locked() -> None:
        calls.append(1)
        raise sqlite3.OperationalError("database is locked")

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        patiently(locked, deadline=0.0)  # long past: no second try
    assert len(calls) == 1


async def test_a_file_another_process_keeps_write_locked_fails_by_the_deadline_then_recovers(
    tmp_path: Path,
) -> None:
    """What both stores rely on: a locked file costs a call its deadline, never more, and
    the worker thread is free again afterwards."""
    path = tmp_path / "x.sqlite3"
    file = SqliteFile(path, SCHEMA, thread_name="t", timeout_s=0.3)

    def insert(name: str) -> None:
        file.transaction(lambda conn: conn.execute("INSERT INTO item (name) VALUES (?)", (name,)))

    try:
        await file.run(insert, "before")
        other = sqlite3.connect(path, isolation_level=None, timeout=0)
        other.execute("BEGIN IMMEDIATE")
        try:
            async with asyncio.timeout(5):  # a guard against a hang, not a measurement
                for name in ("during-1", "during-2"):
                    with pytest.raises((sqlite3.OperationalError, TimeoutError)):
                        await file.run(insert, name)
        finally:
            other.execute("ROLLBACK")
            other.close()
        await file.run(insert, "after")
        names = await file.run(
            lambda: file.connection().execute("SELECT name FROM item ORDER BY id").fetchall()
        )
    finally:
        await file.aclose()
    assert names == [("before",), ("after",)]


async def test_a_read_only_file_runs_no_schema_and_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    writer = SqliteFile(path, SCHEMA, thread_name="t")
    await writer.run(writer.connection)
    await writer.aclose()
    reader = SqliteFile(path, SCHEMA + "CREATE TABLE extra (x);", thread_name="t", read_only=True)
    try:
        tables = await reader.run(
            lambda: reader.connection().execute("SELECT name FROM sqlite_master").fetchall()
        )
        with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only"):
            await reader.run(
                lambda: reader.connection().execute("INSERT INTO item (name) VALUES ('x')")
            )
    finally:
        await reader.aclose()
    assert tables == [("item",)]
