"""The `helsegraf` console script's offline commands."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from pydantic import SecretStr

from gateway.cli import main
from gateway.schema import print_sdl
from gateway.settings import Settings
from mocks.oidc import MockIssuer
from mocks.population import Population


def test_schema_prints_the_sdl(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == print_sdl()


def _claims(token: str) -> dict[str, object]:
    issuer = MockIssuer()
    key = jwt.PyJWK(issuer.jwks()["keys"][0])
    claims: dict[str, object] = jwt.decode(
        token, key=key, algorithms=["ES256"], options={"verify_aud": False}
    )
    return claims


def test_token_is_signed_by_the_mock_issuer_for_the_persona(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["token", "kari"]) == 0
    claims = _claims(capsys.readouterr().out.strip())
    assert claims["pid"] == Population(size=0).persona("kari").nin
    assert claims["acr"] == "idporten-loa-high"
    assert claims["aud"] == "helsegraf"


def test_token_claims_can_be_overridden(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "token",
                "ola",
                "--claim",
                "aud=elsewhere",
                "--claim",
                "exp=4102444800",
                "--claim",
                "acr=idporten-loa-substantial",
            ]
        )
        == 0
    )
    claims = _claims(capsys.readouterr().out.strip())
    assert claims["aud"] == "elsewhere"
    assert claims["exp"] == 4102444800
    assert claims["acr"] == "idporten-loa-substantial"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["token", "nobody"], "no mock persona named 'nobody'", id="unknown-persona"),
        pytest.param(["token", "kari", "--claim", "novalue"], "KEY=VALUE", id="malformed-claim"),
    ],
)
def test_token_refuses_bad_input_clearly(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    assert message.lower() in capsys.readouterr().err.lower()


def test_embedded_upstreams_fill_only_what_is_unset() -> None:
    from gateway.cli import with_embedded_upstreams
    from gateway.settings import Settings
    from mocks.app import MockUpstreams

    embedded = MockUpstreams(size=0).settings_env("http://127.0.0.1:1")
    configured = Settings(ehr={"url": "http://real-ehr/fhir"})
    settings = with_embedded_upstreams(configured, embedded)
    assert settings.ehr is not None
    assert settings.ehr.url == "http://real-ehr/fhir"
    assert settings.national is not None
    assert settings.national.url == "http://127.0.0.1:1/national/api/v1"
    assert settings.oidc_jwks_url == "http://127.0.0.1:1/oidc/jwks"
    assert set(settings.municipalities) == {"5001", "5037", "0301", "4601"}
    assert not settings.embedded_mocks
    # the mock issuer's tokens name the mocks' clients, registered with it
    assert settings.clients["helsegraf-portal"].kind == "portal"
    assert settings.clients["partner-x"].kind == "partner"


def test_a_configured_registry_is_kept_with_the_mock_issuer() -> None:
    from gateway.cli import with_embedded_upstreams
    from gateway.settings import Settings
    from mocks.app import MockUpstreams

    embedded = MockUpstreams(size=0).settings_env("http://127.0.0.1:1")
    configured = Settings(clients={"my-portal": {"kind": "portal"}})
    assert set(with_embedded_upstreams(configured, embedded).clients) == {"my-portal"}


def _write_trail(path: Path, count: int) -> None:
    from authz.audit import AuditEntry
    from sources.audit import SqliteAuditStore

    at = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
    entries = [
        AuditEntry(
            at=at + dt.timedelta(seconds=n),
            request_id=f"req-{n}",
            actor="01010012345",
            actor_kind="citizen",
            basis="SELF",
            subject="01010012345",
            categories=("observations",),
            resources=(f"EHR/Observation/{n}",),
            action="read",
            outcome="success",
            client_id=None,
        )
        for n in range(count)
    ]

    async def write() -> None:
        store = SqliteAuditStore(path)
        try:
            await store.append(entries)
        finally:
            await store.aclose()

    asyncio.run(write())


@pytest.fixture
def trail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An SQLite audit trail of three records, which `helsegraf audit` will read."""
    path = tmp_path / "audit.sqlite3"
    monkeypatch.setenv("HELSEGRAF_AUDIT_PATH", str(path))
    monkeypatch.delenv("HELSEGRAF_AUDIT_DSN", raising=False)
    _write_trail(path, 3)
    return path


