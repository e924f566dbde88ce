"""Bearer-token validation against the mock issuer's JWKS, served over ASGI."""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
import time
import traceback
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm

from gateway.auth import (
    GENERIC_MESSAGE,
    MAX_LEEWAY_S,
    AuthenticationError,
    TokenValidator,
)
from gateway.jwks import JwksCache
from mocks.oidc import DEFAULT_AUDIENCE, DEFAULT_ISSUER, MockIssuer, create_oidc_app, jwk_thumbprint
from mocks.population import Person, Population

JWKS_URL = "http://oidc.test/jwks"
EVIL_URL = "https://evil.example/keys"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class IssuerTransport(httpx.AsyncBaseTransport):
    """The mock issuer's app behind a transport that records every request the client makes.

    `mode` breaks the issuer: "refused" (connection error), "503", "garbage" (not JSON),
    "empty" (a JWKS without keys); `delay_s` slows each answer.
    """

    def __init__(self, issuer: MockIssuer) -> None:
        self.urls: list[str] = []
        self.mode = "ok"
        self.delay_s = 0.0
        self.serve(issuer)

    def serve(self, issuer: MockIssuer) -> None:
        self._inner = httpx.ASGITransport(app=create_oidc_app(issuer))

    @property
    def jwks_fetches(self) -> int:
        return sum(url == JWKS_URL for url in self.urls)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.mode == "refused":
            raise httpx.ConnectError("issuer unreachable", request=request)
        if self.mode == "503":
            return httpx.Response(503, text="down for maintenance")
        if self.mode == "garbage":
            return httpx.Response(200, text="<html>not json</html>")
        if self.mode == "empty":
            return httpx.Response(200, json={"keys": []})
        return await self._inner.handle_async_request(request)


@pytest.fixture
def issuer() -> MockIssuer:
    return MockIssuer()


@pytest.fixture
def kari(population: Population) -> Person:
    return population.persona("kari")


@pytest.fixture
def transport(issuer: MockIssuer) -> IssuerTransport:
    return IssuerTransport(issuer)


@pytest.fixture
async def client(transport: IssuerTransport) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=transport, base_url="http://oidc.test") as client:
        yield client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def keys(client: httpx.AsyncClient, clock: Clock) -> JwksCache:
    return JwksCache(client, JWKS_URL, clock=clock)


@pytest.fixture
def validator(keys: JwksCache) -> TokenValidator:
    return TokenValidator(keys, issuer=DEFAULT_ISSUER, audience=DEFAULT_AUDIENCE)


# -- token building ----------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def forge(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    """A compact JWS built by hand, for tokens no honest library would produce."""
    head = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    return head + "." + b64url(sign(head.encode("ascii")))


def claims_for(person: Person, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": DEFAULT_ISSUER,
        "aud": DEFAULT_AUDIENCE,
        "iat": now,
        "exp": now + 600,
        "sub": "pairwise-subject",  # every access token names one (RFC 9068 §2.2)
        "acr": "idporten-loa-high",
        "pid": person.nin,
        "scope": "openid helsegraf",
    }
    claims.update(overrides)
    return claims


def public_pem(issuer: MockIssuer) -> bytes:
    key = ECAlgorithm.from_jwk(json.dumps(issuer.jwks()["keys"][0]))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def hmac_signer(secret: bytes, digest: str) -> Callable[[bytes], bytes]:
    return lambda data: hmac.new(secret, data, digest).digest()


def attacker_token(claims: dict[str, Any], headers: dict[str, Any]) -> str:
    """A token signed by a fresh EC key the issuer never published."""
    attacker = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(claims, attacker, algorithm="ES256", headers=headers)


def attacker_jwk() -> tuple[ec.EllipticCurvePrivateKey, dict[str, Any]]:
    attacker = ec.generate_private_key(ec.SECP256R1())
    public = ECAlgorithm.to_jwk(attacker.public_key(), as_dict=True)
    return attacker, {**public, "kid": jwk_thumbprint(public), "alg": "ES256", "use": "sig"}


