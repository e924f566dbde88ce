"""The cache tiers and the generations that invalidate them.

- `LocalTier`: this process's memory, bounded in bytes (cachetools, TTL per tier).
- `RedisTier`: shared by every process when `HELSEGRAF_REDIS_URL` is set; keys hashed and
  values sealed (`sealing.py`). Every failure is a miss: Redis down means slower, never
  wrong or failing; after a failure Redis is left alone for a few seconds.
- Generations: each subject (a person's national id, hashed with the key secret before any
  tier stores it) has a random token that
  a write or an upstream change notification replaces. Cached things record the tokens
  of the subjects they were built from and are used only while those tokens are still
  current, so invalidating a person is one write, exact, and shared across processes.
  Tokens are random, not counters: a Redis that lost its data hands out new tokens and
  so can never revive an old entry.

With Redis configured, generations live only in Redis; while it is unreachable nothing
is served from or stored in any cache (a process cannot know what another invalidated),
and bumps that failed are retried before the cache is used again.
"""

from __future__ import annotations

import functools
import logging
import random
import secrets
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from cachetools import TLRUCache
from redis.exceptions import RedisError

from gateway.cache.identity import ServerIdentity
from gateway.cache.sealing import Sealer

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("helsegraf.cache")

RETRY_S = 5.0
JITTER = 0.1  # entries live between 90 and 100 % of their lifetime
EPOCH = "*"  # a pseudo-subject whose token every bump replaces: "has anything changed?"
GENERATION_TTL_S = 7 * 24 * 3600  # far beyond any entry's lifetime
ENTRY_OVERHEAD = 200  # bytes counted per local entry besides its value
MAX_LOCAL_GENERATIONS = 500_000
SUBJECT_KEYS = 16_384  # hashed generation keys remembered (an HMAC each otherwise)


_FAILURES = (RedisError, OSError, TimeoutError)


