"""A mock OIDC issuer shaped like ID-porten: discovery, JWKS and token minting.

The signing key is derived from a seed, never stored, so any process built with the same
seed (the running mocks, a `helsegraf token` command, a test) signs tokens the others
accept. Everything here is for test and development only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mocks.population import Person

DEFAULT_ISSUER = "https://idporten.mock.helsegraf.dev"  # an identifier, not a served URL
DEFAULT_AUDIENCE = "helsegraf"
DEFAULT_CLIENT_ID = "helsegraf-portal"
ALGORITHM = "ES256"
ACR_VALUES = ("idporten-loa-substantial", "idporten-loa-high")

# The order n of the P-256 group: private scalars live in [1, n - 1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_TIME_CLAIMS = frozenset({"exp", "iat", "nbf", "auth_time"})
_NO_CLAIMS: Mapping[str, Any] = MappingProxyType({})


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of an EC public JWK."""
    required = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode("ascii")).digest())


class MockIssuer:
    """An ES256 token issuer whose key pair is a pure function of `seed`."""

    def __init__(self, issuer: str = DEFAULT_ISSUER, seed: str = "helsegraf-mock-issuer") -> None:
        self.issuer = issuer
        digest = hashlib.sha256(seed.encode("utf-8")).digest()
        scalar = int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1
        self._private_key = ec.derive_private_key(scalar, ec.SECP256R1())
        self._pairwise_secret = hashlib.sha256(b"pairwise-sub:" + digest).digest()
        public = ECAlgorithm.to_jwk(self._private_key.public_key(), as_dict=True)
        self.kid = jwk_thumbprint(public)
        self._public_jwk: dict[str, Any] = {
            **public,
            "kid": self.kid,
            "use": "sig",
            "alg": ALGORITHM,
        }

    def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set: the public key only."""
        return {"keys": [dict(self._public_jwk)]}

    def discovery(self, base_url: str) -> dict[str, Any]:
        """An openid-configuration document whose endpoints live under `base_url`."""
        base = base_url.rstrip("/")
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{base}/jwks",
            # Advertised for shape; this mock serves only discovery and the JWKS.
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "end_session_endpoint": f"{base}/endsession",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "form_post"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", "helsegraf"],
            "claims_supported": [
                "iss",
                "aud",
                "sub",
                "exp",
                "iat",
                "jti",
                "acr",
                "amr",
                "pid",
                "scope",
                "client_id",
                "locale",
            ],
            "acr_values_supported": list(ACR_VALUES),
            "ui_locales_supported": ["nb", "nn", "en", "se"],
        }

    def mint(
        self,
        claims: Mapping[str, Any],
        *,
        lifetime_s: int = 3600,
        headers: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed token: `iss`, `aud`, `iat`, `exp` and `jti` filled in, then `claims`.

        A claim given as None is left out, so tests can mint tokens missing `iat` or
        `exp`. `headers` are added to the JOSE header; the algorithm is always ES256.
        """
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": DEFAULT_AUDIENCE,
            "iat": now,
            "exp": now + lifetime_s,
            "jti": uuid.uuid4().hex,
        }
        payload.update(claims)
        payload = {name: value for name, value in payload.items() if value is not None}
        header: dict[str, Any] = {"kid": self.kid, "typ": "JWT"}
        if headers:
            if "alg" in headers:
                raise ValueError("the mock issuer always signs with ES256; do not set 'alg'")
            header.update(headers)
        return jwt.encode(payload, self._private_key, algorithm=ALGORITHM, headers=header)

    def token_for(
        self,
        person: Person,
        *,
        acr: str = "idporten-loa-high",
        scope: str = "openid helsegraf",
        overrides: Mapping[str, Any] = _NO_CLAIMS,
    ) -> str:
        """An access token for `person` as ID-porten would issue it; `overrides` win."""
        claims: dict[str, Any] = {
            "sub": self.pairwise_sub(person.nin),
            "pid": person.nin,
            "acr": acr,
            "amr": ["TestID"],
            "scope": scope,
            "client_id": DEFAULT_CLIENT_ID,
            "auth_time": int(time.time()),
            "locale": "nb",
        }
        claims.update(overrides)
        return self.mint(claims)

    def pairwise_sub(self, nin: str) -> str:
        """An opaque, stable subject for `nin` that cannot be reversed without the seed."""
        mac = hmac.new(self._pairwise_secret, f"{DEFAULT_CLIENT_ID}:{nin}".encode(), "sha256")
        return _b64url(mac.digest())


def parse_claim(text: str) -> tuple[str, Any]:
    """One `key=value` claim from a command line; time claims become integers.

    Values starting with `[` or `{` are read as JSON; everything else stays a string, so
    identity numbers keep their leading zeros. Error messages never repeat the value.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValueError("a claim must be written key=value, with a non-empty key")
    if key in _TIME_CLAIMS:
        try:
            return key, int(raw.strip())
        except ValueError:
            raise ValueError(
                f"claim {key!r} must be a whole number of seconds since the epoch"
            ) from None
    if raw.startswith(("[", "{")):
        try:
            return key, json.loads(raw)
        except ValueError:
            raise ValueError(f"claim {key!r} starts like JSON but is not valid JSON") from None
    return key, raw


def create_oidc_app(issuer: MockIssuer) -> Starlette:
    """An ASGI app serving the issuer's discovery document and JWKS."""

    async def openid_configuration(request: Request) -> JSONResponse:
        # The scope's root_path is this app's own mount prefix (request.base_url is the
        # outermost app's), so advertised endpoints resolve when mounted anywhere.
        base = request.url.replace(path=request.scope.get("root_path", ""), query="")
        document = issuer.discovery(str(base))
        return JSONResponse(document, headers={"cache-control": "public, max-age=300"})

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse(
            issuer.jwks(),
            media_type="application/jwk-set+json",
            headers={"cache-control": "public, max-age=300"},
        )

    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", openid_configuration, methods=["GET"]),
            Route("/jwks", jwks, methods=["GET"]),
        ]
    )
