"""A hung upstream costs only its own fields, for everyone else too: bulkheads per upstream.

One municipality hangs under concurrent load. Requests waiting on it do not fill the
process's cap (which protects the CPU), the calls beyond its bulkhead fail at once, and
the citizens of a healthy municipality are served normally meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from gateway.app import create_app
from gateway.persisted import OPERATIONS_DIR
from mocks.app import MockUpstreams
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import MOCK_ORIGIN, NOON, Harness, gateway_settings

HOME = (OPERATIONS_DIR / "home.graphql").read_text(encoding="utf-8")
HUNG = "5037"  # Levanger: ola, frode and arne live there
HUNG_CITIZENS = ("ola", "frode", "arne")


@asynccontextmanager
async def gateway(**overrides: Any) -> AsyncIterator[Harness]:
    mocks = MockUpstreams(size=50, today=REFERENCE_DAY, clock=lambda: NOON)
    municipalities = mocks.settings_env(MOCK_ORIGIN)["municipalities"]
    # a deadline long enough that the hung calls still wait while the rest is checked
    municipalities[HUNG] |= {"timeout_s": 4.0, "max_concurrency": 3, "max_queue": 2}
    settings = gateway_settings(mocks, municipalities=municipalities, **overrides)
    app = create_app(settings, transport=httpx.ASGITransport(app=mocks.asgi()), clock=lambda: NOON)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        try:
            yield Harness(mocks, client, app.state.services)
        finally:
            await app.state.services.aclose()


async def test_a_hung_municipality_does_not_turn_away_another_municipalitys_citizens() -> None:
    async with gateway(max_in_flight=2, cache=False) as harness:
        harness.mocks.municipal[HUNG].faults.hang = True
        limit = harness.app_services.in_flight
        waiting = []
        for persona in HUNG_CITIZENS * 4:  # twelve requests, far more than the cap of 2
            waiting.append(asyncio.create_task(harness.query(persona, HOME)))
            for _ in range(400):  # one after another, as they arrive: each computes, then waits
                await asyncio.sleep(0.005)
                if limit.current == 0:
                    break
        assert harness.mocks.municipal[HUNG].total == 3  # the bulkhead's slots, no more
        healthy = await harness.query("per", HOME)  # Oslo, while Levanger hangs
        assert not any(task.done() for task in waiting[:3])  # the hung calls still wait
        hung = await asyncio.gather(*waiting)
    assert healthy.status_code == 200
    assert "errors" not in healthy.json(), healthy.json()["errors"]
    assert healthy.json()["data"]["viewer"]["person"]["labResults"]
    codes: set[str] = set()
    for response in hung:
        assert response.status_code == 200  # none shed: they waited, they did not compute
        body = response.json()
        assert body["data"]["viewer"]["person"]["name"]  # the rest of the screen is there
        assert {e["extensions"]["source"] for e in body["errors"]} == {f"MUNICIPAL {HUNG}"}
        codes |= {e["extensions"]["code"] for e in body["errors"]}
    # the first calls waited for their deadline; the ones beyond the bulkhead failed at once
    assert codes == {"UPSTREAM_TIMEOUT", "UPSTREAM_SATURATED"}
    assert harness.mocks.municipal[HUNG].total <= 3 + 2 * 3  # never more than it could hold


async def test_calls_beyond_the_bulkhead_fail_before_the_deadline() -> None:
    async with gateway(cache=False) as harness:
        harness.mocks.municipal[HUNG].faults.hang = True
        tasks = [asyncio.create_task(harness.query(p, HOME)) for p in HUNG_CITIZENS * 4]
        done, pending = await asyncio.wait(tasks, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        first = done.pop().result()
        still_waiting = len(pending)
        await asyncio.gather(*pending)
    # the first answer came while the hung calls were still waiting on their deadline
    assert still_waiting >= 3
    codes = {e["extensions"]["code"] for e in first.json()["errors"]}
    assert codes == {"UPSTREAM_SATURATED"}
