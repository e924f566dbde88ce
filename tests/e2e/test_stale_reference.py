"""Reference data may be stale, personal data never (issue 14), end to end on a moved clock.

kari's home screen shows her appointments (all in the EHR: Trondheim is on the shared
EHR) with their practitioner and location. Here the EHR leaves out the `_include`d
practitioners and locations (as an EHR that ignores `_include` does), so the gateway
reads them by id from the EHR's directory, and the directory, or a kind of record, or the
whole EHR, can be made to fail. Every cache runs on the test's clock: the per-process
cache tier (the subject and response caches) is built on it too.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import wiring as services_module
from gateway.app import create_app
from gateway.cache import LocalTier
from gateway.persisted import OPERATIONS_DIR
from mocks.app import MockUpstreams
from mocks.control import Faults
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import NOON, Harness, gateway_settings

HOME = (
    (OPERATIONS_DIR / "home.graphql")
    .read_text(encoding="utf-8")
    .replace("practitioner { id name }", "practitioner { id name asOf stale }")
    .replace("location { id name address { street city } }", "location { id name asOf stale }")
)
EHR = "/ehr/fhir/R4"
DIRECTORY = frozenset({"Practitioner", "Location"})
FRESH_S, STALE_S = 300, 600


def _kind(url: str) -> str:
    """The resource type a relative FHIR url is about."""
    return url.split("?", 1)[0].split("/", 1)[0]


@dataclass
class EhrWithoutIncludes:
    """Around the mock upstreams: the EHR's searches without included practitioners and
    locations, and its answers for the resource types in `failing` a 503 (per entry in a
    batch, as a FHIR server whose directory backend is down answers)."""

    app: ASGIApp
    failing: set[str] = field(default_factory=set)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(EHR):
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        rest = scope["path"][len(EHR) :].strip("/")
        if rest and _kind(rest) in self.failing:
            await _answer(send, 503, orjson.dumps(_outcome()), b"application/fhir+json")
            return
        start: dict[str, Any] = {}
        answer = bytearray()

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                answer.extend(message.get("body", b""))

        await self.app(scope, replay, capture)
        out = bytes(answer)
        if start["status"] == 200:
            data = orjson.loads(out)
            if data.get("type") == "batch-response":
                urls = [e["request"]["url"] for e in orjson.loads(body)["entry"]]
                data["entry"] = [
                    self._entry(u, e) for u, e in zip(urls, data["entry"], strict=True)
                ]
            else:
                _strip(data)
            out = orjson.dumps(data)
        headers = dict(start["headers"])
        await _answer(send, start["status"], out, headers.get(b"content-type", b""))

    def _entry(self, url: str, entry: dict[str, Any]) -> dict[str, Any]:
        if _kind(url) in self.failing:
            return {"response": {"status": "503 Service Unavailable"}, "resource": _outcome()}
        _strip(entry.get("resource") or {})
        return entry


def _outcome() -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "transient"}],
    }


def _strip(resource: dict[str, Any]) -> None:
    """A searchset without its included practitioners and locations."""
    if resource.get("resourceType") == "Bundle" and resource.get("type") == "searchset":
        resource["entry"] = [
            e
            for e in resource.get("entry", [])
            if (e.get("search") or {}).get("mode") != "include"
            or e["resource"]["resourceType"] not in DIRECTORY
        ]


async def _answer(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@dataclass
class World:
    harness: Harness
    ehr: EhrWithoutIncludes
    now: list[dt.datetime]

    def at(self, seconds: float) -> None:
        self.now[0] = NOON + dt.timedelta(seconds=seconds)

    async def home(self) -> dict[str, Any]:
        response = await self.harness.query("kari", HOME)
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
async def world(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    now = [NOON]
    # the process's cache tier on the test's clock: personal entries expire as it moves
    on_clock = functools.partial(LocalTier, clock=lambda: now[0].timestamp())
    monkeypatch.setattr(services_module, "LocalTier", on_clock)
    mocks = MockUpstreams(size=200, today=REFERENCE_DAY, clock=lambda: NOON)
    ehr = EhrWithoutIncludes(mocks.asgi())
    settings = gateway_settings(mocks, reference_fresh_s=FRESH_S, reference_stale_s=STALE_S)
    app = create_app(settings, transport=httpx.ASGITransport(app=ehr), clock=lambda: now[0])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        yield World(Harness(mocks, client, app.state.services), ehr, now)
        await app.state.services.aclose()


def appointments(body: dict[str, Any]) -> list[dict[str, Any]]:
    person = body["data"]["viewer"]["person"]
    return [e["node"] for e in person["appointments"]["edges"]]


def directory_entries(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every practitioner and location shown."""
    return [n[k] for n in appointments(body) for k in ("practitioner", "location")]