def _as_bytes(value: bytes | str | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value


def _token() -> str:
    return secrets.token_hex(8)


def jittered(ttl_s: float) -> float:
    """`ttl_s` shortened by a random share of at most `JITTER`: entries made together (a
    screen's reads, a burst after a deploy) do not all expire, and miss, together."""
    return ttl_s * (1.0 - JITTER * random.random())  # noqa: S311  # spread, not secrecy


class LocalTier:
    """Values in this process's memory: at most `max_bytes`, each for at most `ttl_s`
    (jittered)."""

    def __init__(
        self, max_bytes: int, ttl_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._entries: TLRUCache[str, bytes] = TLRUCache(
            maxsize=max_bytes,
            ttu=lambda _key, _value, now: now + jittered(ttl_s),
            timer=clock,
            getsizeof=lambda value: len(value) + ENTRY_OVERHEAD,
        )
        self._max_item = max_bytes // 8  # one huge value may not evict everything
        self.ttl_s = ttl_s
        self.clock = clock

    def get(self, key: str) -> bytes | None:
        """The value, when present and fresh."""
        return self._entries.get(key)

    def put(self, key: str, value: bytes) -> None:
        """Keep an exact-size copy of `value` (silently skipped when it alone is too large).

        The copy is what makes the bound hold: an encoder's output may sit in a larger
        allocation than its length (orjson's held 2.6 times the bytes counted, on average,
        in the 100,000-person memory run of `make bench`).
        """
        if len(value) + ENTRY_OVERHEAD <= self._max_item:
            self._entries[key] = bytes(memoryview(value))

    @property
    def bytes_used(self) -> int:
        """Bytes counted against the bound."""
        return int(self._entries.currsize)


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
                        pipe.set(name, _token(), nx=True, ex=GENERATION_TTL_S)
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
                    pipe.set(f"{self._prefix}:g:{key}", _token(), ex=GENERATION_TTL_S)
                await pipe.execute()
        except _FAILURES as exc:
            self._failed(exc)
            return False
        return True


class LocalTokens:
    """Generation tokens kept in this process (when no Redis shares them).

    A token nobody asked for during two cache lifetimes is forgotten: every entry stamped
    with it has expired by then, and forgetting can only invalidate (a new random token
    is drawn), never revive. So memory follows the people seen lately, not everyone ever
    seen; MAX_LOCAL_GENERATIONS caps it even so (by starting afresh, as safe).
    """

    def __init__(self, period_s: float, clock: Callable[[], float]) -> None:
        self._period_s = period_s
        self._clock = clock
        self._current: dict[str, str] = {}
        self._previous: dict[str, str] = {}
        self._rotate_at = clock() + period_s

    def __len__(self) -> int:
        return len(self._current) + len(self._previous)

    def _rotate(self) -> None:
        now = self._clock()
        if now >= self._rotate_at:
            idle = now >= self._rotate_at + self._period_s  # a whole lifetime went unseen
            self._previous, self._current = ({} if idle else self._current), {}
            self._rotate_at = now + self._period_s
        if len(self._current) >= MAX_LOCAL_GENERATIONS:
            self._previous, self._current = {}, {}

    def get(self, key: str) -> str:
        """The key's token (a new one when it has none)."""
        self._rotate()
        token = self._current.get(key)
        if token is None:
            token = self._current[key] = self._previous.pop(key, "") or _token()
        return token

    def replace(self, key: str) -> None:
        """A new token for the key."""
        self._rotate()
        self._previous.pop(key, None)
        self._current[key] = _token()


class Cache:
    """Both tiers behind one interface, keyed by logical keys, validated by generations."""

    def __init__(self, sealer: Sealer, local: LocalTier, redis: RedisTier | None = None) -> None:
        self.sealer = sealer
        self.local = local
        self.redis = redis
        self._local_generations = LocalTokens(local.ttl_s, local.clock)
        self._pending_bumps: set[str] = set()
        self._subject_key = functools.lru_cache(maxsize=SUBJECT_KEYS)(self._hash_subject)

    def _hash_subject(self, subject: str) -> str:
        return self.sealer.key(f"gen|{subject}")

    async def aclose(self) -> None:
        """Close the Redis connections, if any."""
        if self.redis is not None:
            await self.redis.aclose()

    async def generations(self, subjects: Sequence[str]) -> dict[str, str] | None:
        """The current token of each subject; None when the cache must not be used now."""
        keys = [self._subject_key(s) for s in subjects]
        if self.redis is None:
            local = self._local_generations
            return {subject: local.get(key) for subject, key in zip(subjects, keys, strict=True)}
        if self._pending_bumps:
            if not await self.redis.bump(sorted(self._pending_bumps)):
                return None
            self._pending_bumps.clear()
        tokens = await self.redis.generations(keys)
        return None if tokens is None else dict(zip(subjects, tokens, strict=True))

    async def bump(self, subjects: Sequence[str]) -> None:
        """Invalidate everything built from these subjects, in every process (and move the
        write epoch, `generations([EPOCH])`, that any write changes)."""
        keys = [self._subject_key(s) for s in (*subjects, EPOCH)]
        if self.redis is None:
            for key in keys:
                self._local_generations.replace(key)
        elif not await self.redis.bump(keys):
            self._pending_bumps.update(keys)  # the cache stays unused until they land

    async def get(self, logical: str) -> bytes | None:
        """The value for a logical key: this process first, then Redis."""
        key = self.sealer.key(logical)
        found = self.local.get(key)
        if found is not None or self.redis is None:
            return found
        sealed = await self.redis.get(key)
        if sealed is None:
            return None
        value = self.sealer.open(key, sealed)
        if value is not None:
            self.local.put(key, value)
        return value

    async def put(self, logical: str, value: bytes, ttl_s: float) -> None:
        """Keep a value in both tiers (sealed in Redis)."""
        key = self.sealer.key(logical)
        self.local.put(key, value)
        if self.redis is not None:
            await self.redis.put(key, self.sealer.seal(key, value), ttl_s)

    async def get_many(self, logicals: Sequence[str]) -> list[bytes | None]:
        """`get` for several logical keys: this process first, then Redis in one round
        trip for the rest."""
        keys = [self.sealer.key(logical) for logical in logicals]
        found = [self.local.get(key) for key in keys]
        missing = [n for n, value in enumerate(found) if value is None]
        if self.redis is None or not missing:
            return found
        sealed = await self.redis.get_many([keys[n] for n in missing])
        for n, box in zip(missing, sealed, strict=True):
            if box is not None and (value := self.sealer.open(keys[n], box)) is not None:
                self.local.put(keys[n], value)
                found[n] = value
        return found

    async def put_many(self, items: Sequence[tuple[str, bytes]], ttl_s: float) -> None:
        """`put` for several logical keys (one round trip to Redis)."""
        hashed = [(self.sealer.key(logical), value) for logical, value in items]
        for key, value in hashed:
            self.local.put(key, value)
        if self.redis is not None:
            await self.redis.put_many(
                [(key, self.sealer.seal(key, value)) for key, value in hashed], ttl_s
            )