def tampered(token: str, **changes: Any) -> str:
    """The token with claims changed and the original signature kept."""
    head, _payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(changes)
    return ".".join([head, b64url(json.dumps(claims).encode()), signature])


def now() -> int:
    return int(time.time())


# -- the happy path ----------------------------------------------------------------------


async def test_valid_token_for_kari_gives_her_principal(
    validator: TokenValidator, issuer: MockIssuer, kari: Person
) -> None:
    token = issuer.token_for(kari)
    principal = await validator.validate(token)
    assert principal.nin == kari.nin
    assert principal.acr == "idporten-loa-high"
    assert principal.scopes == frozenset({"openid", "helsegraf"})
    assert principal.client_id == "helsegraf-portal"
    assert principal.token_id == jwt.decode(token, options={"verify_signature": False})["jti"]


async def test_substantial_assurance_is_accepted_by_default(
    validator: TokenValidator, issuer: MockIssuer, kari: Person
) -> None:
    principal = await validator.validate(issuer.token_for(kari, acr="idporten-loa-substantial"))
    assert principal.acr == "idporten-loa-substantial"


async def test_client_id_falls_back_to_azp_and_may_be_absent(
    validator: TokenValidator, issuer: MockIssuer, kari: Person
) -> None:
    via_azp = issuer.token_for(kari, overrides={"client_id": None, "azp": "partner-app"})
    assert (await validator.validate(via_azp)).client_id == "partner-app"
    neither = issuer.token_for(kari, overrides={"client_id": None, "jti": None, "scope": None})
    principal = await validator.validate(neither)
    assert principal.client_id is None
    assert principal.token_id is None
    assert principal.scopes == frozenset()


async def test_audience_list_containing_ours_is_accepted(
    validator: TokenValidator, issuer: MockIssuer, kari: Person
) -> None:
    token = issuer.token_for(kari, overrides={"aud": ["other-api", DEFAULT_AUDIENCE]})
    assert (await validator.validate(token)).nin == kari.nin


async def test_tokens_from_a_separate_default_issuer_instance_validate(
    validator: TokenValidator, kari: Person
) -> None:
    # As a `helsegraf token` process would: its own MockIssuer, same derived key.
    assert (await validator.validate(MockIssuer().token_for(kari))).nin == kari.nin


# -- refusals ----------------------------------------------------------------------------

Build = Callable[[MockIssuer, Person], str]


def _refusal(build: Build, reason: str, id: str) -> Any:
    return pytest.param(build, reason, id=id)


def _without(claim: str) -> Build:
    return lambda i, p: i.token_for(p, overrides={claim: None})


def _with_last_digit_changed(nin: str) -> str:
    return nin[:-1] + str((int(nin[-1]) + 1) % 10)


