"""Rate limits per principal and per client: a sliding-window counter over one minute.

Each caller has two buckets - the person (keyed by an HMAC of the national id, so no
personal data is stored) and the client (the partner acting, else the token's client).
The estimate is `previous window x share of it still in view + current window`; a request
is refused while any bucket's estimate has reached its limit, and a refused request is
not counted. Counters live in process memory, or in Redis when `redis_url` is set, so
every process shares them. When Redis fails, the limiter counts in memory and tries Redis
again a few seconds later: Redis never fails a request.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from cachetools import TTLCache

from authz.principal import Principal
from gateway.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.connection import AbstractConnection

log = logging.getLogger("helsegraf.ratelimit")

WINDOW_S = 60
REDIS_RETRY_S = 5.0
REDIS_TIMEOUT_S = 0.25
MEMORY_BUCKETS = 200_000
HASHED_KEYS = 16_384  # bucket keys remembered (an HMAC each otherwise)

# KEYS: the current and previous window's key of each bucket, in pairs.
# ARGV: the weight of the previous window, the key TTL, then each bucket's limit.
# Returns {0} when admitted (every current window counted), else {i, current, previous}
# for the first bucket that is full (nothing counted).
_SLIDING_WINDOW_LUA = """
local weight = tonumber(ARGV[1])
local buckets = #KEYS / 2
for i = 1, buckets do
  local current = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  local previous = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
  if previous * weight + current >= tonumber(ARGV[2 + i]) then
    return {i, current, previous}
  end
end
for i = 1, buckets do
  if redis.call('INCR', KEYS[2 * i - 1]) == 1 then
    redis.call('EXPIRE', KEYS[2 * i - 1], ARGV[2])
  end
end
return {0}
"""


@dataclass(frozen=True, slots=True)
class Bucket:
    """One counter: a hashed key (no personal data) and its limit per minute."""

    scope: str  # "principal" or "client"
    key: str
    limit: int


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a request may run; when not, which bucket is full and when to retry."""

    allowed: bool
    retry_after_s: int = 0
    scope: str | None = None


ADMITTED = Verdict(allowed=True)


def retry_after(current: int, previous: int, limit: int, elapsed: float) -> int:
    """Whole seconds until a full bucket admits one more request (at least 1)."""
    if current + 1 <= limit and previous > 0:
        # The previous window must fade until the estimate leaves room for one more.
        fade_to = 1 - (limit - current - 1) / previous
        wait = WINDOW_S * fade_to - elapsed
    else:
        # The current window is full alone: it fades in the next window.
        wait = (WINDOW_S - elapsed) + WINDOW_S * max(0.0, 1 - (limit - 1) / max(current, 1))
    return max(1, math.ceil(wait))


class SharedCounter(Protocol):
    """Counters shared between processes: counts a request against every bucket, or
    returns the first full bucket's index and counts (current, previous), counting nothing."""

    async def hit(
        self, buckets: Sequence[Bucket], window: int, weight: float
    ) -> tuple[int, int, int] | None: ...

    async def aclose(self) -> None: ...


class MemoryCounter:
    """Counters in this process, bounded: the least recent buckets are forgotten first."""

    def __init__(self, maxsize: int = MEMORY_BUCKETS) -> None:
        self._counts: TTLCache[tuple[str, int], int] = TTLCache(maxsize, ttl=2 * WINDOW_S)

    async def hit(
        self, buckets: Sequence[Bucket], window: int, weight: float
    ) -> tuple[int, int, int] | None:
        for index, bucket in enumerate(buckets):
            current = self._counts.get((bucket.key, window), 0)
            previous = self._counts.get((bucket.key, window - 1), 0)
            if previous * weight + current >= bucket.limit:
                return index, current, previous
        for bucket in buckets:
            self._counts[bucket.key, window] = self._counts.get((bucket.key, window), 0) + 1
        return None


