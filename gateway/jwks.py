"""The issuer's signing keys (JWKS): fetched lazily, refetched on an unknown `kid`, each
key's algorithm fixed by the key itself. A `gateway.auth.KeySource`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import jwt

from gateway.auth import AuthenticationError

log = logging.getLogger("gateway.auth")  # the name it logged under before the split

# Key types a JWKS may offer: the algorithm assumed when the JWK names none, and every
# algorithm the key may verify. Symmetric (`oct`) keys are absent, so never usable.
_ALGORITHMS_FOR_KEY: Mapping[tuple[str, str | None], tuple[str, frozenset[str]]] = {
    ("EC", "P-256"): ("ES256", frozenset({"ES256"})),
    ("EC", "P-384"): ("ES384", frozenset({"ES384"})),
    ("RSA", None): ("RS256", frozenset({"RS256", "RS384", "RS512", "PS256"})),
    ("OKP", "Ed25519"): ("EdDSA", frozenset({"EdDSA"})),
}


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
