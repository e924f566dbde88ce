"""Rate limits: the sliding window, hashed keys, and Redis shared, down and back."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.principal import Principal
from gateway.ratelimit import (
    WINDOW_S,
    Bucket,
    MemoryCounter,
    RateLimiter,
    RedisCounter,
    redis_client,
    retry_after,
)
from tests.conftest import REDIS_URL

UNREACHABLE = "redis://127.0.0.1:1/0"
NIN = "01017012345"
SECRET = b"k" * 32


def person(nin: str = NIN, client: str | None = "helsenorge-web") -> Principal:
    return Principal(
        nin=nin, acr="idporten-loa-high", scopes=frozenset(), client_id=client, token_id=None
    )


class Clock:
    def __init__(self, now: float = 1_000 * WINDOW_S) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def limiter(
    clock: Clock,
    *,
    per_principal: int = 3,
    per_client: int = 100,
    redis: RedisCounter | None = None,
) -> RateLimiter:
    return RateLimiter(
        secret=SECRET, per_principal=per_principal, per_client=per_client, redis=redis, clock=clock
    )


async def test_admits_up_to_the_limit_then_refuses_without_counting() -> None:
    clock = Clock()
    rl = limiter(clock)
    assert [(await rl.check(person())).allowed for _ in range(3)] == [True] * 3
    refused = await rl.check(person())
    assert not refused.allowed
    assert refused.scope == "principal"
    assert refused.retry_after_s >= 1
    assert (await rl.check(person("02027012345"))).allowed


async def test_the_previous_window_fades_out() -> None:
    clock = Clock()
    rl = limiter(clock)
    for _ in range(3):
        assert (await rl.check(person())).allowed
    clock.now += WINDOW_S  # next window starts: the previous one still counts fully
    assert not (await rl.check(person())).allowed
    clock.now += WINDOW_S / 2  # half of it has faded: an estimate of 1.5, under 3
    assert (await rl.check(person())).allowed  # 1.5 + 1
    assert (await rl.check(person())).allowed  # 1.5 + 2, still under 3 when asked
    assert not (await rl.check(person())).allowed
    clock.now += 2 * WINDOW_S
    assert (await rl.check(person())).allowed


async def test_client_bucket_spans_people_and_can_be_set_per_client() -> None:
    clock = Clock()
    rl = RateLimiter(
        secret=SECRET, per_principal=100, per_client=100, by_client={"partner-x": 2}, clock=clock
    )
    partner = [person(f"0101701234{i}", client="partner-x") for i in range(3)]
    assert (await rl.check(partner[0])).allowed
    assert (await rl.check(partner[1])).allowed
    refused = await rl.check(partner[2])
    assert (refused.allowed, refused.scope) == (False, "client")
    assert (await rl.check(person(client="other"))).allowed


def test_bucket_keys_hold_no_personal_data() -> None:
    rl = limiter(Clock())
    keys = [b.key for b in rl.buckets(person())]
    assert all(NIN not in k and "helsenorge-web" not in k for k in keys)
    assert keys[0].startswith("p:")
    assert keys[1].startswith("c:")
    other = RateLimiter(secret=b"x" * 32, per_principal=1, per_client=1)
    assert other.buckets(person())[0].key != keys[0]  # keyed: not a plain hash of the nin


@given(
    current=st.integers(0, 500),
    previous=st.integers(0, 500),
    limit=st.integers(1, 200),
    elapsed=st.floats(0, WINDOW_S - 0.001),
)
def test_retry_after_is_when_the_estimate_leaves_room(
    current: int, previous: int, limit: int, elapsed: float
) -> None:
    weight = 1 - elapsed / WINDOW_S
    if previous * weight + current < limit:
        return  # not refused
    wait = retry_after(current, previous, limit, elapsed)
    assert 1 <= wait <= 2 * WINDOW_S + 1
    later = elapsed + wait
    if later < WINDOW_S:
        estimate = previous * (1 - later / WINDOW_S) + current
    elif later < 2 * WINDOW_S:
        estimate = current * (1 - (later - WINDOW_S) / WINDOW_S)
    else:
        estimate = 0
    assert estimate + 1 <= limit + 1e-9


# --- Redis ---------------------------------------------------------------------------


def redis_counter(prefix: str, url: str = REDIS_URL) -> RedisCounter:
    return RedisCounter(redis_client(url), prefix)


async def test_redis_counts_are_shared_between_processes(redis_prefix: str) -> None:
    clock = Clock(time.time())
    first = limiter(clock, redis=redis_counter(redis_prefix))
    second = limiter(clock, redis=redis_counter(redis_prefix))
    try:
        assert (await first.check(person())).allowed
        assert (await second.check(person())).allowed
        assert (await first.check(person())).allowed
        refused = await second.check(person())
        assert (refused.allowed, refused.scope) == (False, "principal")
        assert refused.retry_after_s >= 1
    finally:
        await first.aclose()
        await second.aclose()


async def test_redis_keys_are_hashed_and_expire(redis_prefix: str) -> None:
    rl = limiter(Clock(time.time()), redis=redis_counter(redis_prefix))
    client = redis_client(REDIS_URL)
    try:
        assert (await rl.check(person())).allowed
        keys = [k.decode() async for k in client.scan_iter(match=f"{redis_prefix}:*")]
        assert len(keys) == 2  # the person's bucket and the client's, this window
        for key in keys:
            assert NIN not in key
            assert "helsenorge-web" not in key
            assert 0 < await client.ttl(key) <= 2 * WINDOW_S
    finally:
        await rl.aclose()
        await client.aclose()


async def test_redis_down_falls_back_to_memory_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rl = limiter(Clock(), redis=redis_counter("unused", UNREACHABLE))
    caplog.set_level(logging.WARNING, logger="helsegraf.ratelimit")
    started = time.perf_counter()
    verdicts = [(await rl.check(person())).allowed for _ in range(4)]
    elapsed = time.perf_counter() - started
    await rl.aclose()
    assert verdicts == [True, True, True, False]  # still limited, in memory
    assert elapsed < 1.0  # one failed attempt, then no more waiting on Redis
    warnings = [r for r in caplog.records if r.name == "helsegraf.ratelimit"]
    assert len(warnings) == 1
    assert "process memory" in warnings[0].getMessage()


class Flaky:
    """A shared counter that fails `failures` times, then counts in memory."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.memory = MemoryCounter()

    async def hit(
        self, buckets: Sequence[Bucket], window: int, weight: float
    ) -> tuple[int, int, int] | None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("redis is restarting")
        return await self.memory.hit(buckets, window, weight)

    async def aclose(self) -> None:
        return None


