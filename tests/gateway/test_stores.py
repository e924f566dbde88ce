"""The stores the settings name (`gateway.stores`): which backend, file, key and deadline."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from gateway.settings import Settings
from gateway.stores import open_audit_store, open_userdata_store, userdata_path
from sources.audit import PostgresAuditStore, SqliteAuditStore
from sources.userdata import NoteCipher, PostgresUserdataStore, SqliteUserdataStore
from sources.userdata.crypto import Unreadable


def test_settings_choose_the_store(tmp_path: Path) -> None:
    sqlite_store = open_audit_store(Settings(audit_path=str(tmp_path / "a.sqlite3")))
    assert isinstance(sqlite_store, SqliteAuditStore)
    dsn = SecretStr("postgresql://postgres@127.0.0.1:5432/test")
    assert isinstance(open_audit_store(Settings(audit_dsn=dsn)), PostgresAuditStore)


async def test_the_deadline_is_a_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HELSEGRAF_AUDIT_TIMEOUT_S", "1.5")
    monkeypatch.setenv("HELSEGRAF_AUDIT_PATH", str(tmp_path / "audit.sqlite3"))
    monkeypatch.delenv("HELSEGRAF_AUDIT_DSN", raising=False)
    store = open_audit_store(Settings())
    try:
        assert isinstance(store, SqliteAuditStore)
        assert store.timeout_s == 1.5
    finally:
        await store.aclose()
    for wrong in (0, 61):
        with pytest.raises(ValidationError, match="audit_timeout_s"):
            Settings(audit_timeout_s=wrong)


def test_the_settings_choose_the_backend_and_the_file(tmp_path: Path) -> None:
    audit = tmp_path / "trail" / "audit.sqlite3"
    beside = Settings(audit_path=str(audit))
    assert userdata_path(beside) == tmp_path / "trail" / "userdata.sqlite3"
    assert isinstance(open_userdata_store(beside), SqliteUserdataStore)
    chosen = Settings(audit_path=str(audit), userdata_path=str(tmp_path / "u.db"))
    assert userdata_path(chosen) == tmp_path / "u.db"
    dsn = SecretStr("postgresql://u@127.0.0.1:5432/test")
    assert isinstance(open_userdata_store(Settings(userdata_dsn=dsn)), PostgresUserdataStore)
    with pytest.raises(ValueError, match="userdata_key"):
        Settings(userdata_key=SecretStr("too short"))


async def test_the_dedicated_key_wins_over_the_id_secret() -> None:
    key = SecretStr("u" * 32)
    plain = Settings(id_secret=SecretStr("i" * 32))
    dedicated = Settings(id_secret=SecretStr("i" * 32), userdata_key=key)
    sealed = NoteCipher(b"u" * 32).seal("anne", "pn01", b"x")
    for settings, opens in ((plain, False), (dedicated, True)):
        store = open_userdata_store(settings)
        assert isinstance(store, SqliteUserdataStore)
        try:
            if opens:
                assert store._cipher.open("anne", "pn01", sealed) == b"x"
            else:
                with pytest.raises(Unreadable):
                    store._cipher.open("anne", "pn01", sealed)
        finally:
            await store.aclose()
