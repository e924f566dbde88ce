"""A national-portal outage is not a lost person (issue 14).

Whichever way the national portal fails - connection refused, slower than its deadline,
an HTML 502 from a proxy, a 503 - the citizen's own view (from 16) is served from the
token alone with every other source's data, the national fields and `representations`
as errors naming NATIONAL; nothing about anyone else is served without fresh registry
facts (cached answers included); and every error points at a field in the answer.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from httpx_aiohttp import AiohttpTransport

from authz.audit import AuditEntry, key_subject
from gateway.app import create_app
from gateway.persisted import OPERATIONS_DIR
from mocks.app import MockUpstreams
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import MOCK_ORIGIN, NOON, Harness, gateway_settings
from tests.e2e.test_refusals import head, key, nin

HOME = (OPERATIONS_DIR / "home.graphql").read_text(encoding="utf-8")
VIEWER = "{ viewer { person { id name basis } representations { person { id name } } } }"
CHILD = """
query($id: ID!) { person(id: $id) { name appointments(first: 20) { edges { node { id } } } } }
"""
ITEM = "query($id: ID!) { node(id: $id) { id ... on Appointment { service start } } }"
PERSON = "query($id: ID!) { person(id: $id) { name } }"
BOTH = """
query($child: ID!, $stranger: ID!) {
  child: person(id: $child) { name } stranger: person(id: $stranger) { name }
}
"""

MODES = ["refused", "slow", "html-502", "503"]
CODE = {  # what each way of failing is called (a circuit opened by it is the same outage)
    "refused": "UPSTREAM_UNAVAILABLE",
    "slow": "UPSTREAM_TIMEOUT",
    "html-502": "UPSTREAM_UNAVAILABLE",
    "503": "UPSTREAM_UNAVAILABLE",
}
DEADLINE_S = 1.0  # the national portal's deadline in the "slow" mode (healthy: milliseconds)
PROXY_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


class _Switch(httpx.AsyncBaseTransport):
    """The mocks in process; once `refuse` is called, national-portal requests go over the
    real network to a loopback port where nothing listens (a refused connection)."""

    def __init__(self, mocks: MockUpstreams) -> None:
        self._mocks = httpx.ASGITransport(app=mocks.asgi())
        self._network: AiohttpTransport | None = None
        self._closed = socket.socket()
        self._closed.bind(("127.0.0.1", 0))  # bound, never listening: connections refused

    def refuse(self) -> None:
        self._network = AiohttpTransport(trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._network is not None and request.url.path.startswith("/national/"):
            port = self._closed.getsockname()[1]
            request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=port)
            return await self._network.handle_async_request(request)
        return await self._mocks.handle_async_request(request)

    async def aclose(self) -> None:
        if self._network is not None:
            await self._network.aclose()
        self._closed.close()


@dataclass
class Outage:
    """A gateway whose national portal works until `begin`, then fails as `mode` says."""

    harness: Harness
    mode: str
    switch: _Switch

    def begin(self) -> None:
        faults = self.harness.mocks.national.faults
        if self.mode == "refused":
            self.switch.refuse()
        elif self.mode == "slow":
            faults.latency_ms = DEADLINE_S * 5_000
        else:
            faults.error_rate = 1.0
            if self.mode == "html-502":
                faults.error_status = 502
                faults.error_body, faults.error_content_type = PROXY_PAGE, "text/html"


@asynccontextmanager
async def gateway(mode: str) -> AsyncIterator[Outage]:
    """The default test gateway (response cache on) over fresh mocks."""
    mocks = MockUpstreams(size=200, today=REFERENCE_DAY, clock=lambda: NOON)
    switch = _Switch(mocks)
    national = {"url": f"{MOCK_ORIGIN}/national/api/v1", "timeout_s": DEADLINE_S}
    settings = gateway_settings(mocks, **({"national": national} if mode == "slow" else {}))
    app = create_app(settings, transport=switch, clock=lambda: NOON)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
        ) as client:
            yield Outage(Harness(mocks, client, app.state.services), mode, switch)
    finally:
        await app.state.services.aclose()
        await switch.aclose()


@pytest.fixture(params=MODES)
async def outage(request: pytest.FixtureRequest) -> AsyncIterator[Outage]:
    async with gateway(request.param) as found:
        yield found


def in_data(data: Any, path: list[str | int]) -> bool:
    """True when `path` names a field present in `data` (its value may be null)."""
    node = data
    for step in path[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return False
    last = path[-1]
    if isinstance(node, dict):
        return last in node
    return isinstance(node, list) and isinstance(last, int) and 0 <= last < len(node)


def national_errors(body: dict[str, Any], mode: str) -> set[tuple[str | int, ...]]:
    """The errors' paths, once every error is checked to name the national portal, with
    the mode's code (or the circuit it opened), at a field of the answer."""
    errors = body["errors"]
    for error in errors:
        assert error["extensions"]["source"] == "NATIONAL", error
        assert error["extensions"]["code"] in {CODE[mode], "UPSTREAM_CIRCUIT_OPEN"}, error
        assert in_data(body["data"], error["path"]), error["path"]
    return {tuple(e["path"]) for e in errors}


