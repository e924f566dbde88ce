import pytest
from pydantic import ValidationError

from gateway.settings import Settings


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
    settings = Settings(env="production", id_secret="x" * 40, clients=PORTAL)
    assert not settings.graphiql


def test_municipality_codes_are_validated() -> None:
    with pytest.raises(ValidationError, match="four-digit municipality code"):
        Settings(municipalities={"Oslo": {"url": "http://x"}})


def test_timeouts_are_bounded() -> None:
    with pytest.raises(ValidationError, match="timeout_s"):
        Settings(ehr={"url": "http://x", "timeout_s": 0})