REFUSALS = [
    _refusal(lambda i, p: "", "missing-token", "empty-token"),
    _refusal(lambda i, p: "not-a-token", "malformed", "garbage"),
    _refusal(lambda i, p: "a.b.c", "malformed", "three-garbage-segments"),
    _refusal(lambda i, p: "Bearer " + i.token_for(p), "malformed", "scheme-left-in"),
    _refusal(
        lambda i, p: i.token_for(p).rsplit(".", 1)[0] + "." + i.token_for(p).rsplit(".", 1)[1][:20],
        "bad-signature",
        "truncated-signature",
    ),
    _refusal(
        lambda i, p: tampered(i.token_for(p), exp=now() + 86_400),
        "bad-signature",
        "payload-changed-after-signing",
    ),
    _refusal(lambda i, p: "x" * 20_000, "malformed", "oversized"),
    _refusal(
        lambda i, p: i.token_for(p, overrides={"exp": now() - 120}), "expired", "expired-2-min-ago"
    ),
    _refusal(
        lambda i, p: i.token_for(p, overrides={"nbf": now() + 600}),
        "not-yet-valid",
        "nbf-in-10-min",
    ),
    _refusal(
        lambda i, p: i.token_for(p, overrides={"iat": now() + 600}),
        "not-yet-valid",
        "issued-in-the-future",
    ),
    _refusal(
        lambda i, p: i.token_for(p, overrides={"aud": "someone-else"}),
        "wrong-audience",
        "wrong-audience",
    ),
    _refusal(
        lambda i, p: MockIssuer(issuer="https://evil.example").token_for(p),
        "wrong-issuer",
        "right-key-wrong-issuer",
    ),
    *(
        _refusal(
            _without(claim),
            "missing-claim",
            f"missing-{claim}",
        )
        for claim in ("iss", "aud", "exp", "iat", "acr", "pid", "sub")
    ),
    _refusal(
        lambda i, p: i.token_for(p, overrides={"pid": _with_last_digit_changed(p.nin)}),
        "bad-pid",
        "pid-with-wrong-check-digit",
    ),
    _refusal(lambda i, p: i.token_for(p, overrides={"pid": "abc"}), "bad-pid", "pid-not-digits"),
    _refusal(
        lambda i, p: i.token_for(p, overrides={"pid": int(p.nin)}), "bad-pid", "pid-as-number"
    ),
    _refusal(lambda i, p: i.token_for(p, acr="idporten-loa-low"), "acr-not-accepted", "acr-low"),
    _refusal(lambda i, p: i.token_for(p, acr="Level4"), "acr-not-accepted", "acr-unknown"),
    _refusal(
        lambda i, p: i.token_for(p, overrides={"acr": ["idporten-loa-high"]}),
        "acr-not-accepted",
        "acr-as-list",
    ),
    _refusal(
        lambda i, p: i.token_for(p, overrides={"scope": ["openid"]}), "bad-claim", "scope-as-list"
    ),
    _refusal(lambda i, p: i.token_for(p, overrides={"sub": ""}), "bad-claim", "empty-sub"),
    _refusal(lambda i, p: i.token_for(p, overrides={"sub": 42}), "bad-claim", "sub-not-a-string"),
    _refusal(
        lambda i, p: forge({"alg": "none", "kid": i.kid}, claims_for(p), lambda _: b""),
        "bad-algorithm",
        "alg-none",
    ),
    _refusal(
        lambda i, p: forge({"alg": "None", "kid": i.kid}, claims_for(p), lambda _: b""),
        "bad-algorithm",
        "alg-None-capitalised",
    ),
    _refusal(
        lambda i, p: forge({"kid": i.kid}, claims_for(p), lambda _: b""),
        "bad-algorithm",
        "alg-missing",
    ),
    _refusal(
        lambda i, p: forge(
            {"alg": "HS256", "kid": i.kid}, claims_for(p), hmac_signer(public_pem(i), "sha256")
        ),
        "bad-algorithm",
        "hs256-keyed-with-public-pem",
    ),
    _refusal(
        lambda i, p: forge(
            {"alg": "HS512", "kid": i.kid}, claims_for(p), hmac_signer(public_pem(i), "sha512")
        ),
        "bad-algorithm",
        "hs512-keyed-with-public-pem",
    ),
    _refusal(
        lambda i, p: forge(
            {"alg": "HS256", "kid": i.kid},
            claims_for(p),
            hmac_signer(json.dumps(i.jwks()).encode(), "sha256"),
        ),
        "bad-algorithm",
        "hs256-keyed-with-jwks-json",
    ),
    _refusal(
        lambda i, p: forge(
            {"alg": "HS256", "kid": i.kid}, claims_for(p), hmac_signer(b"secret", "sha256")
        ),
        "bad-algorithm",
        "hs256-any-secret",
    ),
    _refusal(
        lambda i, p: forge({"alg": "ES384", "kid": i.kid}, claims_for(p), lambda _: b"\0" * 96),
        "bad-algorithm",
        "es384-header-on-p256-key",
    ),
    _refusal(
        lambda i, p: forge({"alg": "RS256", "kid": i.kid}, claims_for(p), lambda _: b"\0" * 256),
        "bad-algorithm",
        "rs256-header-on-ec-key",
    ),
    _refusal(
        lambda i, p: forge({"alg": ["ES256"], "kid": i.kid}, claims_for(p), lambda _: b""),
        "bad-algorithm",
        "alg-not-a-string",
    ),
    _refusal(
        lambda i, p: attacker_token(claims_for(p), {"kid": i.kid}),
        "bad-signature",
        "other-ec-key-same-kid",
    ),
    _refusal(
        lambda i, p: jwt.encode(claims_for(p), ec.generate_private_key(ec.SECP256R1()), "ES256"),
        "missing-kid",
        "no-kid",
    ),
    _refusal(lambda i, p: MockIssuer(seed="stranger").token_for(p), "unknown-kid", "unknown-kid"),
]


