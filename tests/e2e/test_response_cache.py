"""The whole-response cache end to end: repeated screens cost no upstream call, still
audit, and never outlive a write, a caller, a language or a day."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from authz.policy import Action
from gateway.app import create_app
from gateway.persisted import OPERATIONS_DIR
from mocks.app import MockUpstreams
from resolvers.messages import message_writes
from sources.audit import AuditUnavailable
from tests.conftest import REDIS_URL, REFERENCE_DAY
from tests.e2e.conftest import NOON, Harness, gateway_settings
from tests.e2e.test_matrix import person_id

HOME = (OPERATIONS_DIR / "home.graphql").read_text(encoding="utf-8")
INBOX = """
query($id: ID!) { person(id: $id) { unreadMessageCount messages(first: 50) { totalCount } } }
"""
SEND = """
mutation($input: SendMessageInput!) { sendMessage(input: $input) { userErrors { code } } }
"""


def health_calls(mocks: MockUpstreams) -> int:
    """Requests to the health upstreams (not the token issuer's key set)."""
    return sum(n for name, n in mocks.counts().items() if name != "OIDC")


def only_the_registry_check(mocks: MockUpstreams) -> bool:
    """True when the one upstream call was checking the registry facts the answer's access
    decisions rested on (tests/e2e/test_registry_revalidation.py): served from the cache."""
    calls = {name: n for name, n in mocks.counts().items() if n and name != "OIDC"}
    return calls == {"NATIONAL": 1}


async def audited(harness: Harness) -> list[Any]:
    return [r.entry async for r in harness.app_services.audit.records()]


async def test_a_repeated_screen_is_served_from_the_cache_and_still_audited(
    harness: Harness,
) -> None:
    first = await harness.query("kari", HOME)
    assert "errors" not in first.json()
    entries_first = await audited(harness)
    harness.mocks.reset_counters()
    again = await harness.query("kari", HOME)
    assert again.content == first.content
    assert only_the_registry_check(harness.mocks)
    entries = await audited(harness)
    replayed = entries[len(entries_first) :]
    assert replayed
    assert {(e.subject, e.basis, e.categories, e.resources) for e in replayed} == {
        (e.subject, e.basis, e.categories, e.resources) for e in entries_first
    }
    assert {e.request_id for e in replayed} == {again.headers["x-request-id"]}


async def test_callers_and_languages_never_share_an_answer(harness: Harness) -> None:
    norwegian = await harness.query("kari", HOME)
    kari = norwegian.json()
    harness.mocks.reset_counters()
    per = (await harness.query("per", HOME)).json()
    assert health_calls(harness.mocks) > 0
    assert per["data"]["viewer"]["person"]["id"] != kari["data"]["viewer"]["person"]["id"]
    # Another language is another answer (its raw upstream data may come from the cache)
    english = await harness.query("kari", HOME, headers={"accept-language": "en"})
    assert english.content != norwegian.content
    assert (await harness.query("kari", HOME)).content == norwegian.content


async def test_ones_own_write_shows_in_the_next_read(harness: Harness) -> None:
    kari = await person_id(harness, "kari")
    before = (await harness.query("kari", INBOX, {"id": kari})).json()["data"]["person"]
    message = {
        "personId": kari,
        "subject": "Spørsmål",
        "text": "Hei!",
        "idempotencyKey": f"cache-{uuid.uuid4().hex}",
    }
    sent = (await harness.query("kari", SEND, {"input": message})).json()
    assert sent["data"]["sendMessage"]["userErrors"] == []
    after = (await harness.query("kari", INBOX, {"id": kari})).json()["data"]["person"]
    assert after["messages"]["totalCount"] == before["messages"]["totalCount"] + 1


async def test_a_proxy_sees_the_grantors_own_write_at_once(harness: Harness) -> None:
    ola = await person_id(harness, "ola")
    before = (await harness.query("kari", INBOX, {"id": ola})).json()["data"]["person"]
    message = {
        "personId": ola,
        "subject": "Time",
        "text": "Kan jeg flytte timen?",
        "idempotencyKey": f"cache-{uuid.uuid4().hex}",
    }
    sent = (await harness.query("ola", SEND, {"input": message})).json()
    assert sent["data"]["sendMessage"]["userErrors"] == []
    after = (await harness.query("kari", INBOX, {"id": ola})).json()["data"]["person"]
    assert after["messages"]["totalCount"] == before["messages"]["totalCount"] + 1


async def message_count(harness: Harness, kari: str) -> int:
    """Kari's messages as her inbox shows them (the answer is then kept in the cache)."""
    answer = (await harness.query("kari", INBOX, {"id": kari})).json()
    count: int = answer["data"]["person"]["messages"]["totalCount"]
    return count


async def send_to_her_gp(harness: Harness, kari: str) -> httpx.Response:
    message = {
        "personId": kari,
        "subject": "Spørsmål",
        "text": "Hei!",
        "idempotencyKey": f"cache-{uuid.uuid4().hex}",
    }
    return await harness.query("kari", SEND, {"input": message})


async def test_a_write_without_its_audit_entry_still_invalidates_its_person(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writes name whom they changed themselves: the audit entry is not what invalidates."""
    monkeypatch.setattr(message_writes, "served", lambda *args, **kwargs: None)
    kari = await person_id(harness, "kari")
    before = await message_count(harness, kari)
    sent = (await send_to_her_gp(harness, kari)).json()
    assert sent["data"]["sendMessage"]["userErrors"] == []
    assert await message_count(harness, kari) == before + 1
    writes = [e for e in await audited(harness) if e.action == Action.WRITE.value]
    assert writes == []  # the write really went unaudited


async def test_a_write_refused_for_want_of_an_audit_trail_still_invalidates(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message reached the EHR before the trail failed: the next read must show it."""
    append = harness.app_services.audit.append
    down = False

    async def flaky(entries: Any) -> None:
        if down:
            raise AuditUnavailable("down")
        await append(entries)

    monkeypatch.setattr(harness.app_services.audit, "append", flaky)
    kari = await person_id(harness, "kari")
    before = await message_count(harness, kari)
    down = True
    refused = await send_to_her_gp(harness, kari)
    down = False
    assert refused.status_code == 503
    assert await message_count(harness, kari) == before + 1


async def test_no_audit_no_cached_answer(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (await harness.query("kari", HOME)).status_code == 200

    async def refuse(entries: Any) -> None:
        raise AuditUnavailable("down")

    monkeypatch.setattr(harness.app_services.audit, "append", refuse)
    response = await harness.query("kari", HOME)
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
    assert "data" not in response.json()


async def gateway(
    mocks: MockUpstreams, clock: Callable[[], dt.datetime], **settings: Any
) -> tuple[httpx.AsyncClient, Any]:
    app = create_app(
        gateway_settings(mocks, **settings),
        transport=httpx.ASGITransport(app=mocks.asgi()),
        clock=clock,
    )
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test")
    return client, app


async def ask(client: httpx.AsyncClient, mocks: MockUpstreams, persona: str) -> httpx.Response:
    token = mocks.issuer.token_for(mocks.population.persona(persona))
    return await client.post(
        "/graphql", json={"query": HOME}, headers={"authorization": f"Bearer {token}"}
    )


async def test_a_new_day_is_a_new_answer() -> None:
    """Ages and "upcoming" move at midnight in Norway: yesterday's answer is not reused."""
    mocks = MockUpstreams(size=200, today=REFERENCE_DAY)
    now = [NOON]
    client, app = await gateway(mocks, lambda: now[0])
    try:
        await ask(client, mocks, "kari")
        mocks.reset_counters()
        await ask(client, mocks, "kari")
        assert only_the_registry_check(mocks)
        mocks.reset_counters()
        now[0] = NOON + dt.timedelta(hours=12)  # just past midnight in Oslo
        await ask(client, mocks, "kari")
        assert health_calls(mocks) > 1
    finally:
        await client.aclose()
        await app.state.services.aclose()


async def test_caching_off_asks_the_upstreams_every_time() -> None:
    mocks = MockUpstreams(size=200, today=REFERENCE_DAY)
    client, app = await gateway(mocks, lambda: NOON, cache=False)
    try:
        await ask(client, mocks, "kari")
        mocks.reset_counters()
        await ask(client, mocks, "kari")
        assert health_calls(mocks) > 0
    finally:
        await client.aclose()
        await app.state.services.aclose()


async def test_replicas_share_answers_and_invalidations_through_redis(redis_prefix: str) -> None:
    mocks = MockUpstreams(size=200, today=REFERENCE_DAY)
    shared = {"redis_url": REDIS_URL, "redis_key_prefix": redis_prefix}
    one, app_one = await gateway(mocks, lambda: NOON, **shared)
    two, app_two = await gateway(mocks, lambda: NOON, **shared)
    try:
        first = await ask(one, mocks, "kari")
        mocks.reset_counters()
        second = await ask(two, mocks, "kari")
        assert second.content == first.content
        assert only_the_registry_check(mocks)
        kari = app_one.state.services.ids.person_id(mocks.population.persona("kari").nin)
        token = mocks.issuer.token_for(mocks.population.persona("kari"))
        message = {
            "personId": kari,
            "subject": "Spørsmål",
            "text": "Hei!",
            "idempotencyKey": f"cache-{uuid.uuid4().hex}",
        }
        sent = await one.post(
            "/graphql",
            json={"query": SEND, "variables": {"input": message}},
            headers={"authorization": f"Bearer {token}"},
        )
        assert sent.json()["data"]["sendMessage"]["userErrors"] == []
        mocks.reset_counters()
        third = await ask(two, mocks, "kari")
        assert health_calls(mocks) > 1  # replica two saw replica one's write
        assert third.json()["data"]["viewer"]["person"]["id"] == kari
    finally:
        for client, app in ((one, app_one), (two, app_two)):
            await client.aclose()
            await app.state.services.aclose()


async def test_an_answer_computed_while_a_write_landed_is_not_kept(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer may hold data read before the write; tokens read afterwards would vouch
    for it, so it is not stored at all."""
    services = harness.app_services
    assert services.responses is not None
    responses = services.responses
    execute = services.schema.execute
    ola = harness.mocks.population.persona("ola").nin

    async def with_a_write_meanwhile(*args: Any, **kwargs: Any) -> Any:
        result = await execute(*args, **kwargs)
        await responses.changed([ola])  # someone else's write, during this request
        return result

    monkeypatch.setattr(services.schema, "execute", with_a_write_meanwhile)
    await harness.query("kari", HOME)
    monkeypatch.setattr(services.schema, "execute", execute)
    harness.mocks.reset_counters()
    await harness.query("kari", HOME)
    assert health_calls(harness.mocks) > 0
