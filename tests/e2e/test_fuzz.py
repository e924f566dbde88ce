"""Schema-driven fuzzing of /graphql: whatever a client sends, the gateway never answers 5xx.

Valid and invalid operations come from the SDL (hypothesis-graphql, the engine behind
schemathesis' GraphQL mode); raw bodies and variables from hypothesis' JSON strategies.
Each example runs against the real app and the real mocks, in-process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from pathlib import Path
from typing import Any

import httpx
import hypothesis_graphql
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes

from gateway.app import create_app
from mocks.app import MockUpstreams
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import NOON, gateway_settings

SDL = (Path(__file__).resolve().parents[2] / "schema.graphql").read_text(encoding="utf-8")
MOCKS = MockUpstreams(size=0, today=REFERENCE_DAY)
TOKEN = MOCKS.issuer.token_for(MOCKS.population.persona("kari"))
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


class _Gateway:
    """One app on one event loop in a background thread, shared by every example
    (building the app per example would dominate the run time)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.app = create_app(
            gateway_settings(MOCKS),
            transport=httpx.ASGITransport(app=MOCKS.asgi()),
            clock=lambda: NOON,
        )
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://gateway.test"
        )

    def post(self, body: Any) -> httpx.Response:
        request = self.client.post(
            "/graphql", json=body, headers={"authorization": f"Bearer {TOKEN}"}
        )
        return asyncio.run_coroutine_threadsafe(request, self.loop).result(timeout=60)


_GATEWAY: list[_Gateway] = []


def _post(body: Any) -> httpx.Response:
    if not _GATEWAY:
        _GATEWAY.append(_Gateway())
    return _GATEWAY[0].post(body)


def _no_server_error(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    body = response.json()
    assert "data" in body or "errors" in body
    for error in body.get("errors", []):
        assert error["extensions"]["code"] != "INTERNAL", error
        assert "Traceback" not in error["message"]


# Dates as clients send them (ISO strings, some of them invalid), so inputs with dates
# are fuzzed too rather than refused by the generator.
SCALARS = {
    "Date": st.one_of(st.dates().map(lambda d: d.isoformat()), st.text(max_size=12)).map(
        nodes.String
    ),
    "DateTime": st.one_of(
        st.datetimes(timezones=st.just(dt.UTC)).map(lambda t: t.isoformat()),
        st.text(max_size=25),
    ).map(nodes.String),
}


@FUZZ
@given(query=hypothesis_graphql.from_schema(SDL, custom_scalars=SCALARS))
def test_valid_operations_never_fail_the_server(query: str) -> None:
    _no_server_error(_post({"query": query}))


@FUZZ
@given(
    query=hypothesis_graphql.from_schema(
        SDL, mode=hypothesis_graphql.Mode.NEGATIVE, custom_scalars=SCALARS
    )
)
def test_invalid_operations_are_client_errors(query: str) -> None:
    response = _post({"query": query})
    _no_server_error(response)


@FUZZ
@given(
    body=st.dictionaries(
        st.sampled_from(["query", "variables", "operationName", "extensions", "documentId"]),
        json_values,
    )
)
def test_arbitrary_request_bodies_are_client_errors(body: dict[str, Any]) -> None:
    _no_server_error(_post(body))


@FUZZ
@given(variables=st.dictionaries(st.sampled_from(["id", "first", "after", "input"]), json_values))
def test_arbitrary_variables_are_client_errors(variables: dict[str, Any]) -> None:
    query = (
        "query($id: ID!, $first: Int, $after: String) { person(id: $id) { "
        "appointments(first: $first, after: $after) { totalCount } } }"
    )
    _no_server_error(_post({"query": query, "variables": variables}))