@pytest.mark.parametrize(("build", "reason"), REFUSALS)
async def test_refused(
    validator: TokenValidator,
    issuer: MockIssuer,
    kari: Person,
    build: Build,
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = build(issuer, kari)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthenticationError) as caught:
        await validator.validate(token)
    error = caught.value
    assert error.reason == reason
    assert str(error) == GENERIC_MESSAGE
    # Nothing that reaches a log, a traceback or a client names the person.
    shown = [str(error), repr(error), str(error.__context__), *traceback.format_exception(error)]
    assert not [text for text in shown if kari.nin in text]
    assert kari.nin not in caplog.text


# -- headers that point at other keys ----------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("jku", id="jku"),
        pytest.param("x5u", id="x5u"),
    ],
)
async def test_key_urls_in_the_header_are_never_fetched(
    validator: TokenValidator, transport: IssuerTransport, kari: Person, header: str
) -> None:
    token = attacker_token(claims_for(kari), {"kid": "attacker", header: EVIL_URL})
    with pytest.raises(AuthenticationError) as caught:
        await validator.validate(token)
    assert caught.value.reason == "forbidden-header"
    assert [url for url in transport.urls if url != JWKS_URL] == []


@pytest.mark.parametrize("use_issuers_kid", [True, False], ids=["issuers-kid", "own-kid"])
async def test_embedded_jwk_header_key_never_validates(
    validator: TokenValidator, issuer: MockIssuer, kari: Person, use_issuers_kid: bool
) -> None:
    attacker, public = attacker_jwk()
    kid = issuer.kid if use_issuers_kid else public["kid"]
    token = jwt.encode(
        claims_for(kari), attacker, algorithm="ES256", headers={"kid": kid, "jwk": public}
    )
    with pytest.raises(AuthenticationError):
        await validator.validate(token)


async def test_x5c_header_is_refused(validator: TokenValidator, kari: Person) -> None:
    token = attacker_token(claims_for(kari), {"kid": "attacker", "x5c": ["MIIB"]})
    with pytest.raises(AuthenticationError) as caught:
        await validator.validate(token)
    assert caught.value.reason == "forbidden-header"


async def test_key_pointing_headers_refuse_even_an_honestly_signed_token(
    validator: TokenValidator, issuer: MockIssuer, kari: Person
) -> None:
    # The documented policy: such tokens are refused outright, not merely ignored.
    assert (await validator.validate(issuer.token_for(kari))).nin == kari.nin
    token = issuer.mint(claims_for(kari), headers={"jku": JWKS_URL})
    with pytest.raises(AuthenticationError) as caught:
        await validator.validate(token)
    assert caught.value.reason == "forbidden-header"


# -- leeway ------------------------------------------------------------------------------


async def test_expired_10s_ago_passes_with_leeway_30_but_not_0(
    keys: JwksCache, issuer: MockIssuer, kari: Person
) -> None:
    token = issuer.token_for(kari, overrides={"exp": now() - 10})
    lenient = TokenValidator(keys, issuer=DEFAULT_ISSUER, audience=DEFAULT_AUDIENCE, leeway_s=30)
    strict = TokenValidator(keys, issuer=DEFAULT_ISSUER, audience=DEFAULT_AUDIENCE, leeway_s=0)
    assert (await lenient.validate(token)).nin == kari.nin
    with pytest.raises(AuthenticationError) as caught:
        await strict.validate(token)
    assert caught.value.reason == "expired"


