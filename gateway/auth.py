"""Bearer-token authentication: ID-porten-style access tokens checked against a JWKS.

Policy, in order: the header must name an allow-listed asymmetric algorithm and a `kid`;
headers that point at other keys (`jku`, `x5u`, `jwk`, `x5c`) refuse the token outright,
so a key supplied by the caller is never used; the key comes only from the issuer's
JWKS, and that key - not the token header - decides the algorithm; then signature,
`iss`, `aud`, `exp`, `iat`, `nbf` (bounded leeway), `sub`, `acr` and `pid` are checked.

Every refusal is an `AuthenticationError` whose text is the same generic sentence; the
`reason` code is for logs and never holds a claim value.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import jwt
from cachetools import TTLCache

from authz.identity import is_valid_national_id
from authz.principal import Principal

GENERIC_MESSAGE = "Authentication is required"
ALLOWED_ALGORITHMS = frozenset({"ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "EdDSA"})
FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c"})
# `sub` too: RFC 9068 §2.2 requires it in every JWT access token, and ID-porten sends it.
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "sub", "acr", "pid")
VERIFIED_TTL_S = 60.0
VERIFIED_MAX = 50_000
MAX_LEEWAY_S = 120
MAX_TOKEN_CHARS = 16_384


class AuthenticationError(Exception):
    """A refused credential. `str()` is always generic; `reason` is a short log code."""

    def __init__(self, reason: str) -> None:
        super().__init__(GENERIC_MESSAGE)
        self.reason = reason

    def __str__(self) -> str:
        return GENERIC_MESSAGE

    def __repr__(self) -> str:
        return f"AuthenticationError(reason={self.reason!r})"


class KeySource(Protocol):
    """Where verification keys come from, by `kid`."""

    async def key_for(self, kid: str) -> jwt.PyJWK: ...


# PyJWT's errors, most specific first, as log reason codes.
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.InvalidSignatureError, "bad-signature"),
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not-yet-valid"),
    (jwt.InvalidAudienceError, "wrong-audience"),
    (jwt.InvalidIssuerError, "wrong-issuer"),
    (jwt.MissingRequiredClaimError, "missing-claim"),
    (jwt.InvalidAlgorithmError, "bad-algorithm"),
    (jwt.InvalidIssuedAtError, "bad-claim"),
    (jwt.exceptions.InvalidSubjectError, "bad-claim"),
    (jwt.DecodeError, "malformed"),
)


def _reason_for(exc: jwt.PyJWTError) -> str:
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return "invalid"


class TokenValidator:
    """Turns a bearer token into a `Principal`, or raises `AuthenticationError`."""

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        leeway_s: int = 30,
        accepted_acr: frozenset[str] = frozenset({"idporten-loa-substantial", "idporten-loa-high"}),
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 <= leeway_s <= MAX_LEEWAY_S:
            raise ValueError(f"leeway_s must be between 0 and {MAX_LEEWAY_S} seconds")
        if not accepted_acr:
            raise ValueError("accepted_acr must name at least one assurance level")
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway_s = leeway_s
        self._accepted_acr = accepted_acr
        self._clock = clock
        # Tokens already verified, by their hash: (principal, not before, expires). Kept
        # at most VERIFIED_TTL_S, so a key withdrawn from the JWKS stops working soon.
        self._verified: TTLCache[bytes, tuple[Principal, float, float]] = TTLCache(
            maxsize=VERIFIED_MAX, ttl=VERIFIED_TTL_S, timer=clock
        )

    async def validate(self, token: str) -> Principal:
        """The caller the token proves, after every check in this module's policy."""
        if not isinstance(token, str) or not token:
            raise AuthenticationError("missing-token")
        if len(token) > MAX_TOKEN_CHARS:
            raise AuthenticationError("malformed")
        digest = hashlib.sha256(token.encode()).digest()
        known = self._verified.get(digest)
        if known is not None:
            principal, not_before, expires = known
            now = self._clock()
            if not_before - self._leeway_s <= now < expires + self._leeway_s:
                return principal
            self._verified.pop(digest, None)
        principal, claims = await self._verify(token)
        nbf = claims.get("nbf", claims["iat"])
        if isinstance(nbf, int | float) and isinstance(claims["exp"], int | float):
            self._verified[digest] = (principal, float(nbf), float(claims["exp"]))
        return principal

    async def _verify(self, token: str) -> tuple[Principal, Mapping[str, Any]]:
        """Every check of the token, signature included."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthenticationError("malformed") from None
        if FORBIDDEN_HEADERS & header.keys():
            raise AuthenticationError("forbidden-header")
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in ALLOWED_ALGORITHMS:
            raise AuthenticationError("bad-algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthenticationError("missing-kid")
        key = await self._keys.key_for(kid)
        if algorithm != key.algorithm_name or key.algorithm_name not in ALLOWED_ALGORITHMS:
            raise AuthenticationError("bad-algorithm")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[key.algorithm_name],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_signature": True,
                    "verify_exp": True,
                    "verify_nbf": True,
                    "verify_iat": True,
                    "verify_aud": True,
                    "verify_iss": True,
                },
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(_reason_for(exc)) from None
        return self._principal(claims), claims

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        acr = claims["acr"]
        if not isinstance(acr, str) or acr not in self._accepted_acr:
            raise AuthenticationError("acr-not-accepted")
        pid = claims["pid"]
        if not isinstance(pid, str) or not is_valid_national_id(pid):
            raise AuthenticationError("bad-pid")
        sub = claims["sub"]
        if not isinstance(sub, str) or not sub.strip():  # present but saying nothing
            raise AuthenticationError("bad-claim")
        scope = claims.get("scope", "")
        client_id = claims.get("client_id", claims.get("azp"))
        token_id = claims.get("jti")
        actor = claims.get("act")  # RFC 8693: the client a delegated token was issued to
        actor_client = actor.get("client_id") if isinstance(actor, dict) else None
        if (
            not isinstance(scope, str)
            or not isinstance(client_id, str | None)
            or not isinstance(token_id, str | None)
            or (actor is not None and not isinstance(actor_client, str))
        ):
            raise AuthenticationError("bad-claim")
        return Principal(
            nin=pid,
            acr=acr,
            scopes=frozenset(scope.split()),
            client_id=client_id,
            token_id=token_id,
            actor_client_id=actor_client,
        )