async def audited(harness: Harness, after: int) -> list[AuditEntry]:
    return [r.entry async for r in harness.app_services.audit.records() if r.seq > after]


def names(harness: Harness, *personas: str) -> list[str]:
    return [harness.mocks.population.persona(p).name for p in personas]


# -- one's own view ------------------------------------------------------------------------


async def test_the_own_view_keeps_every_other_source(outage: Outage) -> None:
    harness = outage.harness
    healthy = (await harness.query("kari", HOME)).json()
    assert "errors" not in healthy
    outage.begin()
    response = await harness.query("kari", HOME)  # the kept answer cannot be checked now
    assert response.status_code == 200
    body = response.json()
    paths = national_errors(body, outage.mode)
    assert CODE[outage.mode] in {e["extensions"]["code"] for e in body["errors"]}
    assert {
        ("viewer", "person", "name"),
        ("viewer", "person", "vaccinations"),
        ("viewer", "representations"),
    } <= paths
    viewer, was = body["data"]["viewer"], healthy["data"]["viewer"]["person"]
    assert viewer["representations"] is None
    person = viewer["person"]
    assert (person["id"], person["basis"]) == (was["id"], "SELF")
    assert person["name"] is None  # read fresh, every time
    # (e-prescriptions and vaccinations may come from the raw cache, in its lifetime; the
    # health station's vaccinations need the municipality, a registry fact: an error)
    # the health record's data is all there, as it was
    assert person["labResults"]
    assert person["labResults"] == was["labResults"]
    assert person["unreadMessageCount"] is not None
    assert "EHR" in {s["kind"] for m in person["medications"] for s in m["sources"]}
    served = {e["node"]["id"] for e in person["appointments"]["edges"]}
    assert served
    assert served <= {e["node"]["id"] for e in was["appointments"]["edges"]}
    for text in (*names(harness, "emil", "ida", "ola"), nin(harness, "kari")):
        assert text not in response.text


async def test_the_own_view_from_sixteen_rests_on_the_token_alone(harness: Harness) -> None:
    """No registry read at all: an outage costs an adult nothing they did not ask for."""
    harness.mocks.national.faults.error_rate = 1.0
    own = "{ viewer { person { id basis labResults(first: 3) { id } } } }"
    body = (await harness.query("kari", own)).json()
    assert "errors" not in body, body["errors"]
    person = body["data"]["viewer"]["person"]
    assert person["basis"] == "SELF"
    assert person["labResults"]
    again = await harness.query("kari", PERSON.replace("name", "basis"), {"id": person["id"]})
    assert again.json() == {"data": {"person": {"basis": "SELF"}}}
    assert harness.mocks.national.total == 0