def _bypass_triggers(path: Path, sql: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER audit_record_no_update")
        conn.execute("DROP TRIGGER audit_record_no_delete")
        conn.execute(sql)


def test_audit_verify_reports_an_intact_trail(
    trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out == "audit trail intact: 3 records\n"


def test_audit_verify_names_the_first_broken_record(
    trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _bypass_triggers(trail, "UPDATE audit_record SET outcome = 'denied' WHERE seq = 2")
    assert main(["audit", "verify"]) == 1
    assert capsys.readouterr().out.startswith("audit trail broken at record 2: ")


def test_audit_verify_catches_a_truncated_tail_against_a_checkpoint(
    trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "head"]) == 0
    checkpoint = capsys.readouterr().out.strip()
    assert checkpoint.startswith("3:")
    _bypass_triggers(trail, "DELETE FROM audit_record WHERE seq = 3")
    assert main(["audit", "verify"]) == 0  # the chain alone cannot see it
    capsys.readouterr()
    assert main(["audit", "verify", "--checkpoint", checkpoint]) == 1
    assert capsys.readouterr().out.startswith("audit trail broken at record 3: ")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        pytest.param("HELSEGRAF_AUDIT_PATH", "{tmp}/missing/audit.sqlite3", id="sqlite-missing"),
        pytest.param("HELSEGRAF_AUDIT_DSN", "postgresql://postgres@127.0.0.1:1/x", id="postgres"),
    ],
)
def test_audit_verify_reports_an_unreachable_store(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
) -> None:
    monkeypatch.delenv("HELSEGRAF_AUDIT_DSN", raising=False)
    monkeypatch.setenv("HELSEGRAF_AUDIT_PATH", str(tmp_path / "unused.sqlite3"))
    monkeypatch.setenv(variable, value.format(tmp=tmp_path))
    assert main(["audit", "verify"]) == 2
    err = capsys.readouterr().err
    assert "audit store" in err
    assert "unavailable" in err
    assert not (tmp_path / "missing").exists()  # verifying never starts a new trail


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_served_connections_send_without_delay(loop: str) -> None:
    """Accepted connections have TCP_NODELAY (asyncio sets it only on sockets named TCP),
    on asyncio's loop and on uvloop, which `helsegraf serve` runs on."""
    import asyncio
    import socket

    import uvloop

    from gateway.cli import _bound_socket

    async def nodelay_of_accepted() -> int:
        listener = _bound_socket("127.0.0.1", 0)
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=listener)
        try:
            port = listener.getsockname()[1]
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            result = await asyncio.wait_for(accepted, 5)
            writer.close()
            return result
        finally:
            server.close()
            await server.wait_closed()

    factory = uvloop.new_event_loop if loop == "uvloop" else asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        assert runner.run(nodelay_of_accepted()) != 0


def _production_environment(tmp_path: Path) -> dict[str, str]:
    """Every setting production needs, pointing at nothing that answers (the commands
    below must refuse before they connect anywhere)."""
    data = tmp_path / "data"
    return {
        "HELSEGRAF_ENV": "production",
        "HELSEGRAF_PORT": "0",
        "HELSEGRAF_EHR__URL": "http://127.0.0.1:9/ehr/fhir/R4",
        "HELSEGRAF_NATIONAL__URL": "http://127.0.0.1:9/national/api/v1",
        "HELSEGRAF_MUNICIPALITIES": '{"5001": {"url": "http://127.0.0.1:9/m"}}',
        "HELSEGRAF_OIDC_ISSUER": "https://idporten.no",
        "HELSEGRAF_OIDC_AUDIENCE": "helsegraf",
        "HELSEGRAF_OIDC_JWKS_URL": "http://127.0.0.1:9/jwks",
        "HELSEGRAF_ID_SECRET": "c" * 40,
        "HELSEGRAF_AUDIT_PATH": str(data / "audit.sqlite3"),
        "HELSEGRAF_USERDATA_PATH": str(data / "userdata.sqlite3"),
        "HELSEGRAF_CLIENTS": '{"helsegraf-portal": {"kind": "portal"}}',
    }


