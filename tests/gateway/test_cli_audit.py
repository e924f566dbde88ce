"""`helsegraf audit verify | head` only read: they never change the trail, its schema
included, and they check trails of every version of the record."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from gateway.cli import main
from sources.audit import PostgresAuditStore, SqliteAuditStore
from tests.sources.test_audit_store import postgres_dsn
from tests.sources.test_audit_upgrade import NEW, V1_POSTGRES, old_sqlite_trail, sqlite_schema


def _snapshot(path: Path) -> tuple[list[tuple[str, str, str]], str]:
    return sqlite_schema(path), hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def trail_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Where `helsegraf audit` looks for the trail; made read-only before it looks."""
    path = tmp_path / "audit.sqlite3"
    monkeypatch.setenv("HELSEGRAF_AUDIT_PATH", str(path))
    monkeypatch.delenv("HELSEGRAF_AUDIT_DSN", raising=False)
    yield path
    for item in tmp_path.iterdir():
        item.chmod(stat.S_IRUSR | stat.S_IWUSR)


def _read_only(path: Path) -> None:
    """No write permission on the trail (stops any user but root; the snapshot compared
    after the check stops root as well)."""
    path.chmod(stat.S_IRUSR | stat.S_IRGRP)


def _continue_trail(path: Path) -> None:
    async def write() -> None:
        store = SqliteAuditStore(path)
        try:
            await store.append(NEW)
        finally:
            await store.aclose()

    asyncio.run(write())


def test_verify_keeps_a_dropped_trigger_dropped_and_the_file_unchanged(
    trail_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A check must report the trail as it finds it, never repair it on the way."""
    old_sqlite_trail(trail_path)
    _continue_trail(trail_path)
    with sqlite3.connect(trail_path) as conn:
        conn.execute("DROP TRIGGER audit_record_no_update")
    conn.close()
    before = _snapshot(trail_path)
    _read_only(trail_path)
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out == "audit trail intact: 5 records\n"
    assert main(["audit", "head"]) == 0
    assert capsys.readouterr().out.startswith("5:")
    assert _snapshot(trail_path) == before
    assert "audit_record_no_update" not in str(before[0])


def test_verify_leaves_no_file_behind_beside_a_trail_nobody_writes(
    trail_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A check run while the gateway is stopped must not create the trail's WAL side
    files: created by the checker's user, they would leave the gateway unable to write."""
    old_sqlite_trail(trail_path)
    _continue_trail(trail_path)
    files = sorted(p.name for p in trail_path.parent.iterdir())
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out == "audit trail intact: 5 records\n"
    assert sorted(p.name for p in trail_path.parent.iterdir()) == files


def test_verify_reads_a_version_1_trail_without_upgrading_it(
    trail_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old_sqlite_trail(trail_path)
    before = _snapshot(trail_path)
    _read_only(trail_path)
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out == "audit trail intact: 3 records\n"
    assert _snapshot(trail_path) == before


def test_verify_passes_over_version_1_records_followed_by_version_2(
    trail_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old_sqlite_trail(trail_path)
    _continue_trail(trail_path)
    with sqlite3.connect(trail_path) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM audit_record")]
    conn.close()
    assert versions == [1, 1, 1, 2, 2]
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out == "audit trail intact: 5 records\n"


def test_verify_catches_a_version_2_record_rewritten_as_version_1(
    trail_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old_sqlite_trail(trail_path)
    _continue_trail(trail_path)
    with sqlite3.connect(trail_path) as conn:
        conn.execute("DROP TRIGGER audit_record_no_update")
        conn.execute("UPDATE audit_record SET version = 1, acr = NULL WHERE seq = 4")
    conn.close()
    assert main(["audit", "verify"]) == 1
    assert capsys.readouterr().out.startswith("audit trail broken at record 4: ")


@pytest.fixture
def postgres_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database of its own (the CLI reads the `public` schema), dropped afterwards."""
    admin = asyncio.run(postgres_dsn())
    name = f"helsegraf_cli_{secrets.token_hex(6)}"

    async def sql(statement: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(sql(f"CREATE DATABASE {name}"))
    monkeypatch.delenv("HELSEGRAF_AUDIT_PATH", raising=False)
    try:
        yield admin.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def test_verify_on_postgres_needs_no_write_at_all(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every session of the check refuses writes: a check that ran DDL would fail."""
    dsn = postgres_database

    async def prepare() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(V1_POSTGRES.format(s="public"))
        finally:
            await conn.close()
        store = PostgresAuditStore(dsn)
        try:
            await store.append(NEW)
        finally:
            await store.aclose()

    asyncio.run(prepare())
    monkeypatch.setenv("HELSEGRAF_AUDIT_DSN", f"{dsn}?default_transaction_read_only=on")
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out == "audit trail intact: 2 records\n"
    assert main(["audit", "head"]) == 0
    assert capsys.readouterr().out.startswith("2:")
