"""The persisted-operation safelist: shipped as package data or read from a configured path,
never silently empty or partial."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.persisted import OPERATIONS_DIR, PersistedOperations, SafelistError, document_hash
from gateway.services import Services
from gateway.settings import Settings
from gateway.wiring import load_safelist

HOME = (OPERATIONS_DIR / "home.graphql").read_text(encoding="utf-8")


def test_the_shipped_operations_are_read_from_the_installed_package() -> None:
    shipped = PersistedOperations.load()
    files = sorted(p.stem for p in OPERATIONS_DIR.glob("*.graphql"))
    assert len(files) >= 30
    assert sorted(shipped.names.values()) == files
    assert shipped.by_hash[document_hash(HOME)] == HOME


def test_a_configured_directory_replaces_the_shipped_operations(tmp_path: Path) -> None:
    (tmp_path / "home.graphql").write_text(HOME, encoding="utf-8")
    (tmp_path / "README.md").write_text("not an operation", encoding="utf-8")
    loaded = load_safelist(Settings(operations_path=str(tmp_path)))
    assert loaded.names == {document_hash(HOME): "home"}


def _not_a_directory(tmp_path: Path) -> Path:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    return tmp_path / "file"


def _not_utf8(tmp_path: Path) -> Path:
    (tmp_path / "home.graphql").write_text(HOME, encoding="utf-8")
    (tmp_path / "latin1.graphql").write_bytes(
        "{ viewer { person { name } } } # Bjørn".encode("latin-1")
    )
    return tmp_path


def _unreadable_entry(tmp_path: Path) -> Path:
    (tmp_path / "home.graphql").write_text(HOME, encoding="utf-8")
    (tmp_path / "odd.graphql").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda tmp: tmp / "missing", "is not a readable directory", id="missing"),
        pytest.param(_not_a_directory, "is not a readable directory", id="a-file"),
        pytest.param(_not_utf8, "latin1.graphql is not UTF-8 text", id="not-utf8"),
        pytest.param(_unreadable_entry, "odd.graphql cannot be read", id="unreadable"),
        pytest.param(lambda tmp: tmp, "holds no *.graphql file", id="empty"),
    ],
)
def test_an_unusable_safelist_is_refused_naming_the_setting(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    path = make(tmp_path)
    settings = Settings(operations_path=str(path), require_persisted=True)
    with pytest.raises(SafelistError) as refused:
        load_safelist(settings)
    assert str(refused.value).startswith(f"HELSEGRAF_OPERATIONS_PATH {str(path)!r}")
    assert message in str(refused.value)


PARTNER = {"kind": "partner", "categories": "*", "operations": "*"}


@pytest.mark.parametrize(
    ("require_persisted", "clients"),
    [
        pytest.param(True, {}, id="required"),
        pytest.param(False, {"partner-x": PARTNER}, id="a-partner-registered"),
    ],
)
def test_services_refuse_to_build_on_an_empty_safelist(
    tmp_path: Path, require_persisted: bool, clients: dict[str, Any]
) -> None:
    """Partners run safelisted operations only, and so does everyone under
    HELSEGRAF_REQUIRE_PERSISTED: either needs a safelist."""
    with pytest.raises(SafelistError, match="HELSEGRAF_OPERATIONS_PATH"):
        Services.build(_empty_safelist(tmp_path, require_persisted, clients))


def test_an_empty_safelist_nobody_needs_is_no_reason_to_refuse(tmp_path: Path) -> None:
    portal = {"helsegraf-portal": {"kind": "portal"}}
    settings = _empty_safelist(tmp_path, require_persisted=False, clients=portal)
    assert load_safelist(settings).by_hash == {}


def _empty_safelist(tmp_path: Path, require_persisted: bool, clients: dict[str, Any]) -> Settings:
    (tmp_path / "operations").mkdir()
    return Settings(
        env="test",
        ehr={"url": "http://127.0.0.1:9/ehr"},
        national={"url": "http://127.0.0.1:9/national"},
        oidc_jwks_url="http://127.0.0.1:9/jwks",
        audit_path=str(tmp_path / "audit" / "audit.sqlite3"),
        operations_path=str(tmp_path / "operations"),
        require_persisted=require_persisted,
        clients=clients,
    )


def test_an_operations_package_elsewhere_on_the_path_is_not_the_safelist(tmp_path: Path) -> None:
    """The safelist is the one shipped beside the gateway: a directory named `operations`
    that happens to come first on `sys.path` (the working directory of `python -m`, say)
    cannot put its own operations in."""
    import subprocess
    import sys

    (tmp_path / "operations").mkdir()
    (tmp_path / "operations" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "operations" / "evil.graphql").write_text(
        "{ viewer { person { name } } }", encoding="utf-8"
    )
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "from gateway.persisted import PersistedOperations; "
            "print(sorted(PersistedOperations.load().names.values()))",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "evil" not in shown.stdout
    assert "home" in shown.stdout
