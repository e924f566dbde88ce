"""Production mode, safelisted operations, rate limits and load shedding, end to end."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.persisted import OPERATIONS_DIR, document_hash
from gateway.production import schema_for
from gateway.schema import print_sdl
from mocks.app import MockUpstreams
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import NOON, Harness, gateway_settings
from tests.e2e.test_documents import nodes

PRODUCTION = {"env": "production", "id_secret": "p" * 40}
NAME = "{ viewer { person { name } } }"
HOME = (OPERATIONS_DIR / "home.graphql").read_text(encoding="utf-8")
APPOINTMENTS = "{ viewer { person { appointments(first: 1) { totalCount } } } }"


@contextlib.asynccontextmanager
async def gateway(**overrides: Any) -> AsyncIterator[Harness]:
    """A fresh gateway with `overrides` on the test settings, against fresh mocks."""
    mocks = MockUpstreams(size=0, today=REFERENCE_DAY)
    app = create_app(
        gateway_settings(mocks, **overrides),
        transport=httpx.ASGITransport(app=mocks.asgi()),
        clock=lambda: NOON,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        yield Harness(mocks, client, app.state.services)
    await app.state.services.aclose()


def _error(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["errors"][0]
    return error


def test_production_schema_is_the_same_graph() -> None:
    settings = gateway_settings(MockUpstreams(size=0, today=REFERENCE_DAY), **PRODUCTION)
    assert schema_for(settings).as_str() + "\n" == print_sdl()


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("{ __schema { types { name } } }", id="schema"),
        pytest.param('{ __type(name: "Person") { fields { name } } }', id="type"),
        pytest.param(
            "query { ...F } fragment F on Query { __schema { queryType { name } } }",
            id="in-a-fragment",
        ),
    ],
)
async def test_production_refuses_introspection(query: str) -> None:
    async with gateway(**PRODUCTION) as harness:
        response = await harness.query("kari", query)
    assert response.status_code == 400
    error = _error(response)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "introspection has been disabled" in error["message"]
    assert "data" not in response.json()


async def test_production_keeps_typename_and_queries() -> None:
    async with gateway(**PRODUCTION) as harness:
        response = await harness.query("kari", "{ __typename viewer { person { name } } }")
    assert response.status_code == 200
    assert response.json()["data"]["__typename"] == "Query"


async def test_introspection_outside_production(harness: Harness) -> None:
    response = await harness.query("kari", "{ __schema { queryType { name } } }")
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


@pytest.mark.parametrize(
    ("overrides", "suggests"), [pytest.param(PRODUCTION, False, id="production"), ({}, True)]
)
async def test_field_suggestions_only_outside_production(
    overrides: dict[str, Any], suggests: bool
) -> None:
    async with gateway(**overrides) as harness:
        response = await harness.query("kari", "{ viewer { persn { name } } }")
        enum = await harness.query(
            "kari",
            "query($f: AppointmentFilter) { viewer { person { appointments(filter: $f) "
            "{ totalCount } } } }",
            {"f": {"period": "UPCOMNG"}},
        )
    assert response.status_code == 400
    message = _error(response)["message"]
    if suggests:
        assert message.startswith("Cannot query field 'persn' on type 'Viewer'.")
    else:  # production names nothing of the schema at all (see below)
        assert "persn" not in message
        assert "Viewer" not in message
    assert ("Did you mean" in message) == suggests
    assert enum.status_code == 400
    assert ("Did you mean" in _error(enum)["message"]) == suggests


async def test_production_masks_unexpected_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    async with gateway(**PRODUCTION) as harness:

        async def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("INSERT INTO audit_records failed at postgres://db.internal:5432")

        monkeypatch.setattr(harness.app_services.audit, "append", broken)
        response = await harness.query("kari", NAME, headers={"x-request-id": "support-case-42"})
    assert response.status_code == 500
    error = _error(response)
    assert error["extensions"] == {"code": "INTERNAL", "requestId": "support-case-42"}
    assert "support-case-42" in error["message"]
    for leak in ("INSERT", "postgres", "db.internal", "Traceback", "RuntimeError", "audit"):
        assert leak not in response.text


async def test_production_upstream_errors_name_no_urls() -> None:
    async with gateway(**PRODUCTION) as harness:
        harness.mocks.ehr.faults.error_rate = 1.0
        response = await harness.query("kari", HOME)
    assert response.status_code == 200
    assert response.json()["errors"]
    for leak in ("mocks.test", "http://", "Traceback", "httpx"):
        assert leak not in response.text


async def test_required_persisted_operations_safelist_by_hash() -> None:
    async with gateway(require_persisted=True) as harness:
        ad_hoc = await harness.query("kari", NAME)
        by_hash = await harness.client.post(
            "/graphql",
            json={"documentId": f"sha256:{document_hash(HOME)}"},
            headers={"authorization": f"Bearer {harness.token('kari')}"},
        )
        by_text = await harness.query("kari", HOME)
        by_get = await harness.client.get(
            "/graphql",
            params={"documentId": f"sha256:{document_hash(HOME)}"},
            headers={"authorization": f"Bearer {harness.token('kari')}"},
        )
    assert ad_hoc.status_code == 400
    assert _error(ad_hoc)["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
    assert "persisted operations only" in _error(ad_hoc)["message"]
    for response in (by_hash, by_text, by_get):
        assert response.status_code == 200
        assert response.json()["data"]["viewer"]["person"]["name"] == "Kari Nordmann"


async def test_rate_limit_per_principal_is_429_with_retry_after() -> None:
    async with gateway(rate_limit_per_minute_principal=3) as harness:
        statuses = [(await harness.query("kari", NAME)).status_code for _ in range(3)]
        refused = await harness.query("kari", NAME)
        other = await harness.query("ola", NAME)
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 120
    assert _error(refused)["extensions"]["code"] == "RATE_LIMITED"
    assert other.status_code == 200  # another person is counted apart


async def test_downloads_share_the_rate_limit_and_its_429() -> None:
    async with gateway(rate_limit_per_minute_principal=6) as harness:
        [document, *_] = await nodes(harness, "kari", "kari")
        headers = {"authorization": f"Bearer {harness.token('kari')}"}
        statuses = []
        for _ in range(6):
            response = await harness.client.get(document["downloadUrl"], headers=headers)
            statuses.append(response.status_code)
            if response.status_code != 200:
                break
        after = await harness.query("kari", NAME)
    assert statuses[0] == 200
    assert statuses[-1] == 429, statuses
    assert 1 <= int(response.headers["retry-after"]) <= 120
    assert _error(response)["extensions"]["code"] == "RATE_LIMITED"
    assert after.status_code == 429  # one budget for /graphql and downloads


async def test_rate_limit_per_client_spans_principals() -> None:
    partner = {"act": {"client_id": "partner-portal-x"}, "scope": "helsegraf:identity.read"}
    async with gateway(
        rate_limit_per_minute_client=100, rate_limits_by_client={"partner-portal-x": 2}
    ) as harness:
        home = {"documentId": f"sha256:{document_hash(HOME)}"}

        async def as_partner(persona: str) -> httpx.Response:
            token = harness.token(persona, **partner)
            return await harness.client.post(
                "/graphql", json=home, headers={"authorization": f"Bearer {token}"}
            )

        first, second = await as_partner("kari"), await as_partner("ola")
        third = await as_partner("emil")
        citizen = await harness.query("emil", NAME)
    assert (first.status_code, second.status_code) == (200, 200)
    assert third.status_code == 429
    assert _error(third)["extensions"]["code"] == "RATE_LIMITED"
    assert citizen.status_code == 200  # the citizen's own app is another client


async def test_overload_is_shed_at_once_with_503() -> None:
    # requests waiting on an upstream do not count against `max_in_flight` (the CPU's
    # cap), but against `max_open_requests` (their memory's)
    async with gateway(max_in_flight=2, max_open_requests=2) as harness:
        harness.mocks.ehr.faults.latency_ms = 400
        slow = [asyncio.create_task(harness.query("kari", APPOINTMENTS)) for _ in range(2)]
        for _ in range(200):  # until both hold their slot, waiting on the EHR
            if harness.app_services.in_flight.open == 2:
                break
            await asyncio.sleep(0.005)
        started = time.perf_counter()
        shed = await harness.query("ola", NAME, headers={"accept": "application/json"})
        shed_after = time.perf_counter() - started
        # refused before authenticating or parsing: a bad token and a broken body alike
        unread = await harness.client.post(
            "/graphql",
            content=b"{ not json",
            headers={"authorization": "Bearer not-a-token", "content-type": "application/json"},
        )
        held = await asyncio.gather(*slow)
        harness.mocks.ehr.faults.latency_ms = 0
        after = await harness.query("ola", NAME)
    assert shed.status_code == 503
    assert shed.headers["retry-after"] == "1"
    assert _error(shed)["extensions"]["code"] == "OVERLOADED"
    assert shed_after < 0.2  # answered at once, not queued behind the slow requests
    assert unread.status_code == 503
    assert _error(unread)["extensions"]["code"] == "OVERLOADED"
    assert [r.status_code for r in held] == [200, 200]
    assert after.status_code == 200
    assert harness.app_services.in_flight.current == 0
    assert harness.app_services.in_flight.open == 0


FILTERED = (
    "query($f: AppointmentFilter) { viewer { person { appointments(filter: $f) { totalCount } } } }"
)
# Each names some of the schema in graphql-core's own words (type, field, argument, enum).
PROBES = [
    pytest.param("{ viewer { persn { name } } }", None, "persn", id="unknown-field"),
    pytest.param(
        "{ viewer { person { appointments(frist: 1) { totalCount } } } }",
        None,
        "frist",
        id="unknown-argument",
    ),
    pytest.param(
        '{ viewer { person { appointments(first: "x") { totalCount } } } }',
        None,
        "Int",
        id="argument-of-the-wrong-type",
    ),
    pytest.param("{ viewer { person } }", None, "Person", id="missing-selection"),
    pytest.param(
        "{ viewer { ... on Appointment { id } } }", None, "Appointment", id="impossible-fragment"
    ),
    pytest.param("query($f: Nope) { __typename }", None, "Nope", id="unknown-variable-type"),
    pytest.param(FILTERED, {"f": {"period": "UPCOMNG"}}, "AppointmentPeriod", id="bad-enum"),
    pytest.param(FILTERED, {"f": {"when": "now"}}, "AppointmentFilter", id="unknown-input-field"),
    pytest.param(
        "query($n: Int!) { viewer { person { appointments(first: $n) { totalCount } } } }",
        {},
        "Int!",
        id="missing-variable",
    ),
]


def _schema_names() -> set[str]:
    schema = schema_for(gateway_settings(MockUpstreams(size=0, today=REFERENCE_DAY)))._schema
    names = set(schema.type_map)
    for named in schema.type_map.values():
        names.update(getattr(named, "fields", None) or ())
        names.update(getattr(named, "values", None) or ())
    return {name for name in names if len(name) > 3}  # "id", "name": words, not secrets


@pytest.mark.parametrize(("query", "variables", "named"), PROBES)
async def test_production_errors_name_nothing_of_the_schema(
    query: str, variables: dict[str, Any] | None, named: str
) -> None:
    async with gateway(**PRODUCTION) as harness:
        hidden = await harness.query("kari", query, variables)
    async with gateway() as harness:
        helpful = await harness.query("kari", query, variables)
    assert hidden.status_code == helpful.status_code == 400
    errors = hidden.json()["errors"]
    assert len(errors) == len(helpful.json()["errors"])
    for error, detailed in zip(errors, helpful.json()["errors"], strict=True):
        assert error["locations"] == detailed["locations"]  # still says where, not what
        assert error["extensions"] == detailed["extensions"]
        words = set(re.findall(r"[A-Za-z_]\w*", error["message"]))
        assert not words & _schema_names(), error["message"]
        assert named not in error["message"]
    # development and test keep the details
    assert any(named in detailed["message"] for detailed in helpful.json()["errors"])


async def test_production_introspection_refusal_names_no_type() -> None:
    async with gateway(**PRODUCTION) as harness:
        response = await harness.query("kari", '{ __type(name: "Person") { fields { name } } }')
    message = _error(response)["message"]
    assert "introspection has been disabled" in message
    assert not set(re.findall(r"[A-Za-z_]\w*", message)) & (_schema_names() | {"__type"})
