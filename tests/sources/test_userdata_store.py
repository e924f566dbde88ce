"""Both user-data stores, SQLite and the real PostgreSQL server, held to one contract."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from sources.idempotency import KeyReused
from sources.userdata import (
    NoteCipher,
    NoteContent,
    NoteNotFound,
    PostgresUserdataStore,
    SqliteUserdataStore,
    StaleNote,
    UserdataStore,
    UserdataUnavailable,
)
from tests.sources.test_audit_store import postgres_dsn

KEY = b"a test key of at least thirty-two bytes"
ANNE = "subjectkey-anne-000"
BO = "subjectkey-bo-00000"
AT = dt.datetime(2026, 11, 23, 9, 30, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
CONTENT = NoteContent(text="Spør om blodtrykket", title="Til legetimen", link=None)


@dataclasses.dataclass
class Backend:
    """One store under test, a second instance on the same data (a replica), raw SQL."""

    name: str
    store: UserdataStore
    replica: Callable[[], UserdataStore]
    execute: Callable[[str], Awaitable[None]]
    dump: Callable[[], Awaitable[bytes]]  # every byte the database holds, for plaintext checks


async def _sqlite(tmp_path: Path) -> AsyncIterator[Backend]:
    path = tmp_path / "data" / "userdata.sqlite3"

    async def execute(sql: str) -> None:
        import sqlite3

        with sqlite3.connect(path) as conn:
            conn.execute(sql)

    async def dump() -> bytes:
        await store.aclose()  # checkpoint the WAL into the file
        return b"".join(p.read_bytes() for p in path.parent.iterdir())

    store = SqliteUserdataStore(path, NoteCipher(KEY))
    yield Backend(
        "sqlite", store, lambda: SqliteUserdataStore(path, NoteCipher(KEY)), execute, dump
    )
    await store.aclose()


async def _postgres() -> AsyncIterator[Backend]:
    dsn = await postgres_dsn()
    schema = f"userdata_test_{secrets.token_hex(6)}"

    async def execute(sql: str) -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(sql.replace("private_note", f"{schema}.private_note"))
        finally:
            await conn.close()

    async def dump() -> bytes:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch(f"SELECT t::text AS r FROM {schema}.private_note t")  # noqa: S608
            raw = await conn.fetch(f"SELECT sealed FROM {schema}.private_note")  # noqa: S608
        finally:
            await conn.close()
        return b"".join(r["r"].encode() for r in rows) + b"".join(r["sealed"] or b"" for r in raw)

    def replica() -> UserdataStore:
        return PostgresUserdataStore(dsn, NoteCipher(KEY), schema=schema)

    store = replica()
    try:
        yield Backend("postgres", store, replica, execute, dump)
    finally:
        await store.aclose()
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """Each test on fresh data: a new SQLite file, or a new PostgreSQL schema."""
    backends = _sqlite(tmp_path) if request.param == "sqlite" else _postgres()
    async for created in backends:
        yield created


async def create(
    store: UserdataStore, subject: str = ANNE, n: int = 0, **changes: object
) -> object:
    content = dataclasses.replace(CONTENT, text=f"note {n}", **changes)  # type: ignore[arg-type]
    return await store.create_note(
        subject, content, by="SELF", now=AT + dt.timedelta(minutes=n), request_key=f"key-{n}"
    )


async def test_nothing_stored_reads_empty(backend: Backend) -> None:
    assert await backend.store.notes(ANNE) == []
    assert await backend.store.note(ANNE, "pn0000000000000000") is None
    assert await backend.store.settings(ANNE) is None


async def test_a_created_note_reads_back_whole_in_utc(backend: Backend) -> None:
    linked = NoteContent(text="Tekst æøå 🙂", title=None, link="QXBwb2ludG1lbnQ6ZWhyOms.x")
    note = await backend.store.create_note(ANNE, linked, by="PROXY", now=AT, request_key="create-1")
    assert note.content == linked
    assert (note.version, note.written_by, note.updated_by) == (1, "PROXY", "PROXY")
    assert note.created_at == note.updated_at == AT
    assert note.created_at.utcoffset() == dt.timedelta(0)
    assert note.id.startswith("pn")
    assert len(note.id) == 18
    assert await backend.store.note(ANNE, note.id) == note
    assert await backend.store.notes(ANNE) == [note]


async def test_notes_are_newest_first_and_only_the_subjects(backend: Backend) -> None:
    for n in (2, 0, 3, 1):
        await create(backend.store, ANNE, n)
    await create(backend.store, BO, 9)
    mine = await backend.store.notes(ANNE)
    assert [n.content.text for n in mine] == ["note 3", "note 2", "note 1", "note 0"]
    assert [n.content.text for n in await backend.store.notes(BO)] == ["note 9"]
    assert await backend.store.note(BO, mine[0].id) is None


async def test_a_repeated_request_key_returns_the_first_note_even_on_a_replica(
    backend: Backend,
) -> None:
    first = await backend.store.create_note(ANNE, CONTENT, by="SELF", now=AT, request_key="k1")
    replica = backend.replica()
    try:
        again = await replica.create_note(
            ANNE, CONTENT, by="SELF", now=AT + dt.timedelta(hours=1), request_key="k1"
        )
        with pytest.raises(KeyReused):
            await replica.create_note(
                ANNE,
                dataclasses.replace(CONTENT, text="other"),
                by="SELF",
                now=AT,
                request_key="k1",
            )
    finally:
        await replica.aclose()
    assert again == first
    assert len(await backend.store.notes(ANNE)) == 1
    # the same key of another subject is another request
    other = await backend.store.create_note(BO, CONTENT, by="SELF", now=AT, request_key="k1")
    assert other.id != first.id


async def test_an_update_carries_the_version_read_and_a_stale_one_loses(backend: Backend) -> None:
    note = await backend.store.create_note(ANNE, CONTENT, by="SELF", now=AT, request_key="k1")
    later = AT + dt.timedelta(days=1)
    changed = NoteContent(text="Ny tekst", title="Ny tittel", link=None)
    updated = await backend.store.update_note(
        ANNE, note.id, changed, expected_version=1, by="PROXY", now=later
    )
    assert (updated.version, updated.content, updated.written_by, updated.updated_by) == (
        2,
        changed,
        "SELF",
        "PROXY",
    )
    assert (updated.created_at, updated.updated_at) == (AT, later)
    # the second device still holds version 1
    with pytest.raises(StaleNote):
        await backend.store.update_note(
            ANNE, note.id, CONTENT, expected_version=1, by="SELF", now=later
        )
    with pytest.raises(StaleNote):
        await backend.store.delete_note(ANNE, note.id, expected_version=1)
    assert await backend.store.note(ANNE, note.id) == updated


async def test_two_devices_racing_on_one_version_leave_exactly_one_winner(
    backend: Backend,
) -> None:
    note = await backend.store.create_note(ANNE, CONTENT, by="SELF", now=AT, request_key="k1")
    replica = backend.replica()
    try:
        results = await asyncio.gather(
            *(
                store.update_note(
                    ANNE,
                    note.id,
                    NoteContent(text=f"device {n}"),
                    expected_version=1,
                    by="SELF",
                    now=AT,
                )
                for n, store in enumerate([backend.store, replica, backend.store, replica])
            ),
            return_exceptions=True,
        )
    finally:
        await replica.aclose()
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, StaleNote) for r in results if isinstance(r, BaseException))
    assert await backend.store.note(ANNE, note.id) == winners[0]


async def test_delete_removes_the_note_and_absent_ones_are_not_found(backend: Backend) -> None:
    note = await backend.store.create_note(ANNE, CONTENT, by="SELF", now=AT, request_key="k1")
    with pytest.raises(NoteNotFound):
        await backend.store.delete_note(BO, note.id, expected_version=1)
    await backend.store.delete_note(ANNE, note.id, expected_version=1)
    assert await backend.store.notes(ANNE) == []
    with pytest.raises(NoteNotFound):
        await backend.store.delete_note(ANNE, note.id, expected_version=1)
    with pytest.raises(NoteNotFound):
        await backend.store.update_note(
            ANNE, note.id, CONTENT, expected_version=1, by="SELF", now=AT
        )


async def test_a_create_retried_after_its_note_was_deleted_makes_no_second_note(
    backend: Backend,
) -> None:
    note = await backend.store.create_note(ANNE, CONTENT, by="SELF", now=AT, request_key="k1")
    await backend.store.delete_note(ANNE, note.id, expected_version=1)
    replica = backend.replica()
    try:
        with pytest.raises(NoteNotFound):
            await replica.create_note(ANNE, CONTENT, by="SELF", now=AT, request_key="k1")
        with pytest.raises(KeyReused):
            await replica.create_note(
                ANNE, NoteContent(text="other"), by="SELF", now=AT, request_key="k1"
            )
    finally:
        await replica.aclose()
    assert await backend.store.notes(ANNE) == []
    fresh = await backend.store.create_note(ANNE, CONTENT, by="SELF", now=AT, request_key="k2")
    assert [n.id for n in await backend.store.notes(ANNE)] == [fresh.id]
    raw = await backend.dump()
    assert note.id.encode() in raw  # the tombstone keeps the id, not the content


async def test_settings_merge_partial_changes_and_count_versions(backend: Backend) -> None:
    first = await backend.store.change_settings(ANNE, {"channel.sms": False, "lang": "nn"}, now=AT)
    assert (first.values, first.version, first.updated_at) == (
        {"channel.sms": False, "lang": "nn"},
        1,
        AT,
    )
    later = AT + dt.timedelta(hours=2)
    second = await backend.store.change_settings(ANNE, {"lang": "en", "lead": 120}, now=later)
    assert second.values == {"channel.sms": False, "lang": "en", "lead": 120}
    assert second.version == 2
    assert await backend.store.settings(ANNE) == second
    assert await backend.store.settings(BO) is None


async def test_concurrent_partial_changes_are_all_kept(backend: Backend) -> None:
    replica = backend.replica()
    try:
        await asyncio.gather(
            *(
                store.change_settings(ANNE, {f"event.{n}": True}, now=AT)
                for n, store in enumerate([backend.store, replica] * 4)
            )
        )
    finally:
        await replica.aclose()
    stored = await backend.store.settings(ANNE)
    assert stored is not None
    assert stored.values == {f"event.{n}": True for n in range(8)}
    assert stored.version == 8


async def test_the_database_never_holds_the_plaintext(backend: Backend) -> None:
    secret = NoteContent(
        text="Hemmelig-diagnose-XYZZY", title="Privat-tittel-PLUGH", link="Link-FROTZ"
    )
    note = await backend.store.create_note(ANNE, secret, by="SELF", now=AT, request_key="k1")
    await backend.store.update_note(
        ANNE,
        note.id,
        dataclasses.replace(secret, text="Endret-tekst-GRUE"),
        expected_version=1,
        by="SELF",
        now=AT,
    )
    raw = await backend.dump()
    assert note.id.encode() in raw  # the dump did see the row
    for plain in ("XYZZY", "PLUGH", "FROTZ", "GRUE", "Hemmelig", "Privat"):
        assert plain.encode() not in raw
        assert plain.encode("utf-16-le") not in raw


async def test_a_row_copied_to_another_subject_does_not_open(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    note = await backend.store.create_note(ANNE, CONTENT, by="SELF", now=AT, request_key="k1")
    await backend.execute(
        "INSERT INTO private_note (subject, note_id, created_at, updated_at, version, sealed, "  # noqa: S608
        "request_key, request_fp) SELECT "
        f"'{BO}', note_id, created_at, updated_at, version, sealed, request_key, request_fp "
        f"FROM private_note WHERE subject = '{ANNE}'"
    )
    # and a row of Anne's moved to another note id of hers
    await backend.execute(
        "INSERT INTO private_note (subject, note_id, created_at, updated_at, version, sealed, "  # noqa: S608
        "request_key, request_fp) SELECT subject, 'pn00000000000000ff', created_at, "
        "updated_at, version, sealed, 'other-key', request_fp "
        f"FROM private_note WHERE subject = '{ANNE}'"
    )
    with caplog.at_level("WARNING", logger="helsegraf.userdata"):
        assert await backend.store.notes(BO) == []
        assert await backend.store.note(BO, note.id) is None
        assert [n.id for n in await backend.store.notes(ANNE)] == [note.id]
        with pytest.raises(NoteNotFound):
            await backend.store.update_note(
                BO, note.id, CONTENT, expected_version=1, by="SELF", now=AT
            )
    messages = [r.getMessage() for r in caplog.records]
    assert messages
    assert all("USERDATA_NOTE_UNREADABLE" in m for m in messages)
    assert not any(CONTENT.text in m or note.id in m or BO in m for m in messages)


async def test_another_key_cannot_read_the_notes(backend: Backend, tmp_path: Path) -> None:
    await backend.store.create_note(ANNE, CONTENT, by="SELF", now=AT, request_key="k1")
    if backend.name == "sqlite":
        path = next((tmp_path / "data").glob("*.sqlite3"))
        other: UserdataStore = SqliteUserdataStore(path, NoteCipher(b"x" * 32))
    else:
        assert isinstance(backend.store, PostgresUserdataStore)
        other = PostgresUserdataStore(
            backend.store._pg.dsn, NoteCipher(b"x" * 32), schema=backend.store._pg.schema
        )
    try:
        assert await other.notes(ANNE) == []
    finally:
        await other.aclose()


async def test_a_broken_database_is_unavailable_naming_no_data(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    store = SqliteUserdataStore(blocker / "userdata.sqlite3", NoteCipher(KEY))
    try:
        with pytest.raises(UserdataUnavailable) as raised:
            await store.notes(ANNE)
    finally:
        await store.aclose()
    assert raised.value.code == "UPSTREAM_UNAVAILABLE"
    assert raised.value.source == "USERDATA"
    assert ANNE not in str(raised.value)


async def test_an_unreachable_postgres_is_unavailable() -> None:
    store = PostgresUserdataStore(
        "postgresql://nobody@127.0.0.1:1/test", NoteCipher(KEY), timeout_s=1
    )
    try:
        with pytest.raises(UserdataUnavailable):
            await store.settings(ANNE)
    finally:
        await store.aclose()
