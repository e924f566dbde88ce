"""Parent access ends on the 16th birthday, counted in Europe/Oslo time."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from authz.relations import OSLO
from gateway.app import create_app
from mocks.app import MockUpstreams
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import gateway_settings

REPRESENTED = "{ viewer { representations { person { name } } } }"


@pytest.fixture
def mocks() -> MockUpstreams:
    return MockUpstreams(size=0, today=REFERENCE_DAY)


async def names_at(mocks: MockUpstreams, moment: dt.datetime) -> set[str]:
    app = create_app(
        gateway_settings(mocks),
        transport=httpx.ASGITransport(app=mocks.asgi()),
        clock=lambda: moment,
    )
    token = mocks.issuer.token_for(mocks.population.persona("kari"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        body = (
            await client.post(
                "/graphql",
                json={"query": REPRESENTED},
                headers={"authorization": f"Bearer {token}"},
            )
        ).json()
    await app.state.services.aclose()
    return {r["person"]["name"] for r in body["data"]["viewer"]["representations"]}


async def test_access_ends_at_oslo_midnight_even_when_utc_is_still_the_day_before(
    mocks: MockUpstreams,
) -> None:
    born = mocks.population.persona("ida").birth_date
    birthday = born.replace(year=born.year + 16)
    oslo_midnight = dt.datetime.combine(birthday, dt.time(0, 30), tzinfo=OSLO)
    as_utc = oslo_midnight.astimezone(dt.UTC)
    assert as_utc.date() < birthday  # the clock reads the day before, in UTC
    before = dt.datetime.combine(birthday - dt.timedelta(days=1), dt.time(23, 30), tzinfo=OSLO)
    assert "Ida Nordmann" in await names_at(mocks, before.astimezone(dt.UTC))
    assert "Ida Nordmann" not in await names_at(mocks, as_utc)
    assert "Emil Nordmann" in await names_at(mocks, as_utc)
