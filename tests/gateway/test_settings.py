from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from gateway.settings import DEFAULT_AUDIENCE, DEFAULT_ISSUER, Settings

# Everything production needs, given explicitly (as environment variables would be).
PRODUCTION: dict[str, Any] = {
    "env": "production",
    "ehr": {"url": "https://ehr.internal/fhir/R4"},
    "national": {"url": "https://national.internal/api/v1"},
    "municipalities": {"5001": {"url": "https://m5001.internal/api/v1"}},
    "oidc_issuer": "https://idporten.no",
    "oidc_audience": "helsegraf",
    "oidc_jwks_url": "https://idporten.no/jwks.json",
    "id_secret": "x" * 40,
    "audit_dsn": "postgresql://audit@db.internal/audit",
    "userdata_dsn": "postgresql://userdata@db.internal/userdata",
    "clients": {"helsegraf-portal": {"kind": "portal"}},
}


def _without(*names: str, **replaced: Any) -> dict[str, Any]:
    return {k: v for k, v in PRODUCTION.items() if k not in names} | replaced


def test_nested_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELSEGRAF_EHR__URL", "http://ehr.internal/fhir")
    monkeypatch.setenv("HELSEGRAF_EHR__TIMEOUT_S", "1.5")
    monkeypatch.setenv("HELSEGRAF_MUNICIPALITIES", '{"5001": {"url": "http://m5001"}}')
    monkeypatch.setenv("HELSEGRAF_PORT", "9000")
    settings = Settings()
    assert settings.ehr is not None
    assert settings.ehr.url == "http://ehr.internal/fhir"
    assert settings.ehr.timeout_s == 1.5
    assert settings.municipalities["5001"].url == "http://m5001"
    assert settings.port == 9000
    assert settings.embedded_mocks  # national and JWKS still unset


def test_production_refuses_the_development_id_secret() -> None:
    with pytest.raises(ValidationError, match="HELSEGRAF_ID_SECRET"):
        Settings(env="production")


PORTAL = {"helsegraf-portal": {"kind": "portal"}}


def test_production_accepts_a_real_secret() -> None:
    settings = Settings(**PRODUCTION | {"id_secret": "x" * 40, "clients": PORTAL})
    assert not settings.graphiql


def test_municipality_codes_are_validated() -> None:
    with pytest.raises(ValidationError, match="four-digit municipality code"):
        Settings(municipalities={"Oslo": {"url": "http://x"}})


def test_timeouts_are_bounded() -> None:
    with pytest.raises(ValidationError, match="timeout_s"):
        Settings(ehr={"url": "http://x", "timeout_s": 0})


def test_production_accepts_every_setting_given() -> None:
    settings = Settings(**PRODUCTION)
    assert settings.production
    assert not settings.embedded_mocks
    assert settings.unset_in_production() == []


@pytest.mark.parametrize(
    ("values", "named"),
    [
        pytest.param(_without("ehr"), "HELSEGRAF_EHR__URL", id="ehr"),
        pytest.param(_without("ehr", ehr={"url": " "}), "HELSEGRAF_EHR__URL", id="ehr-blank"),
        pytest.param(_without("national"), "HELSEGRAF_NATIONAL__URL", id="national"),
        pytest.param(_without("municipalities"), "HELSEGRAF_MUNICIPALITIES", id="municipalities"),
        pytest.param(_without("oidc_issuer"), "HELSEGRAF_OIDC_ISSUER", id="issuer-default"),
        pytest.param(_without("oidc_audience"), "HELSEGRAF_OIDC_AUDIENCE", id="audience"),
        pytest.param(_without("oidc_jwks_url"), "HELSEGRAF_OIDC_JWKS_URL", id="jwks"),
        pytest.param(
            _without("oidc_jwks_url", oidc_jwks_url=""), "HELSEGRAF_OIDC_JWKS_URL", id="jwks-empty"
        ),
        pytest.param(_without("id_secret"), "HELSEGRAF_ID_SECRET", id="id-secret"),
        pytest.param(_without("audit_dsn"), "HELSEGRAF_AUDIT_DSN", id="audit"),
        pytest.param(
            _without("audit_dsn", audit_dsn="", audit_path=" "),
            "HELSEGRAF_AUDIT_PATH",
            id="audit-blank",
        ),
        pytest.param(_without("userdata_dsn"), "HELSEGRAF_USERDATA_DSN", id="userdata"),
    ],
)
def test_production_refuses_a_missing_setting(values: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**values)
    (error,) = refused.value.errors()
    assert named in error["msg"]
    assert "in production" in error["msg"]


