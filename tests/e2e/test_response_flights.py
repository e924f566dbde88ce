"""Identical requests at the same moment (a portal opening one screen twice, a retry while
the first is still running): the first computes, the others wait for its answer, so each
upstream is asked once; every request is still audited as its own."""

from __future__ import annotations

import asyncio

import httpx

from gateway.app import create_app
from gateway.persisted import OPERATIONS_DIR
from mocks.app import MockUpstreams
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import NOON, gateway_settings

HOME = (OPERATIONS_DIR / "home.graphql").read_text(encoding="utf-8")


async def opened(times: int) -> tuple[dict[str, int], list[httpx.Response], set[str]]:
    """The home screen asked `times` times at once by kari, on fresh mocks and gateway (the
    upstreams answer in 250 ms, so the requests overlap even on a loaded machine):
    the upstream calls, the answers, and the request ids the audit trail holds."""
    mocks = MockUpstreams(size=200, today=REFERENCE_DAY, clock=lambda: NOON, latency_ms=250)
    app = create_app(
        gateway_settings(mocks),
        transport=httpx.ASGITransport(app=mocks.asgi()),
        clock=lambda: NOON,
    )
    token = mocks.issuer.token_for(mocks.population.persona("kari"))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gw.test"
        ) as client:
            answers = await asyncio.gather(
                *(
                    client.post(
                        "/graphql",
                        json={"query": HOME},
                        headers={"authorization": f"Bearer {token}"},
                    )
                    for _ in range(times)
                )
            )
        audited = {r.entry.request_id async for r in app.state.services.audit.records()}
    finally:
        await app.state.services.aclose()
    calls = {name: n for name, n in mocks.counts().items() if name != "OIDC"}
    return calls, list(answers), audited


async def test_identical_concurrent_misses_reach_each_upstream_once() -> None:
    alone, [single], _ = await opened(1)
    together, answers, audited = await opened(3)
    assert together == alone
    assert all(a.status_code == 200 for a in answers)
    assert {a.content for a in answers} == {single.content}
    assert audited == {a.headers["x-request-id"] for a in answers}  # each one on the record
