"""The raw upstream cache: named reads answered across requests while their subjects'
tokens hold, everything else passed through."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from gateway.cache import Cache, LocalTier, Sealer
from sources.ehr import NIN_SYSTEM, EhrClient
from sources.national import NationalClient
from sources.subject_cache import About, Dispatch, RequestCache, SubjectCache
from sources.upstream import Upstream
from tests.sources.test_ehr_care_records import searchset

KARI = "13097248022"
OLA = "01014512345"


def cache() -> tuple[Cache, SubjectCache]:
    tiers = Cache(Sealer(b"a test secret that is long enough to derive keys"), LocalTier(10**6, 60))
    return tiers, SubjectCache(tiers, ttl_s=60)


class Counting:
    """A dispatch that answers `key -> {"asked": key, "n": call count}` and counts calls."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    async def __call__(self, keys: Sequence[str]) -> list[Any]:
        self.asked.append(list(keys))
        return [{"asked": k, "n": len(self.asked)} for k in keys]


def about(key: str) -> About | None:
    """`kari:...` keys are about kari, `ola:...` about ola, anything else about no one."""
    who, _, _ = key.partition(":")
    subject = {"kari": KARI, "ola": OLA}.get(who)
    return None if subject is None else About(key, (subject,))


def requests(subjects: SubjectCache, source: str, dispatch: Dispatch[str]) -> Dispatch[str]:
    """`dispatch` as successive requests use it: each call one request, flushed after."""

    async def one_request(keys: Sequence[str]) -> Sequence[Any]:
        request = subjects.for_request()
        answers = await request.through(source, about, dispatch)(keys)
        await request.flush()
        return answers

    return one_request


async def test_a_named_read_is_answered_from_the_cache_the_next_time() -> None:
    _, subjects = cache()
    upstream = Counting()
    fetch = requests(subjects, "T", upstream)
    first = await fetch(["kari:a", "nobody:b"])
    again = await fetch(["kari:a", "nobody:b"])
    assert again[0] == first[0]  # the same answer, as first given
    assert again[1] == {"asked": "nobody:b", "n": 2}  # not named: asked every time
    assert upstream.asked == [["kari:a", "nobody:b"], ["nobody:b"]]
    assert (subjects.hits, subjects.misses) == (1, 3)


async def test_a_change_to_a_subject_ends_only_that_subjects_entries() -> None:
    tiers, subjects = cache()
    upstream = Counting()
    fetch = requests(subjects, "T", upstream)
    await fetch(["kari:a", "ola:a"])
    await tiers.bump([KARI])
    await fetch(["kari:a", "ola:a"])
    assert upstream.asked == [["kari:a", "ola:a"], ["kari:a"]]


async def test_a_request_keeps_what_it_read_only_once_its_answer_has_left() -> None:
    _, subjects = cache()
    upstream = Counting()
    request = subjects.for_request()
    await request.through("T", about, upstream)(["kari:a"])
    await requests(subjects, "T", upstream)(["kari:a"])  # the first has not flushed yet
    await request.flush()
    await requests(subjects, "T", upstream)(["kari:a"])
    assert len(upstream.asked) == 2


async def test_sources_do_not_share_entries() -> None:
    _, subjects = cache()
    upstream = Counting()
    await requests(subjects, "EHR", upstream)(["kari:a"])
    await requests(subjects, "NATIONAL", upstream)(["kari:a"])
    assert len(upstream.asked) == 2


async def test_a_change_while_the_read_is_in_flight_is_never_hidden() -> None:
    tiers, subjects = cache()
    release = asyncio.Event()
    calls = 0

    async def slow(keys: Sequence[str]) -> list[Any]:
        nonlocal calls
        calls += 1
        await release.wait()
        return [{"v": calls} for _ in keys]

    fetch = requests(subjects, "T", slow)
    reading = asyncio.ensure_future(fetch(["kari:a"]))
    await asyncio.sleep(0)
    await tiers.bump([KARI])  # a write landed while the upstream was answering
    release.set()
    assert await reading == [{"v": 1}]
    assert await fetch(["kari:a"]) == [{"v": 2}]  # what the first read kept is stale


async def test_errors_and_empty_answers_are_not_kept() -> None:
    _, subjects = cache()
    answers: list[Any] = [ValueError("upstream said no"), None]
    asked: list[Sequence[str]] = []

    async def dispatch(keys: Sequence[str]) -> list[Any]:
        asked.append(keys)
        return [answers.pop(0)]

    fetch = requests(subjects, "T", dispatch)
    assert isinstance((await fetch(["kari:a"]))[0], ValueError)
    assert (await fetch(["kari:a"])) == [None]
    answers.append({"v": 1})
    assert (await fetch(["kari:a"])) == [{"v": 1}]
    assert len(asked) == 3