async def test_nbf_within_leeway_passes(
    validator: TokenValidator, issuer: MockIssuer, kari: Person
) -> None:
    token = issuer.token_for(kari, overrides={"nbf": now() + 10})
    assert (await validator.validate(token)).nin == kari.nin


@pytest.mark.parametrize("leeway", [-1, MAX_LEEWAY_S + 1, 3600], ids=["negative", "max+1", "1h"])
def test_leeway_is_bounded(keys: JwksCache, leeway: int) -> None:
    with pytest.raises(ValueError, match="leeway_s"):
        TokenValidator(keys, issuer=DEFAULT_ISSUER, audience=DEFAULT_AUDIENCE, leeway_s=leeway)


async def test_accepted_acr_is_configurable(
    keys: JwksCache, issuer: MockIssuer, kari: Person
) -> None:
    high_only = TokenValidator(
        keys,
        issuer=DEFAULT_ISSUER,
        audience=DEFAULT_AUDIENCE,
        accepted_acr=frozenset({"idporten-loa-high"}),
    )
    assert (await high_only.validate(issuer.token_for(kari))).acr == "idporten-loa-high"
    with pytest.raises(AuthenticationError) as caught:
        await high_only.validate(issuer.token_for(kari, acr="idporten-loa-substantial"))
    assert caught.value.reason == "acr-not-accepted"


# -- the key cache -----------------------------------------------------------------------


async def test_keys_are_fetched_once_and_cached(
    validator: TokenValidator, transport: IssuerTransport, issuer: MockIssuer, kari: Person
) -> None:
    for _ in range(5):
        await validator.validate(issuer.token_for(kari))
    assert transport.jwks_fetches == 1


async def test_unknown_kid_refetches_once_per_cooldown_however_many_tokens(
    validator: TokenValidator,
    transport: IssuerTransport,
    clock: Clock,
    issuer: MockIssuer,
    kari: Person,
) -> None:
    await validator.validate(issuer.token_for(kari))
    assert transport.jwks_fetches == 1
    stranger = MockIssuer(seed="stranger")
    clock.advance(100)

    async def refused() -> str:
        try:
            await validator.validate(stranger.token_for(kari))
        except AuthenticationError as error:
            return error.reason
        return "accepted"

    reasons = await asyncio.gather(*(refused() for _ in range(20)))
    reasons += [await refused() for _ in range(20)]
    clock.advance(29)
    reasons.append(await refused())
    assert set(reasons) == {"unknown-kid"}
    assert transport.jwks_fetches == 2

    clock.advance(2)  # 31 s after the refetch: the cool-down is over
    assert await refused() == "unknown-kid"
    assert transport.jwks_fetches == 3


async def test_unknown_kid_within_cooldown_of_first_fetch_does_not_refetch(
    validator: TokenValidator, transport: IssuerTransport, kari: Person
) -> None:
    for _ in range(3):
        with pytest.raises(AuthenticationError, match=GENERIC_MESSAGE):
            await validator.validate(MockIssuer(seed="stranger").token_for(kari))
    assert transport.jwks_fetches == 1


async def test_concurrent_first_requests_share_one_fetch(
    validator: TokenValidator, transport: IssuerTransport, issuer: MockIssuer, kari: Person
) -> None:
    transport.delay_s = 0.05
    principals = await asyncio.gather(
        *(validator.validate(issuer.token_for(kari)) for _ in range(10))
    )
    assert {p.nin for p in principals} == {kari.nin}
    assert transport.jwks_fetches == 1