async def test_while_the_directory_fails_an_older_copy_is_served_marked_stale(
    world: World,
) -> None:
    first = await world.home()
    assert "errors" not in first, first.get("errors")
    shown = directory_entries(first)
    assert shown
    assert all(e["stale"] is False and e["asOf"] == NOON.isoformat() for e in shown)
    assert {n["source"]["kind"] for n in appointments(first)} == {"EHR"}  # all read by id

    world.at(FRESH_S + 60)  # past the fresh lifetime (and every personal cache's)
    world.ehr.failing = set(DIRECTORY)
    world.harness.mocks.reset_counters()
    stale = await world.home()
    assert "errors" not in stale, stale.get("errors")  # the data is there, and labelled
    assert world.harness.mocks.counts()["EHR"] >= 2  # asked again: nothing personal replayed
    assert [n["id"] for n in appointments(stale)] == [n["id"] for n in appointments(first)]
    for before, after in zip(shown, directory_entries(stale), strict=True):
        assert after == {**before, "stale": True}  # the copy fetched at noon
        assert after["asOf"] == NOON.isoformat()

    world.at(STALE_S)  # past the stale bound: the error, as without a cache
    past = await world.home()
    for node in appointments(past):
        assert node["practitioner"] is None
        assert node["location"] is None
    paths = {tuple(e["path"][-1:]) for e in past["errors"]}
    assert paths == {("practitioner",), ("location",)}
    assert {e["extensions"]["code"] for e in past["errors"]} == {"UPSTREAM_UNAVAILABLE"}

    world.ehr.failing = set()  # the directory is back: fresh copies replace the old ones
    world.at(STALE_S + 60)
    back = await world.home()
    assert "errors" not in back, back.get("errors")
    assert all(
        e["stale"] is False and e["asOf"] == world.now[0].isoformat()
        for e in directory_entries(back)
    )


async def test_personal_data_is_never_served_past_its_lifetime(world: World) -> None:
    first = await world.home()
    assert "errors" not in first
    person = first["data"]["viewer"]["person"]
    assert person["labResults"]

    # The lab results' upstream reads fail, and so does the directory, past every personal
    # cache's lifetime: the results kept at noon are not served, the directory's are.
    world.at(FRESH_S + 60)
    world.ehr.failing = {"Observation", *DIRECTORY}
    body = await world.home()
    assert body["data"]["viewer"]["person"]["labResults"] is None
    assert [tuple(e["path"]) for e in body["errors"]] == [("viewer", "person", "labResults")]
    assert all(e["stale"] is True for e in directory_entries(body))
    assert appointments(body)  # the appointments' own read did not fail

    # The whole EHR down, a minute on (the appointments read just now have expired too):
    # nothing personal from it is served from any cache, none of what the earlier answers
    # showed appears; the national and municipal fields still are.
    world.at(FRESH_S + 120)
    world.ehr.failing = set()
    world.harness.mocks.ehr.faults = Faults(error_rate=1.0)
    down = await world.home()
    person = down["data"]["viewer"]["person"]
    assert person["appointments"] is None
    assert person["labResults"] is None
    assert person["unreadMessageCount"] is None
    assert person["vaccinations"]
    assert {e["extensions"]["source"] for e in down["errors"]} == {"EHR"}
    shown = orjson.dumps(down).decode()
    for node in appointments(first):
        assert node["id"] not in shown
    for result in first["data"]["viewer"]["person"]["labResults"]:
        assert result["id"] not in shown


async def test_within_its_lifetime_a_personal_answer_is_the_one_kept(world: World) -> None:
    """The other side of the bound: within the caches' lifetime nothing is asked again,
    so the failure cannot show (and the answer kept says stale: false, as it was)."""
    first = await world.home()
    world.at(10)
    world.ehr.failing = {"Observation", *DIRECTORY}
    world.harness.mocks.reset_counters()
    again = await world.home()
    assert again == first
    assert world.harness.mocks.counts()["EHR"] == 0