def _serve_process(cwd: Path, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`helsegraf serve` as its own process in `cwd`, with only `environment` as settings;
    a server that starts instead of refusing fails the test when the wait runs out."""
    cwd.mkdir(parents=True, exist_ok=True)
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("HELSEGRAF_")}
    try:
        return subprocess.run(
            [sys.executable, "-m", "gateway.cli", "serve"],
            cwd=cwd,
            env=inherited | environment,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("`helsegraf serve` started instead of refusing")


@pytest.mark.parametrize(
    ("unset", "named"),
    [
        pytest.param(
            ["HELSEGRAF_OIDC_JWKS_URL"],
            "HELSEGRAF_OIDC_JWKS_URL must be set in production",
            id="jwks-url",
        ),
        pytest.param(
            ["HELSEGRAF_OIDC_ISSUER"],
            "HELSEGRAF_OIDC_ISSUER must be set in production",
            id="issuer-left-at-the-mock-default",
        ),
        pytest.param(
            ["HELSEGRAF_EHR__URL", "HELSEGRAF_NATIONAL__URL", "HELSEGRAF_MUNICIPALITIES"],
            "HELSEGRAF_EHR__URL, HELSEGRAF_NATIONAL__URL and HELSEGRAF_MUNICIPALITIES "
            "(at least one) must be set in production",
            id="upstreams",
        ),
        pytest.param(
            ["HELSEGRAF_AUDIT_PATH"],
            "either HELSEGRAF_AUDIT_DSN or HELSEGRAF_AUDIT_PATH must be set in production",
            id="audit-destination",
        ),
        pytest.param(
            ["HELSEGRAF_USERDATA_PATH"],
            "either HELSEGRAF_USERDATA_DSN or HELSEGRAF_USERDATA_PATH must be set in production",
            id="userdata-destination",
        ),
        pytest.param(
            ["HELSEGRAF_CLIENTS"],
            "HELSEGRAF_CLIENTS (the portal and partner clients) must be set in production",
            id="client-registry",
        ),
    ],
)
def test_production_serve_refuses_a_missing_setting_in_one_line(
    tmp_path: Path, unset: list[str], named: str
) -> None:
    """Nothing starts (no mock issuer anyone could mint tokens from) and nothing is
    written: no per-process audit or user-data file, anywhere."""
    environment = _production_environment(tmp_path)
    for name in unset:
        del environment[name]
    finished = _serve_process(tmp_path / "cwd", environment)
    assert finished.returncode == 2, finished.stderr
    assert finished.stderr == f"helsegraf: invalid settings: {named}\n"
    assert finished.stdout == ""
    assert [p.name for p in tmp_path.rglob("*")] == ["cwd"]  # not one file, anywhere


def test_invalid_settings_are_one_line_without_their_values(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No pydantic banner, input echo (a DSN may hold a password) or documentation link."""
    monkeypatch.setenv("HELSEGRAF_ENV", "production")
    monkeypatch.setenv("HELSEGRAF_AUDIT_DSN", "postgresql://audit:hunter2-secret@db/audit")
    assert main(["serve"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("helsegraf: invalid settings: HELSEGRAF_ID_SECRET must be set")
    assert captured.err.count("\n") == 1
    for noise in ("hunter2", "validation error", "For further information", "input_value"):
        assert noise not in captured.err
    monkeypatch.setenv("HELSEGRAF_ENV", "test")
    monkeypatch.setenv("HELSEGRAF_EHR__URL", "http://127.0.0.1:9/ehr/fhir/R4")
    monkeypatch.setenv("HELSEGRAF_EHR__TIMEOUT_S", "0")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("helsegraf: invalid settings: HELSEGRAF_EHR__TIMEOUT_S: ")
    assert err.count("\n") == 1


def test_serve_never_starts_mocks_for_production_settings_that_skipped_validation() -> None:
    """Defence in depth: `_serve` refuses on its own, before binding any socket."""
    from gateway.cli import StartRefused, _serve

    unvalidated = Settings.model_construct(env="production", id_secret=SecretStr("x" * 40), port=0)

    async def serve_briefly() -> None:
        await asyncio.wait_for(_serve(unvalidated), 10)

    with pytest.raises(StartRefused, match="HELSEGRAF_OIDC_JWKS_URL"):
        asyncio.run(serve_briefly())


def test_serve_refuses_an_empty_safelist(tmp_path: Path) -> None:
    """Partners may run safelisted operations only: with none to run, no start."""
    (tmp_path / "empty").mkdir()
    environment = {
        "HELSEGRAF_ENV": "test",
        "HELSEGRAF_PORT": "0",
        "HELSEGRAF_MOCKS__POPULATION": "0",
        "HELSEGRAF_AUDIT_PATH": str(tmp_path / "audit.sqlite3"),
        "HELSEGRAF_OPERATIONS_PATH": str(tmp_path / "empty"),
    }
    finished = _serve_process(tmp_path / "cwd", environment)
    assert finished.returncode == 2, finished.stderr
    assert finished.stderr.startswith("helsegraf: invalid settings: HELSEGRAF_OPERATIONS_PATH")
    assert finished.stderr.count("\n") == 1