async def test_key_rotation_refetches_once_then_accepts_the_new_key(
    validator: TokenValidator, transport: IssuerTransport, clock: Clock, kari: Person
) -> None:
    old = MockIssuer()
    await validator.validate(old.token_for(kari))
    rotated = MockIssuer(seed="rotated")
    assert rotated.kid != old.kid
    transport.serve(rotated)
    clock.advance(31)

    assert (await validator.validate(rotated.token_for(kari))).nin == kari.nin
    assert (await validator.validate(rotated.token_for(kari))).nin == kari.nin
    assert transport.jwks_fetches == 2
    with pytest.raises(AuthenticationError) as caught:
        await validator.validate(old.token_for(kari))  # withdrawn with the old key set
    assert caught.value.reason == "unknown-kid"


@pytest.mark.parametrize("mode", ["refused", "503", "garbage", "empty"])
async def test_cached_keys_still_validate_when_the_jwks_endpoint_fails(
    validator: TokenValidator,
    transport: IssuerTransport,
    clock: Clock,
    issuer: MockIssuer,
    kari: Person,
    mode: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await validator.validate(issuer.token_for(kari))
    transport.mode = mode
    clock.advance(31)
    with pytest.raises(AuthenticationError) as caught:
        await validator.validate(MockIssuer(seed="stranger").token_for(kari))
    assert caught.value.reason == "unknown-kid"
    assert transport.jwks_fetches == 2  # the refetch was tried, and failed
    assert "JWKS" in caplog.text
    assert (await validator.validate(issuer.token_for(kari))).nin == kari.nin
    clock.advance(7200)  # past max age too: the last known keys still serve
    assert (await validator.validate(issuer.token_for(kari))).nin == kari.nin


async def test_jwks_down_from_the_start_refuses_with_keys_unavailable(
    validator: TokenValidator, transport: IssuerTransport, issuer: MockIssuer, kari: Person
) -> None:
    transport.mode = "refused"
    with pytest.raises(AuthenticationError) as caught:
        await validator.validate(issuer.token_for(kari))
    assert caught.value.reason == "keys-unavailable"


async def test_keys_older_than_max_age_are_refetched(
    client: httpx.AsyncClient, transport: IssuerTransport, clock: Clock, kari: Person
) -> None:
    keys = JwksCache(client, JWKS_URL, clock=clock, max_age_s=600)
    validator = TokenValidator(keys, issuer=DEFAULT_ISSUER, audience=DEFAULT_AUDIENCE)
    old = MockIssuer()
    await validator.validate(old.token_for(kari))
    transport.serve(MockIssuer(seed="rotated"))
    clock.advance(599)
    await validator.validate(old.token_for(kari))
    assert transport.jwks_fetches == 1
    clock.advance(1)
    with pytest.raises(AuthenticationError) as caught:
        await validator.validate(old.token_for(kari))
    assert caught.value.reason == "unknown-kid"
    assert transport.jwks_fetches == 2


async def test_unusable_jwks_entries_are_skipped(
    client: httpx.AsyncClient, clock: Clock, issuer: MockIssuer, kari: Person
) -> None:
    good = issuer.jwks()["keys"][0]
    published = [
        {"kty": "oct", "k": b64url(b"secret"), "kid": "hmac"},
        {**good, "kid": "enc", "use": "enc"},
        {**good, "kid": "hs-labelled", "alg": "HS256"},
        {**good, "kid": None},
        "not-a-key",
        good,
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"keys": published})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as jwks_client:
        keys = JwksCache(jwks_client, JWKS_URL, clock=clock)
        assert (await keys.key_for(issuer.kid)).algorithm_name == "ES256"
        for kid in ("hmac", "enc", "hs-labelled"):
            with pytest.raises(AuthenticationError) as caught:
                await keys.key_for(kid)
            assert caught.value.reason == "unknown-kid"


# -- redaction ---------------------------------------------------------------------------


async def test_principal_repr_and_str_redact_the_nin(
    validator: TokenValidator, issuer: MockIssuer, kari: Person
) -> None:
    principal = await validator.validate(issuer.token_for(kari))
    assert kari.nin not in repr(principal)
    assert kari.nin not in str(principal)
    assert kari.nin not in f"{[principal]}"
    assert "redacted" in repr(principal)