async def test_a_failed_dispatch_fails_its_keys_and_not_the_ones_found() -> None:
    _, subjects = cache()
    await requests(subjects, "T", Counting())(["kari:a"])

    async def down(keys: Sequence[str]) -> list[Any]:
        raise ConnectionError("down")

    found, failed = await requests(subjects, "T", down)(["kari:a", "ola:a"])
    assert found == {"asked": "kari:a", "n": 1}
    assert isinstance(failed, ConnectionError)


async def test_without_trustworthy_tokens_everything_is_asked() -> None:
    tiers, subjects = cache()
    upstream = Counting()
    fetch = requests(subjects, "T", upstream)
    await fetch(["kari:a"])

    async def unknown(subjects: Sequence[str]) -> None:
        return None  # as when the shared tier cannot say what was invalidated

    tiers.generations = unknown  # type: ignore[method-assign]
    await fetch(["kari:a"])
    assert len(upstream.asked) == 2


# --- the EHR client's reads ---------------------------------------------------------


def appointment(id_: str, start: str) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "id": id_,
        "status": "booked",
        "start": start,
        "participant": [{"actor": {"reference": "Patient/e1"}, "status": "accepted"}],
    }


PATIENT = {
    "resourceType": "Patient",
    "id": "e1",
    "identifier": [{"system": NIN_SYSTEM, "value": KARI}],
}


def ehr(handler: Any, subjects: RequestCache | None) -> EhrClient:
    transport = httpx.MockTransport(handler)
    return EhrClient(Upstream("EHR", "http://ehr.test", timeout_s=1, transport=transport), subjects)


async def test_the_ehr_caches_searches_of_a_patient_it_resolved_and_nothing_else() -> None:
    _, subjects = cache()
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if request.url.path.endswith("Patient/_search"):
            return httpx.Response(200, json=searchset(PATIENT))
        if request.url.path.endswith("Communication/_search"):
            return httpx.Response(200, json=searchset())
        return httpx.Response(200, json={**PATIENT, "resourceType": "Observation", "id": "o1"})

    for _ in range(2):  # two requests, each with its own client
        request = subjects.for_request()
        client = ehr(handler, request)
        patient = await client.patient_id(KARI)
        assert patient == "e1"
        await client.messages.of(patient)
        await client.read("Observation", "o1")  # a read by id: about no one it can tell
        await request.flush()
    assert asked == [
        "/Patient/_search",
        "/Communication/_search",
        "/Observation/o1",
        "/Observation/o1",
    ]


@pytest.mark.parametrize("upcoming", [True, False])
async def test_appointments_are_asked_to_the_minute_and_cut_at_now(upcoming: bool) -> None:
    now = dt.datetime(2026, 11, 23, 12, 0, 30, tzinfo=dt.UTC)
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.extend(parse_qs(request.content.decode())["date"])
        early, late = "2026-11-23T12:00:10+00:00", "2026-11-23T12:00:40+00:00"
        # as the EHR would answer the minute asked for: both fall inside it
        return httpx.Response(200, json=searchset(appointment("a", early), appointment("b", late)))

    found = await ehr(handler, None).appointments.of("e1", upcoming=upcoming, now=now)
    if upcoming:
        assert asked == ["ge2026-11-23T12:00:00+00:00"]
        assert [a.id for a in found] == ["b"]
    else:
        assert asked == ["lt2026-11-23T12:01:00+00:00"]
        assert [a.id for a in found] == ["a"]


def _national_over(handler: Any) -> Callable[[RequestCache | None], NationalClient]:
    def national(request: RequestCache | None) -> NationalClient:
        transport = httpx.MockTransport(handler)
        upstream = Upstream("NATIONAL", "http://nat.test", timeout_s=1, transport=transport)
        return NationalClient(upstream, request)

    return national


