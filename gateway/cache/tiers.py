"""The cache tiers and the generations that invalidate them.

- `LocalTier` (`local.py`): this process's memory, bounded in bytes, lifetimes jittered.
- `RedisTier` (`shared.py`): shared by every process when `HELSEGRAF_REDIS_URL` is set;
  keys hashed and values sealed (`sealing.py`). Every failure is a miss: Redis down means
  slower, never wrong or failing; after a failure Redis is left alone for a few seconds.
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
from collections.abc import Sequence

from gateway.cache.local import LocalTier, LocalTokens
from gateway.cache.sealing import Sealer
from gateway.cache.shared import RedisTier

EPOCH = "*"  # a pseudo-subject whose token every bump replaces: "has anything changed?"
SUBJECT_KEYS = 16_384  # hashed generation keys remembered (an HMAC each otherwise)


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