def test_authentication_error_text_is_generic_whatever_the_reason() -> None:
    error = AuthenticationError("expired")
    assert str(error) == GENERIC_MESSAGE
    assert error.reason == "expired"
    assert "expired" in repr(error)


# -- garbage never escapes as anything but AuthenticationError ---------------------------


@dataclass
class StaticKeys:
    issuer: MockIssuer

    async def key_for(self, kid: str) -> jwt.PyJWK:
        if kid != self.issuer.kid:
            raise AuthenticationError("unknown-kid")
        return jwt.PyJWK(self.issuer.jwks()["keys"][0])


_STATIC_ISSUER = MockIssuer()
_STATIC = TokenValidator(
    StaticKeys(_STATIC_ISSUER), issuer=DEFAULT_ISSUER, audience=DEFAULT_AUDIENCE
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
_SEGMENTS = st.from_regex(r"[A-Za-z0-9_\-]{0,60}\.[A-Za-z0-9_\-]{0,60}\.[A-Za-z0-9_\-]{0,60}")


@settings(max_examples=150, deadline=None)
@given(
    token=st.text(max_size=200)
    | _SEGMENTS
    | st.builds(
        lambda header, claims: forge({**header, "alg": "ES256"}, claims, lambda _: b"\1" * 64),
        st.dictionaries(st.sampled_from(["kid", "typ", "crit", "b64"]), _JSON, max_size=3),
        st.dictionaries(
            st.sampled_from(["iss", "aud", "exp", "iat", "nbf", "acr", "pid", "scope"]), _JSON
        ),
    )
)
def test_arbitrary_input_only_ever_raises_authentication_error(token: str) -> None:
    with pytest.raises(AuthenticationError, match=f"^{GENERIC_MESSAGE}$"):
        asyncio.run(_STATIC.validate(token))


def test_issuer_signed_garbage_claims_are_refused_not_crashed(kari: Person) -> None:
    token = _STATIC_ISSUER.mint(claims_for(kari, exp="soon", acr={"level": 4}))
    with pytest.raises(AuthenticationError) as caught:
        asyncio.run(_STATIC.validate(token))
    assert caught.value.reason == "malformed"


# -- verified tokens are remembered briefly ------------------------------------------------


async def test_a_verified_token_is_not_verified_again_until_it_expires(
    keys: JwksCache, issuer: MockIssuer, kari: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = [float(now())]
    validator = TokenValidator(
        keys, issuer=DEFAULT_ISSUER, audience=DEFAULT_AUDIENCE, leeway_s=0, clock=lambda: moment[0]
    )
    token = issuer.token_for(kari, overrides={"exp": now() + 45})
    first = await validator.validate(token)
    verified: list[str] = []
    original = jwt.decode

    def counting(*args: Any, **kwargs: Any) -> Any:
        verified.append("decode")
        return original(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    assert await validator.validate(token) == first
    assert verified == []
    other = issuer.token_for(kari, overrides={"exp": now() + 45, "jti": "another"})
    await validator.validate(other)
    assert verified == ["decode"]  # a different token is verified in full
    moment[0] += 50  # past `exp`: the remembered verdict no longer holds, so the token is
    await validator.validate(token)  # checked in full again (by the real clock, still valid)
    assert verified == ["decode", "decode"]


async def test_a_remembered_token_is_verified_again_after_a_minute(
    keys: JwksCache, issuer: MockIssuer, kari: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key withdrawn from the JWKS stops working within a minute even for tokens seen."""
    moment = [float(now())]
    validator = TokenValidator(
        keys, issuer=DEFAULT_ISSUER, audience=DEFAULT_AUDIENCE, clock=lambda: moment[0]
    )
    token = issuer.token_for(kari)
    await validator.validate(token)
    verified: list[str] = []
    original = jwt.decode

    def counting(*args: Any, **kwargs: Any) -> Any:
        verified.append("decode")
        return original(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    moment[0] += 61
    await validator.validate(token)
    assert verified == ["decode"]
