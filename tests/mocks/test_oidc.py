"""The mock OIDC issuer: derived keys, minted claims, claim parsing and its two endpoints."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from mocks.oidc import (
    DEFAULT_AUDIENCE,
    DEFAULT_ISSUER,
    MockIssuer,
    create_oidc_app,
    parse_claim,
)
from mocks.population import Population


def _unverified(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _verify_with(jwks: dict[str, Any], token: str) -> dict[str, Any]:
    key = jwt.PyJWK(jwks["keys"][0])
    claims: dict[str, Any] = jwt.decode(
        token, key, algorithms=["ES256"], audience=DEFAULT_AUDIENCE, issuer=DEFAULT_ISSUER
    )
    return claims


# -- keys --------------------------------------------------------------------------------


def test_same_seed_gives_the_same_public_key_and_kid() -> None:
    assert MockIssuer().jwks() == MockIssuer().jwks()
    assert MockIssuer(seed="x").kid == MockIssuer(seed="x").kid


def test_different_seed_gives_a_different_key() -> None:
    assert MockIssuer(seed="a").kid != MockIssuer(seed="b").kid
    assert MockIssuer(seed="a").jwks() != MockIssuer(seed="b").jwks()


def test_token_from_one_instance_verifies_with_another_instances_jwks(
    population: Population,
) -> None:
    token = MockIssuer().token_for(population.persona("kari"))
    claims = _verify_with(MockIssuer().jwks(), token)
    assert claims["pid"] == population.persona("kari").nin


def test_token_from_another_seed_does_not_verify(population: Population) -> None:
    token = MockIssuer(seed="someone-else").token_for(population.persona("kari"))
    with pytest.raises(jwt.InvalidSignatureError):
        _verify_with(MockIssuer().jwks(), token)


def test_jwks_publishes_one_public_es256_signing_key_without_private_material() -> None:
    (key,) = MockIssuer().jwks()["keys"]
    assert key["kty"] == "EC"
    assert key["crv"] == "P-256"
    assert key["alg"] == "ES256"
    assert key["use"] == "sig"
    assert "d" not in key


def test_kid_is_the_rfc7638_thumbprint_of_the_public_key() -> None:
    issuer = MockIssuer()
    (key,) = issuer.jwks()["keys"]
    canonical = f'{{"crv":"{key["crv"]}","kty":"{key["kty"]}","x":"{key["x"]}","y":"{key["y"]}"}}'
    digest = hashlib.sha256(canonical.encode()).digest()
    assert issuer.kid == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert key["kid"] == issuer.kid


def test_jwks_returns_a_copy_callers_cannot_corrupt() -> None:
    issuer = MockIssuer()
    issuer.jwks()["keys"][0]["kid"] = "tampered"
    assert issuer.jwks()["keys"][0]["kid"] == issuer.kid


# -- minting -----------------------------------------------------------------------------


def test_mint_fills_issuer_audience_times_and_a_fresh_jti() -> None:
    issuer = MockIssuer()
    before = int(time.time())
    first = _unverified(issuer.mint({"pid": "x"}, lifetime_s=600))
    second = _unverified(issuer.mint({"pid": "x"}))
    assert first["iss"] == DEFAULT_ISSUER
    assert first["aud"] == DEFAULT_AUDIENCE
    assert before <= first["iat"] <= int(time.time())
    assert first["exp"] == first["iat"] + 600
    assert second["exp"] == second["iat"] + 3600
    assert first["jti"] != second["jti"]


def test_mint_puts_kid_and_extra_headers_in_the_jose_header() -> None:
    issuer = MockIssuer()
    header = jwt.get_unverified_header(issuer.mint({}, headers={"typ": "at+jwt"}))
    assert header == {"alg": "ES256", "kid": issuer.kid, "typ": "at+jwt"}


def test_mint_lets_claims_override_defaults_and_none_drop_them() -> None:
    claims = _unverified(MockIssuer().mint({"aud": "other", "exp": 42, "iat": None}))
    assert claims["aud"] == "other"
    assert claims["exp"] == 42
    assert "iat" not in claims


def test_mint_refuses_to_change_the_algorithm() -> None:
    with pytest.raises(ValueError, match="ES256"):
        MockIssuer().mint({}, headers={"alg": "HS256"})


def test_issuer_name_is_configurable() -> None:
    claims = _unverified(MockIssuer(issuer="https://other.example").mint({}))
    assert claims["iss"] == "https://other.example"


def test_token_for_carries_pid_acr_scope_and_client(population: Population) -> None:
    kari = population.persona("kari")
    claims = _unverified(MockIssuer().token_for(kari))
    assert claims["pid"] == kari.nin
    assert claims["acr"] == "idporten-loa-high"
    assert claims["scope"] == "openid helsegraf"
    assert claims["client_id"] == "helsegraf-portal"


def test_token_for_sub_is_opaque_stable_and_pairwise(population: Population) -> None:
    kari, ola = population.persona("kari"), population.persona("ola")
    issuer = MockIssuer()
    sub = _unverified(issuer.token_for(kari))["sub"]
    assert kari.nin not in sub
    assert sub == _unverified(MockIssuer().token_for(kari))["sub"]
    assert sub != _unverified(issuer.token_for(ola))["sub"]
    assert sub != _unverified(MockIssuer(seed="other").token_for(kari))["sub"]


def test_token_for_overrides_are_merged_last(population: Population) -> None:
    claims = _unverified(
        MockIssuer().token_for(
            population.persona("kari"),
            acr="idporten-loa-substantial",
            overrides={"exp": 7, "aud": "elsewhere", "acr": "level-x"},
        )
    )
    assert claims["exp"] == 7
    assert claims["aud"] == "elsewhere"
    assert claims["acr"] == "level-x"


# -- parse_claim -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("exp=1700000000", ("exp", 1700000000), id="exp-becomes-int"),
        pytest.param("iat=-5", ("iat", -5), id="iat-becomes-int"),
        pytest.param("nbf= 12 ", ("nbf", 12), id="nbf-trims-spaces"),
        pytest.param("acr=idporten-loa-substantial", ("acr", "idporten-loa-substantial"), id="acr"),
        pytest.param("pid=01018012345", ("pid", "01018012345"), id="pid-keeps-leading-zero"),
        pytest.param("scope=openid helsegraf", ("scope", "openid helsegraf"), id="spaces-kept"),
        pytest.param("note=a=b", ("note", "a=b"), id="splits-on-first-equals"),
        pytest.param("aud=", ("aud", ""), id="empty-value"),
        pytest.param('aud=["a","b"]', ("aud", ["a", "b"]), id="json-list"),
        pytest.param('cnf={"x":1}', ("cnf", {"x": 1}), id="json-object"),
    ],
)
def test_parse_claim(text: str, expected: tuple[str, Any]) -> None:
    assert parse_claim(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("01018012345", "key=value", id="no-equals-sign"),
        pytest.param("=01018012345", "key=value", id="empty-key"),
        pytest.param("exp=soon", "'exp' must be a whole number", id="exp-not-a-number"),
        pytest.param("iat=1.5", "'iat' must be a whole number", id="iat-fraction"),
        pytest.param("nbf=", "'nbf' must be a whole number", id="nbf-empty"),
        pytest.param("aud=[oops", "'aud' starts like JSON", id="broken-json"),
    ],
)
def test_parse_claim_refuses_malformed_pairs(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_claim(text)
    value = text.partition("=")[2] if "=" in text else text
    if value:
        assert value not in str(caught.value)


# -- the app -----------------------------------------------------------------------------


async def test_discovery_names_the_issuer_and_a_jwks_uri_under_the_request_base() -> None:
    issuer = MockIssuer()
    transport = httpx.ASGITransport(app=create_oidc_app(issuer))
    async with httpx.AsyncClient(transport=transport, base_url="http://oidc.test") as client:
        response = await client.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    document = response.json()
    assert document["issuer"] == DEFAULT_ISSUER
    assert document["jwks_uri"] == "http://oidc.test/jwks"
    assert document["token_endpoint"] == "http://oidc.test/token"
    assert document["id_token_signing_alg_values_supported"] == ["ES256"]
    assert set(document["acr_values_supported"]) == {
        "idporten-loa-substantial",
        "idporten-loa-high",
    }


async def test_jwks_endpoint_serves_the_issuers_public_keys() -> None:
    issuer = MockIssuer(seed="served")
    transport = httpx.ASGITransport(app=create_oidc_app(issuer))
    async with httpx.AsyncClient(transport=transport, base_url="http://oidc.test") as client:
        response = await client.get("/jwks")
        refused = await client.post("/jwks")
    assert response.status_code == 200
    assert response.json() == issuer.jwks()
    assert refused.status_code == 405


async def test_discovery_is_mount_aware() -> None:
    issuer = MockIssuer()
    outer = Starlette(routes=[Mount("/idp", app=create_oidc_app(issuer))])
    transport = httpx.ASGITransport(app=outer)
    async with httpx.AsyncClient(transport=transport, base_url="http://oidc.test") as client:
        document = (await client.get("/idp/.well-known/openid-configuration")).json()
        assert document["jwks_uri"] == "http://oidc.test/idp/jwks"
        served = (await client.get(document["jwks_uri"])).json()
    assert served == issuer.jwks()


def test_discovery_document_is_plain_json() -> None:
    document = MockIssuer().discovery("https://example.test/base/")
    assert document["jwks_uri"] == "https://example.test/base/jwks"
    assert json.loads(json.dumps(document)) == document