async def test_a_youth_gets_nothing_while_the_consent_cannot_be_read(outage: Outage) -> None:
    """13-15: the own view rests on a registry fact (the parents' consent); unread, no
    basis is assumed. A kept answer from before is not served either."""
    harness = outage.harness
    healthy = (await harness.query("ida", HOME)).json()
    assert healthy["data"]["viewer"]["person"]["basis"] == "YOUTH"
    seq = await head(harness)
    outage.begin()
    response = await harness.query("ida", HOME)
    body = response.json()
    assert body["data"] == {"viewer": {"person": None, "representations": None}}
    assert national_errors(body, outage.mode) == {
        ("viewer", "person"),
        ("viewer", "representations"),
    }
    assert "Ida" not in response.text
    entries = await audited(harness, seq)
    assert [(e.subject, e.outcome, e.reason) for e in entries] == [
        (nin(harness, "ida"), "denied", "REGISTRY_UNAVAILABLE")
    ]


# -- anyone else ---------------------------------------------------------------------------


async def test_no_one_else_is_reached_without_fresh_registry_facts(outage: Outage) -> None:
    """A child's person and item, each answered and kept by the response cache while the
    registry worked, are not served once it cannot confirm the relation: null and the
    national portal's error (the same for a stranger's id: nothing to tell them apart),
    and each attempt on the record."""
    harness = outage.harness
    viewer = (await harness.query("kari", VIEWER)).json()["data"]["viewer"]
    emil = next(
        r["person"]["id"] for r in viewer["representations"] if "Emil" in r["person"]["name"]
    )
    child = (await harness.query("kari", CHILD, {"id": emil})).json()
    item = child["data"]["person"]["appointments"]["edges"][0]["node"]["id"]
    shown = (await harness.query("kari", ITEM, {"id": item})).json()["data"]["node"]
    harness.mocks.reset_counters()
    for query, variables in ((CHILD, {"id": emil}), (ITEM, {"id": item})):  # kept: only
        assert "errors" not in (await harness.query("kari", query, variables)).json()
    assert {n: c for n, c in harness.mocks.counts().items() if c} == {"NATIONAL": 2}  # checks
    stranger = harness.app_services.ids.person_id(nin(harness, "per"))
    seq = await head(harness)
    outage.begin()

    for query, variables, field in ((CHILD, {"id": emil}, "person"), (ITEM, {"id": item}, "node")):
        response = await harness.query("kari", query, variables)
        body = response.json()
        assert body["data"] == {field: None}
        assert national_errors(body, outage.mode) == {(field,)}
        for text in (*names(harness, "emil"), shown["service"], shown["start"]):
            assert text not in response.text
    # a child's id and a stranger's, asked together: the same answer, nothing told apart
    both = (await harness.query("kari", BOTH, {"child": emil, "stranger": stranger})).json()
    assert both["data"] == {"child": None, "stranger": None}
    assert national_errors(both, outage.mode) == {("child",), ("stranger",)}
    child_error, stranger_error = sorted(both["errors"], key=lambda e: e["path"])
    for field in ("message", "extensions"):
        assert child_error[field] == stranger_error[field]

    entries = await audited(harness, seq)
    assert not [e for e in entries if e.outcome == "success"]
    assert nin(harness, "emil") not in {e.subject for e in entries}
    assert {(e.subject, e.basis, e.outcome, e.reason) for e in entries} == {
        (key_subject(key(harness, p)), "NONE", "denied", "REGISTRY_UNAVAILABLE")
        for p in ("emil", "per")
    }


async def test_the_mock_answers_like_a_proxys_error_page() -> None:
    """The "html-502" mode is what it says (the fault's body and type are as set)."""
    async with gateway("html-502") as outage:
        outage.begin()
        mocks = httpx.ASGITransport(app=outage.harness.mocks.asgi())
        async with httpx.AsyncClient(transport=mocks, base_url=MOCK_ORIGIN) as client:
            response = await client.post("/national/api/v1/persons/_search", json={"nins": []})
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert response.content == PROXY_PAGE
