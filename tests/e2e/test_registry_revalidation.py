"""The facts an access basis rests on are checked on every request: a revoked power of
attorney or an ended parental responsibility stops access on the next request, on every
replica, cached answers included, with no change notification at all."""

from __future__ import annotations

import httpx

from gateway.persisted import OPERATIONS_DIR
from tests.conftest import REDIS_URL
from tests.e2e.conftest import Harness
from tests.e2e.test_subject_cache import replicas

HOME = (OPERATIONS_DIR / "home.graphql").read_text(encoding="utf-8")
NAME = "query($id: ID!) { person(id: $id) { name basis } }"


async def represented(harness: Harness) -> set[str]:
    body = (await harness.query("kari", HOME)).json()
    return {r["person"]["name"] for r in body["data"]["viewer"]["representations"]}


async def person(harness: Harness, persona: str) -> httpx.Response:
    nin = harness.mocks.population.persona(persona).nin
    return await harness.query("kari", NAME, {"id": harness.app_services.ids.person_id(nin)})


def refused(response: httpx.Response) -> bool:
    body = response.json()
    return body["data"]["person"] is None and body["errors"][0]["extensions"]["code"] == (
        "FORBIDDEN"
    )


async def test_a_revoked_power_stops_access_at_once_on_every_replica(redis_prefix: str) -> None:
    async with replicas(2, redis_url=REDIS_URL, redis_key_prefix=redis_prefix) as (one, two):
        population = one.mocks.population
        ola = population.persona("ola")
        for harness in (one, two, one, two):  # answered, then kept by both
            assert ola.name in await represented(harness)
            assert (await person(harness, "ola")).json()["data"]["person"]["name"] == ola.name
        power = next(p for p in population.powers_of_attorney if p.grantor == ola.nin)
        population.revoke_power(power.id)  # in the registry; nobody tells the gateway
        for harness in (two, one):
            assert ola.name not in await represented(harness)
            assert refused(await person(harness, "ola"))


async def test_an_ended_parental_responsibility_stops_access_at_once(redis_prefix: str) -> None:
    async with replicas(2, redis_url=REDIS_URL, redis_key_prefix=redis_prefix) as (one, two):
        population = one.mocks.population
        kari, emil = population.persona("kari"), population.persona("emil")
        for harness in (one, two, one, two):
            assert emil.name in await represented(harness)
            assert (await person(harness, "emil")).json()["data"]["person"]["basis"] == "PARENT"
        population.end_parental_responsibility(kari.nin, emil.nin)
        for harness in (two, one):
            assert emil.name not in await represented(harness)
            assert refused(await person(harness, "emil"))


async def test_a_kept_answer_costs_one_registry_round_trip_and_nothing_else() -> None:
    async with replicas(1) as (harness,):
        first = await harness.query("kari", HOME)
        harness.mocks.reset_counters()
        again = await harness.query("kari", HOME)
        assert again.content == first.content
        counts = {name: n for name, n in harness.mocks.counts().items() if n}
        assert counts == {"NATIONAL": 1}


async def test_ones_own_view_from_sixteen_rests_on_no_registry_fact() -> None:
    """Whom a self view is for follows from the token alone (the identity number tells the
    age): a kept answer about oneself is served with no upstream call at all."""
    inbox = """
    query($id: ID!) { person(id: $id) { unreadMessageCount threads(first: 5) { totalCount } } }
    """
    async with replicas(1) as (harness,):
        kari = harness.app_services.ids.person_id(harness.mocks.population.persona("kari").nin)
        first = await harness.query("kari", inbox, {"id": kari})
        harness.mocks.reset_counters()
        again = await harness.query("kari", inbox, {"id": kari})
        assert again.content == first.content
        assert "errors" not in again.json()
        assert {name: n for name, n in harness.mocks.counts().items() if n} == {}
