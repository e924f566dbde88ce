"""GraphQL over HTTP: methods, content types, status codes, probes and languages."""

from __future__ import annotations

import httpx
import pytest

from gateway.app import create_app
from tests.e2e.conftest import NOON, Harness, gateway_settings

STATUS = "{ viewer { person { appointments(first: 1) { edges { node { status statusText } } } } } }"


async def test_get_runs_a_query(harness: Harness) -> None:
    response = await harness.client.get(
        "/graphql",
        params={"query": "{ viewer { person { name } } }"},
        headers={"authorization": f"Bearer {harness.token('kari')}"},
    )
    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["person"]["name"] == "Kari Nordmann"


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        pytest.param(
            "text/plain",
            b'{"query": "{ viewer { person { id } } }"}',
            "must be JSON",
            id="form-content-type",
        ),
        pytest.param("application/json", b"{nope", "not valid JSON", id="malformed-json"),
        pytest.param("application/json", b"[1]", "JSON object", id="not-an-object"),
        pytest.param("application/json", b'{"query": 3}', "`query`", id="query-not-string"),
        pytest.param(
            "application/json",
            b'{"query": "{ a }", "variables": [1]}',
            "`variables`",
            id="variables-not-object",
        ),
    ],
)
async def test_bad_http_requests_are_400_with_a_clear_message(
    harness: Harness, content_type: str, body: bytes, message: str
) -> None:
    response = await harness.client.post(
        "/graphql",
        content=body,
        headers={"content-type": content_type, "authorization": f"Bearer {harness.token('kari')}"},
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert message in error["message"]
    assert error["extensions"]["code"] == "BAD_REQUEST"


async def test_syntax_and_validation_errors_are_400(harness: Harness) -> None:
    for query, code in (
        ("{ viewer { ", "GRAPHQL_PARSE_FAILED"),
        ("{ viewer { nosuchfield } }", "GRAPHQL_VALIDATION_FAILED"),
    ):
        response = await harness.query("kari", query)
        assert response.status_code == 400
        body = response.json()
        assert "data" not in body
        assert body["errors"][0]["extensions"]["code"] == code


async def test_request_id_is_echoed_or_made(harness: Harness) -> None:
    response = await harness.query(
        "kari", "{ viewer { person { id } } }", headers={"x-request-id": "abcdef123456"}
    )
    assert response.headers["x-request-id"] == "abcdef123456"
    response = await harness.query(
        "kari", "{ viewer { person { id } } }", headers={"x-request-id": "bad id with spaces"}
    )
    assert response.headers["x-request-id"] != "bad id with spaces"
    assert len(response.headers["x-request-id"]) == 32


@pytest.mark.parametrize(
    ("header", "text"), [("en", "Booked"), ("nb-NO", "Bestilt"), (None, "Bestilt")]
)
async def test_display_texts_follow_accept_language(
    harness: Harness, header: str | None, text: str
) -> None:
    headers = {"accept-language": header} if header else {}
    body = (await harness.query("kari", STATUS, headers=headers)).json()
    node = body["data"]["viewer"]["person"]["appointments"]["edges"][0]["node"]
    assert node["status"] == "BOOKED"
    assert node["statusText"] == text


async def test_health_and_readiness(harness: Harness) -> None:
    assert (await harness.client.get("/healthz")).json() == {"status": "ok"}
    ready = await harness.client.get("/readyz")
    assert ready.status_code == 200, ready.json()
    harness.mocks.ehr.faults.error_rate = 1.0
    not_ready = await harness.client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["ehr"] == "failing"


@pytest.mark.parametrize(
    ("env", "served"), [("development", True), ("test", False), ("production", False)]
)
async def test_graphiql_only_in_development(env: str, served: bool) -> None:
    from mocks.app import MockUpstreams
    from tests.conftest import REFERENCE_DAY

    mocks = MockUpstreams(size=0, today=REFERENCE_DAY)
    settings = gateway_settings(mocks, env=env, id_secret="s" * 40)
    app = create_app(settings, transport=httpx.ASGITransport(app=mocks.asgi()), clock=lambda: NOON)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        response = await client.get("/graphql", headers={"accept": "text/html"})
    await app.state.services.aclose()
    assert ("graphiql" in response.text.lower()) == served
    if not served:
        assert response.status_code in (400, 401)