def test_production_names_every_missing_setting_at_once() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**_without("oidc_jwks_url", "audit_dsn", "userdata_dsn"))
    message = refused.value.errors()[0]["msg"]
    for named in ("HELSEGRAF_OIDC_JWKS_URL", "HELSEGRAF_AUDIT_DSN", "HELSEGRAF_AUDIT_PATH"):
        assert named in message
    assert "HELSEGRAF_EHR__URL" not in message


def test_production_takes_explicit_sqlite_files_for_audit_and_userdata(tmp_path: Path) -> None:
    settings = Settings(
        **_without(
            "audit_dsn",
            "userdata_dsn",
            audit_path=str(tmp_path / "audit.sqlite3"),
            userdata_path=str(tmp_path / "userdata.sqlite3"),
        )
    )
    assert settings.unset_in_production() == []
    assert list(tmp_path.iterdir()) == []  # validating settings writes nothing


def test_production_counts_environment_variables_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """An issuer given in the environment counts, even when it is the mock's (trying
    production mode locally against `helsegraf mocks`)."""
    environment = {
        "HELSEGRAF_ENV": "production",
        "HELSEGRAF_EHR__URL": "http://127.0.0.1:8001/ehr/fhir/R4",
        "HELSEGRAF_NATIONAL__URL": "http://127.0.0.1:8001/national/api/v1",
        "HELSEGRAF_MUNICIPALITIES": '{"5001": {"url": "http://127.0.0.1:8001/m"}}',
        "HELSEGRAF_OIDC_ISSUER": DEFAULT_ISSUER,
        "HELSEGRAF_OIDC_AUDIENCE": DEFAULT_AUDIENCE,
        "HELSEGRAF_OIDC_JWKS_URL": "http://127.0.0.1:8001/oidc/jwks",
        "HELSEGRAF_ID_SECRET": "e" * 40,
        "HELSEGRAF_AUDIT_PATH": "/var/lib/helsegraf/audit.sqlite3",
        "HELSEGRAF_USERDATA_PATH": "/var/lib/helsegraf/userdata.sqlite3",
        "HELSEGRAF_CLIENTS": '{"helsegraf-portal": {"kind": "portal"}}',
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert Settings().production
    monkeypatch.delenv("HELSEGRAF_OIDC_ISSUER")
    with pytest.raises(ValidationError, match="HELSEGRAF_OIDC_ISSUER must be set in production"):
        Settings()


def test_embedded_mocks_never_in_production() -> None:
    """Even settings that skipped validation never ask for the embedded mocks."""
    unvalidated = Settings.model_construct(env="production", id_secret=SecretStr("x" * 40))
    assert unvalidated.ehr is None
    assert not unvalidated.embedded_mocks
    assert "HELSEGRAF_OIDC_JWKS_URL" in unvalidated.unset_in_production()
    assert Settings.model_construct(env="test").embedded_mocks


def test_open_requests_must_hold_the_requests_in_flight() -> None:
    with pytest.raises(ValidationError, match="MAX_OPEN_REQUESTS"):
        Settings.model_validate({"max_in_flight": 64, "max_open_requests": 32})
    settings = Settings.model_validate({"max_in_flight": 32, "max_open_requests": 32})
    assert settings.max_open_requests == 32


def test_an_upstream_queue_may_be_empty_but_not_negative() -> None:
    url = "https://ehr.internal/fhir/R4"
    assert Settings.model_validate({"ehr": {"url": url, "max_queue": 0}}).ehr is not None
    with pytest.raises(ValidationError):
        Settings.model_validate({"ehr": {"url": url, "max_queue": -1}})
