"""Every access to a subject's data leaves an audit record; no record, no data."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx

from authz.audit import AuditEntry, verify
from gateway.app import create_app
from gateway.persisted import OPERATIONS_DIR
from mocks.app import MockUpstreams
from sources.audit import SqliteAuditStore
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import NOON, Harness, gateway_settings

VIEWER = "{ viewer { person { id name } representations { basis person { id name } } } }"
PERSON_RESULTS = "query($id: ID!) { person(id: $id) { name labResults(first: 2) { id } } }"


async def _representation(harness: Harness, viewer: str, name: str) -> str:
    body = (await harness.query(viewer, VIEWER)).json()
    return str(
        next(
            r["person"]["id"]
            for r in body["data"]["viewer"]["representations"]
            if r["person"]["name"] == name
        )
    )


async def test_one_record_per_subject_with_basis_categories_and_references(
    harness: Harness,
) -> None:
    ola_id = await _representation(harness, "kari", "Ola Nordmann")
    audit = harness.app_services.audit
    before = (await audit.head())[0]
    response = await harness.query(
        "kari", PERSON_RESULTS, {"id": ola_id}, headers={"x-request-id": "req-audit-0001"}
    )
    assert "errors" not in response.json()
    records = [r async for r in audit.records()][before:]
    kari = harness.mocks.population.persona("kari").nin
    ola = harness.mocks.population.persona("ola").nin
    assert len(records) == 1
    entry = records[0].entry
    assert (entry.actor, entry.subject, entry.basis) == (kari, ola, "PROXY")
    assert entry.request_id == "req-audit-0001"
    assert entry.categories == ("identity", "results")
    assert entry.action == "read"
    assert entry.outcome == "success"
    assert entry.actor_kind == "citizen"
    assert all(ref.startswith("EHR/Observation/") for ref in entry.resources)
    assert len(entry.resources) == 2


async def test_a_denied_category_is_recorded_as_denied(harness: Harness) -> None:
    ida_id = await _representation(harness, "kari", "Ida Nordmann")
    audit = harness.app_services.audit
    before = (await audit.head())[0]
    body = (await harness.query("kari", PERSON_RESULTS, {"id": ida_id})).json()
    assert body["data"]["person"]["labResults"] is None
    outcomes = {
        (r.entry.outcome, r.entry.categories) async for r in audit.records() if r.seq > before
    }
    assert outcomes == {("success", ("identity",)), ("denied", ("results",))}


async def test_no_audit_no_data(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the audit directory should be", encoding="utf-8")
    mocks = MockUpstreams(size=0, today=REFERENCE_DAY)
    settings = gateway_settings(mocks, audit_path=str(blocker / "audit.sqlite3"))
    app = create_app(settings, transport=httpx.ASGITransport(app=mocks.asgi()), clock=lambda: NOON)
    token = mocks.issuer.token_for(mocks.population.persona("kari"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        response = await client.post(
            "/graphql", json={"query": VIEWER}, headers={"authorization": f"Bearer {token}"}
        )
    await app.state.services.aclose()
    assert response.status_code == 503
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
    assert "Kari" not in response.text


async def test_the_trail_verifies_after_traffic(harness: Harness) -> None:
    from authz.audit import verify

    for persona in ("kari", "ola", "per"):
        await harness.query(persona, VIEWER)
    records = [r async for r in harness.app_services.audit.records()]
    assert len(records) >= 3
    assert verify(records).ok


# -- a trail that cannot take a record ------------------------------------------------------

GUARD_S = 8.0  # a generous guard against a hang (a locked trail stalled for minutes)


@contextlib.asynccontextmanager
async def gateway(**overrides: Any) -> AsyncIterator[tuple[httpx.AsyncClient, MockUpstreams]]:
    mocks = MockUpstreams(size=0, today=REFERENCE_DAY, clock=lambda: NOON)
    settings = gateway_settings(mocks, **overrides)
    app = create_app(settings, transport=httpx.ASGITransport(app=mocks.asgi()), clock=lambda: NOON)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
        ) as client:
            yield client, mocks
    finally:
        await app.state.services.aclose()


@contextlib.contextmanager
def write_locked(path: str) -> Iterator[None]:
    """Another process holding the trail's write lock until the block ends."""
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_a_write_locked_trail_refuses_every_health_request_in_time_and_recovers(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "audit.sqlite3")
    async with gateway(audit_path=path, audit_timeout_s=0.5) as (client, mocks):
        headers = {
            "authorization": f"Bearer {mocks.issuer.token_for(mocks.population.persona('kari'))}"
        }
        served = await client.post("/graphql", json={"query": VIEWER}, headers=headers)
        assert served.status_code == 200
        with write_locked(path):
            async with asyncio.timeout(GUARD_S):
                waiting = await asyncio.gather(
                    *(
                        client.post("/graphql", json={"query": VIEWER}, headers=headers)
                        for _ in range(6)
                    )
                )
                ready = await client.get("/readyz")
        for response in waiting:
            assert response.status_code == 503
            assert response.json()["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
            assert response.headers["retry-after"]
            assert "Kari" not in response.text
        assert ready.status_code == 503
        assert ready.json()["checks"]["audit"] == "failing"
        assert (await client.get("/healthz")).status_code == 200  # alive all along
        again = await client.post("/graphql", json={"query": VIEWER}, headers=headers)
        assert again.status_code == 200
        assert (await client.get("/readyz")).status_code == 200
        store = SqliteAuditStore(path, read_only=True)
        try:
            records = [r async for r in store.records()]
        finally:
            await store.aclose()
    # the two served requests only, in one gapless chain: nothing refused was written
    assert sorted({r.entry.request_id for r in records}) == sorted(
        {served.headers["x-request-id"], again.headers["x-request-id"]}
    )
    assert verify(records).ok


async def test_readiness_names_an_unreachable_audit_store_and_redis(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the audit directory should be", encoding="utf-8")
    async with gateway(
        audit_path=str(blocker / "audit.sqlite3"), redis_url="redis://127.0.0.1:1/0"
    ) as (client, _):
        async with asyncio.timeout(GUARD_S):
            ready = await client.get("/readyz")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert (checks["audit"], checks["redis"]) == ("failing", "failing")
    assert checks["ehr"] == "ok"


async def test_readiness_with_a_reachable_redis(redis_prefix: str) -> None:
    from tests.conftest import REDIS_URL

    async with gateway(redis_url=REDIS_URL, redis_key_prefix=redis_prefix) as (client, _):
        ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.json()
    assert ready.json()["checks"]["redis"] == "ok"
    assert ready.json()["checks"]["audit"] == "ok"


# -- login level and operation --------------------------------------------------------------


async def _since(harness: Harness, before: int) -> list[AuditEntry]:
    return [r.entry async for r in harness.app_services.audit.records() if r.seq > before]


async def test_records_carry_the_login_level_and_the_hash_of_the_operation(
    harness: Harness,
) -> None:
    before = (await harness.app_services.audit.head())[0]
    home = (OPERATIONS_DIR / "home.graphql").read_text(encoding="utf-8")
    first = await harness.query("kari", home)
    harness.mocks.reset_counters()
    again = await harness.query("kari", home)  # answered from the response cache
    assert again.content == first.content
    calls = {name: n for name, n in harness.mocks.counts().items() if n and name != "OIDC"}
    assert calls == {"NATIONAL": 1}  # the registry check a kept answer gets, nothing else
    entries = await _since(harness, before)
    assert {e.request_id for e in entries} == {
        first.headers["x-request-id"],
        again.headers["x-request-id"],
    }
    digest = "sha256:" + hashlib.sha256(home.encode()).hexdigest()
    assert {(e.acr, e.operation) for e in entries} == {("idporten-loa-high", digest)}


async def test_a_persisted_operation_is_recorded_by_its_hash_and_a_lower_login_level_as_such(
    harness: Harness,
) -> None:
    document = (OPERATIONS_DIR / "home.graphql").read_text(encoding="utf-8")
    digest = hashlib.sha256(document.encode()).hexdigest()
    before = (await harness.app_services.audit.head())[0]
    token = harness.token("kari", acr="idporten-loa-substantial")
    response = await harness.client.post(
        "/graphql",
        json={"documentId": f"sha256:{digest}"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    entries = await _since(harness, before)
    assert entries
    assert {(e.acr, e.operation) for e in entries} == {
        ("idporten-loa-substantial", f"sha256:{digest}")
    }


async def test_a_denied_category_is_recorded_with_the_policys_reason(harness: Harness) -> None:
    ida_id = await _representation(harness, "kari", "Ida Nordmann")
    before = (await harness.app_services.audit.head())[0]
    body = (await harness.query("kari", PERSON_RESULTS, {"id": ida_id})).json()
    [error] = body["errors"]
    denied = [e for e in await _since(harness, before) if e.outcome == "denied"]
    assert [(e.categories, e.reason) for e in denied] == [
        (("results",), error["extensions"]["reason"])
    ]
    assert error["extensions"]["reason"] == "CHILD_12_15"
