"""The raw upstream cache end to end: the next screen reuses what the last one read, every
viewer still sees it through their own basis, writes read fresh, and replicas share it
through Redis without personal data in clear text."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx

from gateway.app import create_app
from gateway.persisted import OPERATIONS_DIR
from gateway.ratelimit import redis_client
from mocks.app import MockUpstreams
from tests.conftest import REDIS_URL, REFERENCE_DAY
from tests.e2e.conftest import NOON, Harness, gateway_settings

HOME = (OPERATIONS_DIR / "home.graphql").read_text(encoding="utf-8")
INBOX = (OPERATIONS_DIR / "inbox.graphql").read_text(encoding="utf-8")
CARE = """
query($id: ID!) {
  person(id: $id) {
    basis
    restrictions { category reason }
    appointments(first: 50) { totalCount edges { node { id start statusText } } }
    threads(first: 50) { totalCount edges { node { id subject messageCount } } }
    medications { id name }
    vaccinations { id name }
  }
}
"""
MARK_READ = """
mutation($input: MarkMessagesReadInput!) { markMessagesRead(input: $input) { userErrors { code } } }
"""


def health_calls(mocks: MockUpstreams) -> int:
    return sum(n for name, n in mocks.counts().items() if name != "OIDC")


def record_calls(mocks: MockUpstreams) -> int:
    """Calls to the health record and the municipal services (not the registry)."""
    return sum(n for name, n in mocks.counts().items() if name not in ("OIDC", "NATIONAL"))


@asynccontextmanager
async def replicas(
    count: int, *, latency_ms: float = 0, **settings: Any
) -> AsyncIterator[list[Harness]]:
    """`count` gateways over one set of mocks (a fresh one each time)."""
    mocks = MockUpstreams(size=200, today=REFERENCE_DAY, clock=lambda: NOON, latency_ms=latency_ms)
    upstreams = mocks.asgi()
    async with AsyncExitStack() as stack:
        out = []
        for _ in range(count):
            app = create_app(
                gateway_settings(mocks, **settings),
                transport=httpx.ASGITransport(app=upstreams),
                clock=lambda: NOON,
            )
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test")
            )
            stack.push_async_callback(app.state.services.aclose)
            out.append(Harness(mocks, client, app.state.services))
        yield out


def person_id(harness: Harness, persona: str) -> str:
    return harness.app_services.ids.person_id(harness.mocks.population.persona(persona).nin)


async def screens(
    harness: Harness,
    viewer: str,
    *asked: tuple[str, str],
    count: Callable[[MockUpstreams], int] = health_calls,
) -> list[Any]:
    """Each (operation, persona) asked by `viewer`; the answers, and the calls each cost."""
    out = []
    for document, about in asked:
        harness.mocks.reset_counters()
        variables = None if document is HOME else {"id": person_id(harness, about)}
        body = (await harness.query(viewer, document, variables)).json()
        out.append((body, count(harness.mocks)))
    return out


async def test_the_next_screen_reuses_what_the_last_one_read() -> None:
    async with replicas(1) as (cached,), replicas(1, cache=False) as (uncached,):
        asked = ((HOME, "kari"), (INBOX, "kari"))
        (home, _), (inbox, calls) = await screens(cached, "kari", *asked)
        (home_fresh, _), (inbox_fresh, calls_fresh) = await screens(uncached, "kari", *asked)
    assert inbox == inbox_fresh
    assert home == home_fresh
    assert "errors" not in inbox
    assert calls < calls_fresh  # the person, the patient, the messages: read by home already


async def test_each_viewer_sees_cached_data_through_their_own_basis() -> None:
    """ida (youth consent) keeps a visit and a message from her guardians. Whoever reads
    her data first, kari (parent) gets exactly what kari gets with no cache at all, and
    ida what ida gets; frode (no parental responsibility) gets nothing either way."""
    for order in (("ida", "kari", "frode"), ("kari", "frode", "ida")):
        async with replicas(1) as (cached,), replicas(1, cache=False) as (fresh,):
            for viewer in order:
                [(answer, _)] = await screens(cached, viewer, (CARE, "ida"))
                [(expected, _)] = await screens(fresh, viewer, (CARE, "ida"))
                assert answer == expected, (order, viewer)
            hits = cached.app_services.subjects
            assert hits is not None
            assert hits.hits > 0  # the later viewers were served from the cache


async def test_a_write_reads_fresh_and_ends_what_was_cached() -> None:
    async with replicas(1) as (harness,):
        subjects = harness.app_services.subjects
        assert subjects is not None
        [(before, _)] = await screens(harness, "kari", (INBOX, "kari"))
        unread = before["data"]["person"]["unreadMessageCount"]
        assert unread > 0
        hits = subjects.hits
        thread = before["data"]["person"]["threads"]["edges"][0]["node"]["id"]
        payload = {
            "personId": person_id(harness, "kari"),
            "threadId": thread,
            "idempotencyKey": f"read-{uuid.uuid4().hex}",
        }
        marked = (await harness.query("kari", MARK_READ, {"input": payload})).json()
        assert marked["data"]["markMessagesRead"]["userErrors"] == [], marked
        assert subjects.hits == hits  # what the mutation read came from the upstreams
        [(after, calls)] = await screens(harness, "kari", (INBOX, "kari"))
        assert calls > 0
        assert after["data"]["person"]["unreadMessageCount"] < unread


async def test_replicas_share_raw_answers_through_redis_sealed(redis_prefix: str) -> None:
    shared: dict[str, Any] = {"redis_url": REDIS_URL, "redis_key_prefix": redis_prefix}
    async with replicas(2, **shared) as (one, two), replicas(1, cache=False) as (fresh,):
        await screens(one, "kari", (HOME, "kari"))
        [(inbox, calls)] = await screens(two, "kari", (INBOX, "kari"), count=record_calls)
        await screens(fresh, "kari", (HOME, "kari"))
        [(inbox_fresh, calls_fresh)] = await screens(
            fresh, "kari", (INBOX, "kari"), count=record_calls
        )
        assert inbox == inbox_fresh
        # replica two used what replica one read from the EHR (registry facts are read
        # fresh by every request: sources/registry_reads.py)
        assert calls < calls_fresh
        kari = one.mocks.population.persona("kari")
        stored = await _everything_in(redis_prefix)
    assert stored
    for secret in (kari.nin, kari.given_name, kari.family_name, kari.fhir_id):
        assert all(secret.encode() not in blob for blob in stored), "personal data in clear"


async def _everything_in(prefix: str) -> list[bytes]:
    client = redis_client(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
        values = [await client.get(k) for k in keys if await client.type(k) == b"string"]
    finally:
        await client.aclose()
    return [*keys, *(v for v in values if v is not None)]


async def test_screens_opened_at_once_share_their_identical_reads() -> None:
    """A portal opening home and the inbox together: what both read goes out once (the
    upstreams answer in 150 ms, so the two requests' reads are in flight together even
    on a loaded machine: at 30 ms a stall of the first request let the second's reads
    miss its flight now and then)."""
    answers, calls = {}, {}
    for cache in (True, False):
        async with replicas(1, latency_ms=150, cache=cache) as (harness,):
            harness.mocks.reset_counters()
            kari = {"id": person_id(harness, "kari")}
            home, inbox = await asyncio.gather(
                harness.query("kari", HOME), harness.query("kari", INBOX, kari)
            )
            answers[cache] = (home.json(), inbox.json())
            calls[cache] = health_calls(harness.mocks)
    assert answers[True] == answers[False]
    assert "errors" not in answers[True][0]
    assert calls[True] < calls[False]
