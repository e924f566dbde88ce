"""The Redis tier every process shares when `HELSEGRAF_REDIS_URL` is set: hashed keys,
sealed values (`sealing.py`) and generation tokens stamped with the lifetime of the server
that holds them (`identity.py`). Every failure is a miss, never an error; after one,
Redis is left alone for `RETRY_S`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from gateway.cache.identity import ServerIdentity
from gateway.cache.local import jittered, token

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("helsegraf.cache")

RETRY_S = 5.0
GENERATION_TTL_S = 7 * 24 * 3600  # far beyond any entry's lifetime
_FAILURES = (RedisError, OSError, TimeoutError)


def _as_bytes(value: bytes | str | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value


class RedisTier:
    """Sealed values and generation tokens in a shared Redis, failing soft.

    Tokens are stamped with the server lifetime they were read from (`identity.py`), so a
    Redis restarted with old data, or a replica failed over to, revives nothing.
    """

    def __init__(
        self,
        client: Redis,
        identity: ServerIdentity,
        prefix: str = "hg",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._identity = identity
        self._prefix = prefix
        self._clock = clock
        self._down_until = 0.0

    @classmethod
    def connect(
        cls, url: str, prefix: str = "hg", clock: Callable[[], float] = time.monotonic
    ) -> RedisTier:
        """A tier on its own connection pool, every connection telling its server's lifetime."""
        from gateway.ratelimit import redis_client

        identity = ServerIdentity()
        return cls(redis_client(url, identity.on_connect), identity, prefix, clock)

    @property
    def available(self) -> bool:
        """False for a few seconds after a failure."""
        return self._clock() >= self._down_until

    def _failed(self, exc: BaseException) -> None:
        if self.available:
            log.warning("redis cache unavailable (%s); caching paused", type(exc).__name__)
        self._down_until = self._clock() + RETRY_S

    async def get(self, key: str) -> bytes | None:
        """The stored bytes under a hashed key; None when absent or Redis failed."""
        if not self.available:
            return None
        try:
            found = await self._client.get(f"{self._prefix}:v:{key}")
        except _FAILURES as exc:
            self._failed(exc)
            return None
        return _as_bytes(found)

    async def put(self, key: str, value: bytes, ttl_s: float) -> None:
        """Store bytes under a hashed key for `ttl_s`."""
        if not self.available:
            return
        try:
            px = max(1, int(jittered(ttl_s) * 1000))
            await self._client.set(f"{self._prefix}:v:{key}", value, px=px)
        except _FAILURES as exc:
            self._failed(exc)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """`get` for several keys in one round trip."""
        if not self.available or not keys:
            return [None] * len(keys)
        try:
            found = await self._client.mget([f"{self._prefix}:v:{k}" for k in keys])
        except _FAILURES as exc:
            self._failed(exc)
            return [None] * len(keys)
        return [_as_bytes(value) for value in found]

    async def put_many(self, items: Sequence[tuple[str, bytes]], ttl_s: float) -> None:
        """`put` for several keys in one round trip."""
        if not self.available or not items:
            return
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for key, value in items:
                    px = max(1, int(jittered(ttl_s) * 1000))
                    pipe.set(f"{self._prefix}:v:{key}", value, px=px)
                await pipe.execute()
        except _FAILURES as exc:
            self._failed(exc)

    async def generations(self, keys: Sequence[str]) -> list[str] | None:
        """The current token of each hashed subject key (new ones for unknown subjects),
        stamped with the server lifetime that answered; None when Redis cannot say."""
        if not self.available:
            return None
        lifetime = self._identity.current
        tokens = await self._tokens(keys)
        if tokens is not None and lifetime is None and self._identity.current is not None:
            lifetime = self._identity.current  # the first connection: ask once more under it
            tokens = await self._tokens(keys)
        if tokens is None or lifetime is None or self._identity.current != lifetime:
            return None  # connected anew meanwhile: which server answered is not certain
        return [f"{lifetime}.{token}" for token in tokens]

    async def _tokens(self, keys: Sequence[str]) -> list[str] | None:
        names = [f"{self._prefix}:g:{k}" for k in keys]
        try:
            found = await self._client.mget(names)
            missing = [n for n, value in zip(names, found, strict=True) if value is None]
            if missing:
                async with self._client.pipeline(transaction=False) as pipe:
                    for name in missing:
                        pipe.set(name, token(), nx=True, ex=GENERATION_TTL_S)
                    await pipe.execute()
                found = await self._client.mget(names)
        except _FAILURES as exc:
            self._failed(exc)
            return None
        tokens = [_as_bytes(value) for value in found]
        if any(token is None for token in tokens):
            return None
        return [token.decode() for token in tokens if token is not None]

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def bump(self, keys: Sequence[str]) -> bool:
        """Give each hashed subject key a new token; False when Redis failed."""
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.set(f"{self._prefix}:g:{key}", token(), ex=GENERATION_TTL_S)
                await pipe.execute()
        except _FAILURES as exc:
            self._failed(exc)
            return False
        return True
