"""Practitioners and locations through the reference cache, against a scripted EHR whose
directory can be made to fail: fresh copies are not asked again, older ones stand in
(marked stale) while it fails, and only within their bound."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from sources.ehr import EhrClient
from sources.ehr_directory import Directory as RequestDirectory
from sources.errors import UpstreamBadResponse, UpstreamNotFound, UpstreamUnavailable
from sources.reference_cache import ReferenceCache
from sources.resilience import RetryPolicy
from sources.upstream import Upstream
from tests.sources.test_ehr import APPOINTMENT, LOCATION, PRACTITIONER, bundle
from tests.sources.test_reference_cache import T0, Clock

PR2 = {"resourceType": "Practitioner", "id": "pr2", "name": [{"family": "Bakke"}]}
FRESH_S, STALE_S = 300, 3600


class Directory:
    """A scripted EHR: answers id searches from its records, or fails as told."""

    def __init__(self, *resources: dict[str, Any]) -> None:
        self.resources = {(r["resourceType"], r["id"]): r for r in resources}
        self.failure: Callable[[], httpx.Response] | None = None
        self.asked: list[tuple[str, list[str]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.failure is not None:
            return self.failure()
        if request.url.path.rstrip("/") == "/fhir":  # a batch: each entry answered alike
            urls = [e["request"]["url"] for e in json.loads(request.content)["entry"]]
            entries = [{"response": {"status": "200 OK"}, "resource": self.search(u)} for u in urls]
            return httpx.Response(
                200, json={"resourceType": "Bundle", "type": "batch-response", "entry": entries}
            )
        kind = request.url.path.split("/")[-2]
        return httpx.Response(200, json=self.search(f"{kind}?{request.content.decode()}"))

    def search(self, url: str) -> dict[str, Any]:
        kind, _, query = url.partition("?")
        if kind == "Appointment":
            return bundle(APPOINTMENT, included=(PRACTITIONER, LOCATION))
        ids = parse_qs(query)["_id"][0].split(",")
        self.asked.append((kind, ids))
        return bundle(*[self.resources[(kind, i)] for i in ids if (kind, i) in self.resources])


class World:
    """One process: its reference cache on a hand-moved clock, and a client per request."""

    def __init__(self, directory: Directory) -> None:
        self.clock = Clock()
        self.directory = directory
        self.reference = ReferenceCache(
            fresh_s=FRESH_S, stale_s=STALE_S, max_entries=100, max_bytes=1_000_000, clock=self.clock
        )
        self.upstream = Upstream(
            "EHR",
            "http://ehr.test/fhir",
            timeout_s=1,
            retry=RetryPolicy(attempts=1),
            transport=httpx.MockTransport(directory),
        )

    def request(self) -> EhrClient:
        """A new request's client (fresh loaders), sharing the process's cache."""
        return EhrClient(self.upstream, reference=self.reference)


def down() -> httpx.Response:
    return httpx.Response(503, json={"resourceType": "OperationOutcome", "issue": []})


@pytest.fixture
def world() -> World:
    return World(Directory(PRACTITIONER, PR2, LOCATION))


async def test_a_fresh_copy_is_not_asked_again(world: World) -> None:
    first = await world.request().practitioners.load("pr1")
    assert first is not None
    assert (first.value.name, first.as_of, first.stale) == ("Anne Aas", T0, False)
    world.clock.advance(FRESH_S - 1)
    again = await world.request().practitioners.load("pr1")
    assert again == first
    assert world.directory.asked == [("Practitioner", ["pr1"])]


async def test_past_its_fresh_lifetime_it_is_asked_again_and_replaced(world: World) -> None:
    await world.request().practitioners.load("pr1")
    world.clock.advance(FRESH_S)
    world.directory.resources["Practitioner", "pr1"] = {**PRACTITIONER, "name": [{"text": "Ny"}]}
    again = await world.request().practitioners.load("pr1")
    assert again is not None
    assert (again.value.name, again.as_of, again.stale) == ("Ny", world.clock.now, False)
    assert len(world.directory.asked) == 2


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(down, id="unavailable"),
        pytest.param(lambda: httpx.Response(200, json={"resourceType": "Patient"}), id="bad"),
        pytest.param(lambda: httpx.Response(200, content=b"{not json"), id="malformed"),
    ],
)
async def test_while_the_directory_fails_an_older_copy_stands_in_marked_stale(
    world: World, failure: Callable[[], httpx.Response]
) -> None:
    client = world.request()
    await asyncio.gather(client.practitioners.load("pr1"), client.locations.load("loc1"))
    world.clock.advance(STALE_S - 1)
    world.directory.failure = failure
    client = world.request()
    person, place = await asyncio.gather(
        client.practitioners.load("pr1"), client.locations.load("loc1")
    )
    assert person is not None
    assert place is not None
    assert (person.value.name, person.as_of, person.stale) == ("Anne Aas", T0, True)
    assert (place.value.name, place.as_of, place.stale) == ("St. Olavs", T0, True)
    world.directory.failure = None  # back: a fresh answer, no longer stale
    recovered = await world.request().practitioners.load("pr1")
    assert recovered is not None
    assert (recovered.as_of, recovered.stale) == (world.clock.now, False)


async def test_past_the_stale_bound_the_failure_is_the_callers(world: World) -> None:
    await world.request().practitioners.load("pr1")
    world.clock.advance(STALE_S)
    world.directory.failure = down
    with pytest.raises(UpstreamUnavailable):
        await world.request().practitioners.load("pr1")


async def test_only_the_ids_with_a_copy_are_served_stale(world: World) -> None:
    await world.request().practitioners.load("pr1")
    world.clock.advance(FRESH_S + 1)
    world.directory.failure = down
    client = world.request()
    kept, never = await asyncio.gather(
        client.practitioners.load("pr1"), client.practitioners.load("pr2"), return_exceptions=True
    )
    assert not isinstance(kept, BaseException)
    assert kept is not None
    assert kept.stale
    assert isinstance(never, UpstreamUnavailable)


async def test_one_the_directory_no_longer_has_is_not_served_from_a_copy(world: World) -> None:
    await world.request().practitioners.load("pr2")
    world.clock.advance(FRESH_S)
    del world.directory.resources["Practitioner", "pr2"]
    assert await world.request().practitioners.load("pr2") is None  # gone, and forgotten
    world.directory.failure = down
    with pytest.raises(UpstreamUnavailable):
        await world.request().practitioners.load("pr2")


async def test_not_found_is_an_answer_not_an_outage(world: World) -> None:
    await world.request().practitioners.load("pr1")
    world.clock.advance(FRESH_S)
    world.directory.failure = lambda: httpx.Response(404)
    with pytest.raises(UpstreamNotFound):
        await world.request().practitioners.load("pr1")


async def test_included_resources_are_kept_as_fresh_copies(world: World) -> None:
    await world.request().appointments.of("e1", upcoming=True, now=T0 - dt.timedelta(days=30))
    assert world.directory.asked == []  # they came with the appointments
    client = world.request()
    person, place = await asyncio.gather(
        client.practitioners.load("pr1"), client.locations.load("loc1")
    )
    assert world.directory.asked == []  # and the next request reuses them
    assert person is not None
    assert place is not None
    assert (person.as_of, person.stale, place.as_of, place.stale) == (T0, False, T0, False)
    world.clock.advance(FRESH_S)
    world.directory.failure = down
    stale = await world.request().locations.load("loc1")
    assert stale is not None
    assert (stale.as_of, stale.stale) == (T0, True)


async def test_without_a_cache_nothing_stands_in() -> None:
    directory = Directory(PRACTITIONER)
    upstream = Upstream(
        "EHR",
        "http://ehr.test/fhir",
        timeout_s=1,
        retry=RetryPolicy(attempts=1),
        transport=httpx.MockTransport(directory),
    )
    first = await EhrClient(upstream).practitioners.load("pr1")
    assert first is not None
    assert not first.stale
    directory.failure = down
    with pytest.raises(UpstreamUnavailable):
        await EhrClient(upstream).practitioners.load("pr1")
    assert len(directory.asked) == 1


async def test_a_bad_answer_without_a_copy_is_the_callers(world: World) -> None:
    world.directory.failure = lambda: httpx.Response(200, json={"resourceType": "Patient"})
    with pytest.raises(UpstreamBadResponse):
        await world.request().practitioners.load("pr1")


async def no_reads(kind: str, ids: list[str]) -> Any:
    raise AssertionError("nothing is read")


async def test_an_included_record_does_not_replace_a_fresh_copy() -> None:
    """A search answered from the raw cache carries records as they were when it was
    kept: a fresh copy the directory read since stays, with its own `asOf`."""
    clock = Clock()
    reference = ReferenceCache(
        fresh_s=300, stale_s=86_400, max_entries=100, max_bytes=1 << 20, clock=clock
    )
    kept = reference.keep("EHR", "Practitioner", "pr1", "Dr. Newer")
    clock.now += dt.timedelta(seconds=60)
    directory = RequestDirectory(no_reads, reference)
    included = {
        "resourceType": "Bundle",
        "entry": [
            {
                "search": {"mode": "include"},
                "resource": {
                    "resourceType": "Practitioner",
                    "id": "pr1",
                    "name": [{"text": "Dr. Older"}],
                },
            }
        ],
    }
    directory.prime_included(included)
    assert reference.fresh("EHR", "Practitioner", "pr1") == kept
