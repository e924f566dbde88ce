"""The `helsegraf` console script's offline commands."""

from __future__ import annotations

import jwt
import pytest

from gateway.cli import main
from gateway.schema import print_sdl
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
    assert set(settings.municipalities) == {"5001", "5037", "0301"}
    assert not settings.embedded_mocks