async def test_shared_counter_is_used_again_once_it_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    shared = Flaky(failures=1)
    rl = RateLimiter(secret=SECRET, per_principal=3, per_client=100, redis=shared, redis_retry_s=0)
    caplog.set_level(logging.WARNING, logger="helsegraf.ratelimit")
    assert (await rl.check(person())).allowed  # counted in process memory
    assert (await rl.check(person())).allowed  # counted by the shared counter again
    messages = [r.getMessage() for r in caplog.records if r.name == "helsegraf.ratelimit"]
    assert len(messages) == 2
    assert "ConnectionError" in messages[0]
    assert "answers again" in messages[1]
    assert "redis is restarting" not in " ".join(messages)


async def test_settings_with_redis_url_count_in_redis(redis_prefix: str) -> None:
    from gateway.settings import Settings

    settings = Settings(
        redis_url=REDIS_URL, redis_key_prefix=redis_prefix, rate_limit_per_minute_principal=1
    )
    rl = RateLimiter.from_settings(settings)
    client = redis_client(REDIS_URL)
    try:
        assert (await rl.check(person())).allowed
        assert not (await rl.check(person())).allowed
        assert [k async for k in client.scan_iter(match=f"{redis_prefix}:rl:p:*")]
    finally:
        await rl.aclose()
        await client.aclose()
