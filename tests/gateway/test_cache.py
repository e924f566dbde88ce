"""Cache tiers: sealing, the local bound, generations, and the real Redis (shared, sealed,
failing soft)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from gateway.cache import Cache, LocalTier, RedisTier, Sealer
from gateway.ratelimit import redis_client
from tests.conftest import REDIS_URL
from tests.redis_server import private_redis

UNREACHABLE = "redis://127.0.0.1:1/0"
SECRET = b"a test secret that is long enough to derive keys"
NIN = "13097248022"


def local_cache(max_bytes: int = 1_000_000) -> Cache:
    return Cache(Sealer(SECRET), LocalTier(max_bytes, ttl_s=60))


def test_keys_are_hashed_and_values_bound_to_their_key() -> None:
    sealer = Sealer(SECRET)
    key = sealer.key(f"resp|{NIN}|home")
    assert NIN not in key
    assert key == Sealer(SECRET).key(f"resp|{NIN}|home")
    assert key != Sealer(SECRET + b"x").key(f"resp|{NIN}|home")
    sealed = sealer.seal(key, NIN.encode())
    assert NIN.encode() not in sealed
    assert sealer.open(key, sealed) == NIN.encode()
    assert sealer.open(sealer.key("another"), sealed) is None
    assert sealer.open(key, sealed[:-1] + bytes([sealed[-1] ^ 1])) is None
    assert sealer.open(key, b"short") is None


def test_the_local_tier_is_bounded_in_bytes() -> None:
    tier = LocalTier(max_bytes=10_000, ttl_s=60)
    for n in range(100):
        tier.put(f"k{n}", b"x" * 500)
    assert tier.bytes_used <= 10_000
    assert tier.get("k99") == b"x" * 500
    assert tier.get("k0") is None
    tier.put("huge", b"x" * 5_000)  # more than an eighth of the bound: not kept
    assert tier.get("huge") is None


def test_the_local_tier_holds_no_more_memory_than_it_counts() -> None:
    """Encoders may return bytes inside a larger allocation (orjson does): the tier keeps
    exact copies, so the memory it holds is what its bound counts."""
    import tracemalloc

    import orjson

    document = {"entry": [{"id": n, "text": "x" * 50} for n in range(60)]}
    tier = LocalTier(max_bytes=1_000_000, ttl_s=60)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(1000):
            tier.put(f"k{n}", orjson.dumps({**document, "n": n}))
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert tier.bytes_used <= 1_000_000
    assert held < 1.3 * 1_000_000  # values, keys and the cache's own bookkeeping


def test_the_local_tier_expires_entries() -> None:
    now = [0.0]
    tier = LocalTier(max_bytes=10_000, ttl_s=30, clock=lambda: now[0])
    tier.put("k", b"v")
    now[0] = 26.0  # within the shortest jittered lifetime (90 %)
    assert tier.get("k") == b"v"
    now[0] = 31.0
    assert tier.get("k") is None


def test_local_lifetimes_are_jittered_within_a_tenth() -> None:
    """Entries made together do not all expire together (and miss together)."""
    now = [0.0]
    tier = LocalTier(max_bytes=1_000_000, ttl_s=100, clock=lambda: now[0])
    keys = [f"k{n}" for n in range(200)]
    for key in keys:
        tier.put(key, b"v")
    now[0] = 89.9
    assert all(tier.get(key) == b"v" for key in keys)
    now[0] = 95.0
    alive = sum(tier.get(key) is not None for key in keys)
    assert 0 < alive < len(keys)
    now[0] = 100.0
    assert all(tier.get(key) is None for key in keys)


async def test_local_generations_change_only_on_bump() -> None:
    cache = local_cache()
    first = await cache.generations(["a", "b"])
    assert first is not None
    assert await cache.generations(["a", "b"]) == first
    await cache.bump(["a"])
    after = await cache.generations(["a", "b"])
    assert after is not None
    assert after["a"] != first["a"]
    assert after["b"] == first["b"]


async def test_values_round_trip_locally() -> None:
    cache = local_cache()
    assert await cache.get("x") is None
    await cache.put("x", b"value", ttl_s=60)
    assert await cache.get("x") == b"value"


# --- Redis ---------------------------------------------------------------------------


Shared = Callable[..., Cache]


@pytest.fixture
async def shared() -> AsyncIterator[Shared]:
    """Caches as separate processes see them (own local tier, the shared Redis)."""
    made: list[RedisTier] = []

    def make(prefix: str, url: str = REDIS_URL) -> Cache:
        made.append(RedisTier.connect(url, prefix))
        return Cache(Sealer(SECRET), LocalTier(1_000_000, 60), made[-1])

    yield make
    for tier in made:
        await tier.aclose()


async def test_processes_share_values_and_generations(redis_prefix: str, shared: Shared) -> None:
    one, two = shared(redis_prefix), shared(redis_prefix)
    await one.put(f"resp|{NIN}", b"the body", ttl_s=60)
    assert await two.get(f"resp|{NIN}") == b"the body"
    seen_by_one = await one.generations([NIN])
    seen_by_two = await two.generations([NIN])
    assert seen_by_one is not None
    assert seen_by_one == seen_by_two
    await two.bump([NIN])
    assert await one.generations([NIN]) != seen_by_one


async def test_redis_lifetimes_are_jittered_within_a_tenth(
    redis_prefix: str, shared: Shared
) -> None:
    cache = shared(redis_prefix)
    await cache.put_many([(f"k{n}", b"v") for n in range(50)], ttl_s=60)
    await cache.put("one more", b"v", ttl_s=60)
    client = redis_client(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{redis_prefix}:v:*")]
        lifetimes = [await client.pttl(k) for k in keys]
    finally:
        await client.aclose()
    assert len(lifetimes) == 51
    assert all(53_000 <= ms <= 60_000 for ms in lifetimes)
    assert max(lifetimes) - min(lifetimes) > 1_000  # far more than the test's own pace


async def test_redis_holds_no_personal_data_in_clear_text(
    redis_prefix: str, shared: Shared
) -> None:
    cache = shared(redis_prefix)
    await cache.put(f"resp|{NIN}|home", f'{{"nin": "{NIN}", "name": "Kari"}}'.encode(), 60)
    await cache.generations([NIN])
    client = redis_client(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{redis_prefix}:*")]
        assert len(keys) == 2
        for key in keys:
            assert NIN.encode() not in key
            value = await client.get(key)
            assert isinstance(value, bytes)
            assert NIN.encode() not in value
            assert b"Kari" not in value
    finally:
        await client.aclose()


async def test_redis_down_is_a_miss_and_never_an_error(shared: Shared) -> None:
    cache = shared("unused", UNREACHABLE)
    await cache.put("x", b"value", ttl_s=60)
    assert await cache.generations([NIN]) is None  # so callers bypass every cache
    await cache.bump([NIN])  # remembered, retried before the cache is used again
    assert cache.redis is not None
    assert not cache.redis.available


async def test_a_bump_that_failed_is_applied_before_the_cache_is_used(
    redis_prefix: str, shared: Shared
) -> None:
    cache = shared(redis_prefix)
    before = await cache.generations([NIN])
    assert cache.redis is not None
    real = cache.redis
    cache.redis = shared(redis_prefix, UNREACHABLE).redis
    await cache.bump([NIN])
    assert await cache.generations([NIN]) is None
    cache.redis = real
    after = await cache.generations([NIN])
    assert after is not None
    assert before is not None
    assert after[NIN] != before[NIN]


def test_local_tokens_follow_the_people_seen_lately_and_never_revive() -> None:
    from gateway.cache.local import LocalTokens

    now = [0.0]
    tokens = LocalTokens(period_s=30, clock=lambda: now[0])
    kari = tokens.get("kari")
    for moment in (20.0, 45.0, 70.0):  # asked for within every lifetime: kept
        now[0] = moment
        assert tokens.get("kari") == kari
    ola = tokens.get("ola")
    now[0] = 200.0  # nobody asked for two lifetimes: forgotten
    tokens.get("someone-else")
    assert len(tokens) == 1
    assert tokens.get("kari") != kari  # a new token: what was stamped with the old is stale
    assert tokens.get("ola") != ola
    tokens.replace("kari")
    assert len(tokens) == 3


async def test_a_restart_with_old_data_never_revives_what_a_lost_bump_ended(
    tmp_path: Path,
) -> None:
    """Redis restarts from a snapshot taken before a write whose bump could not reach it
    (or fails over to a replica that never got it): the restored tokens vouch for entries
    the write outdated. No process may trust them; the writer's own pending bump is no help
    to the others."""
    now = [0.0]

    def process(url: str) -> Cache:
        tier = RedisTier.connect(url, "p", clock=lambda: now[0])
        return Cache(Sealer(SECRET), LocalTier(1_000_000, 60), tier)

    with private_redis(tmp_path) as server:
        reader, writer = process(server.url), process(server.url)
        try:
            stamped = await reader.generations([NIN])
            assert stamped is not None
            admin = redis_client(server.url)
            await admin.save()
            await admin.aclose()
            server.stop()
            await writer.bump([NIN])  # the write's invalidation: Redis is away
            server.start()  # with the snapshot from before the write
            seen = None
            for _ in range(3):  # the pooled connection died with the old server: reconnect
                now[0] += 60  # past any pause after a failure
                seen = await reader.generations([NIN])
                if seen is not None:
                    break
            assert seen is not None
            assert seen[NIN] != stamped[NIN]
        finally:
            await reader.aclose()
            await writer.aclose()
