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

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx
import jwt
from cachetools import TTLCache

from authz.identity import is_valid_national_id
from authz.principal import Principal

log = logging.getLogger(__name__)

GENERIC_MESSAGE = "Authentication is required"
ALLOWED_ALGORITHMS = frozenset({"ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "EdDSA"})
FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c"})
# `sub` too: RFC 9068 §2.2 requires it in every JWT access token, and ID-porten sends it.
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "sub", "acr", "pid")
VERIFIED_TTL_S = 60.0
VERIFIED_MAX = 50_000
MAX_LEEWAY_S = 120
MAX_TOKEN_CHARS = 16_384

# Key types a JWKS may offer: the algorithm assumed when the JWK names none, and every
# algorithm the key may verify. Symmetric (`oct`) keys are absent, so never usable.
_ALGORITHMS_FOR_KEY: Mapping[tuple[str, str | None], tuple[str, frozenset[str]]] = {
    ("EC", "P-256"): ("ES256", frozenset({"ES256"})),
    ("EC", "P-384"): ("ES384", frozenset({"ES384"})),
    ("RSA", None): ("RS256", frozenset({"RS256", "RS384", "RS512", "PS256"})),
    ("OKP", "Ed25519"): ("EdDSA", frozenset({"EdDSA"})),
}


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


def _key_from_jwk(jwk: Any) -> tuple[str, jwt.PyJWK] | None:
    """A verification key with its algorithm fixed by the JWK, or None if unusable."""
    if not isinstance(jwk, dict):
        return None
    kid, kty, use = jwk.get("kid"), jwk.get("kty"), jwk.get("use", "sig")
    if not isinstance(kid, str) or not kid or use != "sig" or "d" in jwk:
        return None  # no id, an encryption key, or private material: never use it
    crv = jwk.get("crv") if kty != "RSA" else None
    known = _ALGORITHMS_FOR_KEY.get((str(kty), crv if isinstance(crv, str) else None))
    if known is None:
        return None
    default, allowed = known
    algorithm = jwk.get("alg", default)
    if not isinstance(algorithm, str) or algorithm not in allowed:
        return None
    try:
        return kid, jwt.PyJWK(jwk, algorithm=algorithm)
    except jwt.PyJWTError:
        return None


class JwksCache:
    """The issuer's signing keys, fetched lazily and refetched on an unknown `kid`.

    Any fetch attempt, successful or not, starts a cool-down during which no other fetch
    is made; concurrent callers share one request; a failed fetch keeps the last keys.
    Keys older than `max_age_s` are refetched so a key the issuer withdrew stops working.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        jwks_url: str,
        *,
        cooldown_s: float = 30.0,
        max_age_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._url = jwks_url
        self._cooldown_s = cooldown_s
        self._max_age_s = max_age_s
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._loaded_at: float | None = None
        self._attempted_at: float | None = None
        self._attempts = 0
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str) -> jwt.PyJWK:
        """The key with this id; AuthenticationError("unknown-kid") if the issuer has none."""
        if self._loaded_at is None or self._clock() - self._loaded_at >= self._max_age_s:
            await self._refresh()
        key = self._keys.get(kid)
        if key is None:
            await self._refresh()
            key = self._keys.get(kid)
        if key is None:
            raise AuthenticationError("unknown-kid" if self._keys else "keys-unavailable")
        return key

    async def _refresh(self) -> None:
        seen = self._attempts
        async with self._lock:
            if self._attempts != seen:
                return  # another caller fetched while this one waited
            now = self._clock()
            if self._attempted_at is not None and now - self._attempted_at < self._cooldown_s:
                return
            self._attempted_at = now
            self._attempts += 1
            keys = await self._fetch()
            if keys is not None:
                self._keys = keys
                self._loaded_at = now

    async def _fetch(self) -> dict[str, jwt.PyJWK] | None:
        try:
            response = await self._client.get(self._url, headers={"accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError, OSError) as exc:
            log.warning(
                "JWKS fetch failed (%s); keeping %d cached keys",
                type(exc).__name__,
                len(self._keys),
            )
            return None
        entries = document.get("keys") if isinstance(document, dict) else None
        keys = dict(filter(None, map(_key_from_jwk, entries))) if isinstance(entries, list) else {}
        if not keys:
            log.warning("JWKS held no usable signing keys; keeping %d cached keys", len(self._keys))
            return None
        return keys


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