async def test_a_gp_listing_is_kept_per_person_and_a_failure_fails_only_the_others() -> None:
    from sources.errors import UpstreamUnavailable

    _, subjects = cache()
    down = False
    asked: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if down:
            return httpx.Response(503)
        nins = json.loads(request.content)["nins"]
        asked.append(nins)
        gps = [{"nin": n, "gp": {"name": "Dr. X"}} for n in nins]
        return httpx.Response(200, json={"gps": gps})

    national = _national_over(handler)
    first = subjects.for_request()
    assert (await national(first).gps.load(KARI)) is not None
    await first.flush()
    down = True
    kari, ola = await asyncio.gather(
        national(subjects.for_request()).gps.load(KARI),
        national(subjects.for_request()).gps.load(OLA),
        return_exceptions=True,
    )
    assert not isinstance(kari, BaseException)
    assert kari is not None
    assert kari.name == "Dr. X"
    assert isinstance(ola, UpstreamUnavailable)
    assert asked == [[KARI]]


async def test_registry_entries_and_powers_are_read_fresh_by_every_request() -> None:
    """What an access basis rests on is never taken from the cache (sources/registry_reads)."""
    _, subjects = cache()
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if request.url.path.endswith("/persons/_search"):
            nins = json.loads(request.content)["nins"]
            persons = [{"nin": n, "birthDate": "1981-09-13"} for n in nins]
            return httpx.Response(200, json={"persons": persons})
        return httpx.Response(200, json={"powersOfAttorney": []})

    national = _national_over(handler)
    for _ in range(2):
        request = subjects.for_request()
        client = national(request)
        assert (await client.persons.load(KARI)) is not None
        assert await client.powers_held_by(KARI) == []
        assert client.registry_reads() is None  # nothing rested on them
        client.rests_on([KARI])
        reads = client.registry_reads()
        assert reads is not None
        assert len(reads.keys) == 2
        await request.flush()
    assert sorted(asked) == sorted(["/persons/_search", "/powers-of-attorney/_search"] * 2)


class Gate:
    """A dispatch that holds its answers until released, counting what it was asked."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []
        self.release = asyncio.Event()

    async def __call__(self, keys: Sequence[str]) -> list[Any]:
        self.asked.append(list(keys))
        await self.release.wait()
        return [{"asked": k} for k in keys]


async def test_concurrent_requests_ask_the_upstream_once_for_the_same_read() -> None:
    _, subjects = cache()
    gate = Gate()
    first = asyncio.ensure_future(requests(subjects, "T", gate)(["kari:a", "ola:a"]))
    await asyncio.sleep(0)
    second = asyncio.ensure_future(requests(subjects, "T", gate)(["kari:a", "nobody:b"]))
    await asyncio.sleep(0)
    gate.release.set()
    assert await first == [{"asked": "kari:a"}, {"asked": "ola:a"}]
    assert await second == [{"asked": "kari:a"}, {"asked": "nobody:b"}]
    assert gate.asked == [["kari:a", "ola:a"], ["nobody:b"]]  # kari:a went out once
    assert subjects.in_flight == {}


async def test_a_read_in_flight_before_a_change_is_not_shared_after_it() -> None:
    tiers, subjects = cache()
    gate = Gate()
    first = asyncio.ensure_future(requests(subjects, "T", gate)(["kari:a"]))
    await asyncio.sleep(0)
    await tiers.bump([KARI])
    second = asyncio.ensure_future(requests(subjects, "T", gate)(["kari:a"]))
    await asyncio.sleep(0)
    gate.release.set()
    await asyncio.gather(first, second)
    assert gate.asked == [["kari:a"], ["kari:a"]]


async def test_a_cancelled_request_leaves_its_waiters_to_ask_for_themselves() -> None:
    _, subjects = cache()
    gate = Gate()
    first = asyncio.ensure_future(requests(subjects, "T", gate)(["kari:a"]))
    await asyncio.sleep(0)
    second = asyncio.ensure_future(requests(subjects, "T", gate)(["kari:a"]))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    gate.release.set()
    assert await second == [{"asked": "kari:a"}]
    assert gate.asked == [["kari:a"], ["kari:a"]]
    assert first.cancelled()


async def test_a_shared_failure_fails_every_request_that_waited_for_it() -> None:
    _, subjects = cache()
    release = asyncio.Event()
    asked: list[Sequence[str]] = []

    async def failing(keys: Sequence[str]) -> list[Any]:
        asked.append(keys)
        await release.wait()
        raise ConnectionError("down")

    first = asyncio.ensure_future(requests(subjects, "T", failing)(["kari:a"]))
    await asyncio.sleep(0)
    second = asyncio.ensure_future(requests(subjects, "T", failing)(["kari:a"]))
    await asyncio.sleep(0)
    release.set()
    [one], [two] = await asyncio.gather(first, second)
    assert isinstance(one, ConnectionError)
    assert isinstance(two, ConnectionError)
    assert len(asked) == 1
