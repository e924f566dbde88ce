"""Fixtures shared by every test package: one small deterministic population."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from hypothesis import settings

from mocks.population import Population
from mocks.records import RecordStore

# In CI the property tests replay the same examples every run, so a commit that was green
# stays green; on developer machines they explore, and a failure they find is kept in
# .hypothesis/ until fixed.
# No deadline: speed lives in benchmarks, and a first example that pays for imports or a
# busy machine must not fail a property that holds.
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")

# A fixed reference date keeps ages, and so every age-dependent rule, reproducible.
REFERENCE_DAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="session")
def population() -> Population:
    """Personas plus 200 generated people, as of REFERENCE_DAY."""
    return Population(size=200, today=REFERENCE_DAY)


@pytest.fixture(scope="session")
def records(population: Population) -> RecordStore:
    """Health records of the shared population."""
    return RecordStore(population)


REDIS_URL = os.environ.get("HELSEGRAF_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A unique key prefix on the real Redis (its keys removed afterwards); skipped when
    Redis is unreachable, except in CI, where that fails the test."""
    from redis.exceptions import RedisError

    from gateway.ratelimit import redis_client

    client = redis_client(REDIS_URL)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        reason = f"Redis not reachable at {REDIS_URL} ({type(exc).__name__})"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    prefix = f"helsegraf-test-{uuid.uuid4().hex}"
    yield prefix
    keys = [k async for k in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