class RedisCounter:
    """Counters in Redis, checked and counted atomically by one Lua script per request."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(_SLIDING_WINDOW_LUA)

    def _key(self, bucket: Bucket, window: int) -> str:
        return f"{self._prefix}:rl:{bucket.key}:{window}"

    async def hit(
        self, buckets: Sequence[Bucket], window: int, weight: float
    ) -> tuple[int, int, int] | None:
        keys = [k for b in buckets for k in (self._key(b, window), self._key(b, window - 1))]
        args = [repr(weight), str(2 * WINDOW_S), *(str(b.limit) for b in buckets)]
        reply = await self._script(keys=keys, args=args)
        if not reply or int(reply[0]) == 0:
            return None
        return int(reply[0]) - 1, int(reply[1]), int(reply[2])

    async def aclose(self) -> None:
        await self._client.aclose()


def redis_client(
    url: str, on_connect: Callable[[AbstractConnection], Awaitable[None]] | None = None
) -> Redis:
    """A Redis client that fails fast: short timeouts, no retries. `on_connect` replaces
    redis-py's connection set-up (and must call `connection.on_connect()` itself)."""
    from redis.asyncio import Redis

    # A slow or absent Redis must cost a request milliseconds, not seconds.
    return Redis.from_url(
        url,
        socket_timeout=REDIS_TIMEOUT_S,
        socket_connect_timeout=REDIS_TIMEOUT_S,
        retry=None,
        retry_on_timeout=False,
        redis_connect_func=on_connect,
    )


class RateLimiter:
    """Admits or refuses one request per call, by principal and by client."""

    def __init__(
        self,
        *,
        secret: bytes,
        per_principal: int,
        per_client: int,
        by_client: dict[str, int] | None = None,
        redis: SharedCounter | None = None,
        clock: Callable[[], float] = time.time,
        redis_retry_s: float = REDIS_RETRY_S,
    ) -> None:
        self._secret = secret
        self._per_principal = per_principal
        self._per_client = per_client
        self._by_client = by_client or {}
        self._redis = redis
        self._memory = MemoryCounter()
        self._clock = clock
        self._redis_retry_s = redis_retry_s
        self._redis_down_until = 0.0
        self._hashed = functools.lru_cache(maxsize=HASHED_KEYS)(self._hash)

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        """The limiter `settings` describe; Redis-backed when `redis_url` is set."""
        redis: SharedCounter | None = None
        if settings.redis_url is not None:
            client = redis_client(settings.redis_url.get_secret_value())
            redis = RedisCounter(client, settings.redis_key_prefix)
        return cls(
            secret=settings.id_secret.get_secret_value().encode(),
            per_principal=settings.rate_limit_per_minute_principal,
            per_client=settings.rate_limit_per_minute_client,
            by_client=settings.rate_limits_by_client,
            redis=redis,
        )

    def _hash(self, kind: str, value: str) -> str:
        digest = hmac.new(self._secret, f"{kind}:{value}".encode(), hashlib.sha256)
        return f"{kind}:{digest.hexdigest()[:32]}"

    def buckets(self, principal: Principal) -> list[Bucket]:
        """The buckets one request of `principal` counts against."""
        buckets = [Bucket("principal", self._hashed("p", principal.nin), self._per_principal)]
        client = principal.actor_client_id or principal.client_id
        if client:
            limit = self._by_client.get(client, self._per_client)
            buckets.append(Bucket("client", self._hashed("c", client), limit))
        return buckets

    async def _hit(
        self, buckets: Sequence[Bucket], window: int, weight: float
    ) -> tuple[int, int, int] | None:
        now = time.monotonic()
        if self._redis is not None and now >= self._redis_down_until:
            try:
                full = await self._redis.hit(buckets, window, weight)
            except Exception as exc:  # any Redis failure falls back to memory
                if self._redis_down_until == 0.0:
                    log.warning(
                        "rate limits: Redis failed (%s); counting in process memory",
                        type(exc).__name__,
                    )
                self._redis_down_until = now + self._redis_retry_s
            else:
                if self._redis_down_until:
                    log.warning("rate limits: Redis answers again; counting there")
                    self._redis_down_until = 0.0
                return full
        return await self._memory.hit(buckets, window, weight)

    async def check(self, principal: Principal) -> Verdict:
        """Count one request of `principal`, or refuse it when a bucket is full."""
        now = self._clock()
        window, elapsed = divmod(now, WINDOW_S)
        buckets = self.buckets(principal)
        full = await self._hit(buckets, int(window), 1 - elapsed / WINDOW_S)
        if full is None:
            return ADMITTED
        index, current, previous = full
        bucket = buckets[index]
        return Verdict(
            allowed=False,
            retry_after_s=retry_after(current, previous, bucket.limit, elapsed),
            scope=bucket.scope,
        )

    async def aclose(self) -> None:
        """Close the Redis connection pool, if any."""
        if self._redis is not None:
            await self._redis.aclose()
