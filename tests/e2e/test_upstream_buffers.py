"""One byte budget for the answers of every upstream of a gateway (`sources/buffers.py`):
set by `HELSEGRAF_UPSTREAM_BUFFER_BYTES`, shared by all upstreams, and a full budget costs
the fields of the answers that did not fit, as `UPSTREAM_SATURATED`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from gateway.app import create_app
from gateway.settings import Settings
from mocks.app import MockUpstreams
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import NOON, Harness, gateway_settings
from tests.e2e.test_home import HOME

MiB = 1024 * 1024


def test_every_upstream_of_a_gateway_shares_one_budget(harness: Harness) -> None:
    services = harness.app_services
    budget = services.ehr.buffers
    assert budget.capacity == services.settings.upstream_buffer_bytes == 64 * MiB
    assert services.national.buffers is budget
    assert services.municipalities
    assert all(m.buffers is budget for m in services.municipalities.values())


@pytest.mark.parametrize("size", [MiB - 1, 64 * 1024**3 + 1])
def test_the_budget_is_bounded(size: int) -> None:
    with pytest.raises(ValidationError, match="upstream_buffer_bytes"):
        Settings(upstream_buffer_bytes=size)


def test_the_budget_holds_twice_every_upstreams_largest_answer() -> None:
    upstreams: dict[str, Any] = {
        "ehr": {"url": "http://ehr.test", "max_response_bytes": 4 * MiB},
        "national": {"url": "http://national.test", "max_response_bytes": MiB},
        "municipalities": {"5001": {"url": "http://m.test", "max_response_bytes": 5 * MiB}},
    }
    assert Settings(upstream_buffer_bytes=10 * MiB, **upstreams).upstream_buffer_bytes == 10 * MiB
    with pytest.raises(ValidationError, match="HELSEGRAF_MUNICIPALITIES 5001 max_response_bytes"):
        Settings(upstream_buffer_bytes=10 * MiB - 1, **upstreams)
    with pytest.raises(ValidationError, match="HELSEGRAF_EHR max_response_bytes"):
        Settings(upstream_buffer_bytes=4 * MiB, ehr=upstreams["ehr"])
    Settings(upstream_buffer_bytes=MiB)  # no upstream configured: nothing to compare


async def test_an_answer_that_does_not_fit_costs_only_its_own_fields() -> None:
    mocks = MockUpstreams(size=50, today=REFERENCE_DAY, clock=lambda: NOON)
    mocks.ehr.faults.oversized_bytes = 3 * MiB  # within the EHR's cap, not in what is left
    env = mocks.settings_env("http://mocks.test")
    settings = gateway_settings(
        mocks,
        upstream_buffer_bytes=8 * MiB,
        ehr=env["ehr"] | {"max_response_bytes": 4 * MiB},
        national=env["national"] | {"max_response_bytes": MiB},
        municipalities={
            code: m | {"max_response_bytes": MiB} for code, m in env["municipalities"].items()
        },
    )
    app = create_app(settings, transport=httpx.ASGITransport(app=mocks.asgi()), clock=lambda: NOON)
    budget = app.state.services.ehr.buffers
    others = budget.hold()
    assert others.grow(6 * MiB)  # other calls in flight hold most of the budget
    token = mocks.issuer.token_for(mocks.population.persona("kari"))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
        ) as client:
            response = await client.post(
                "/graphql", json={"query": HOME}, headers={"authorization": f"Bearer {token}"}
            )
    finally:
        await app.state.services.aclose()
    assert response.status_code == 200
    body = response.json()
    person = body["data"]["viewer"]["person"]
    assert person["name"] == "Kari Nordmann"  # the national answer fitted
    assert person["vaccinations"]
    assert person["labResults"] is None
    codes = {(e["extensions"]["source"], e["extensions"]["code"]) for e in body["errors"]}
    assert codes == {("EHR", "UPSTREAM_SATURATED")}
    assert budget.used == 6 * MiB  # every call gave back what it held
    others.release()
    assert budget.used == 0
