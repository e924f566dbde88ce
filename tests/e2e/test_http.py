"""GraphQL over HTTP: methods, content types, status codes, probes and languages."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from gateway.app import create_app
from gateway.notifications import signature
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
        assert response.status_code == 406  # neither JSON media type is acceptable


NAME = "{ viewer { person { name } } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("text/plain", id="text-plain"),
        pytest.param("application/x-www-form-urlencoded", id="form"),
        pytest.param("multipart/form-data; boundary=x", id="multipart"),
        pytest.param(None, id="missing"),
        pytest.param("application/json; charset=latin-1", id="not-utf-8"),
        pytest.param(GRAPHQL_RESPONSE, id="response-type-as-request-type"),
        pytest.param("application/graphql", id="graphql-text"),
    ],
)
async def test_post_bodies_must_be_json_or_415(harness: Harness, content_type: str | None) -> None:
    # What a cross-site form can send is refused; JSON needs a CORS preflight.
    headers = {"authorization": f"Bearer {harness.token('kari')}"}
    if content_type is not None:
        headers["content-type"] = content_type
    response = await harness.client.post(
        "/graphql", content=b'{"query": "{ viewer { person { id } } }"}', headers=headers
    )
    assert response.status_code == 415
    assert response.headers["accept-post"] == "application/json"
    error = response.json()["errors"][0]
    assert "must be JSON" in error["message"]
    assert error["extensions"]["code"] == "BAD_REQUEST"


async def test_json_with_utf8_charset_is_accepted(harness: Harness) -> None:
    response = await harness.client.post(
        "/graphql",
        content=b'{"query": "{ viewer { person { name } } }"}',
        headers={
            "content-type": "application/json; charset=UTF-8",
            "authorization": f"Bearer {harness.token('kari')}",
        },
    )
    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["person"]["name"] == "Kari Nordmann"


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        pytest.param(None, "application/json", id="no-accept-is-legacy-json"),
        pytest.param("*/*", "application/json", id="wildcard-is-json"),
        pytest.param("application/json", "application/json", id="json"),
        pytest.param(GRAPHQL_RESPONSE, GRAPHQL_RESPONSE, id="graphql-response"),
        pytest.param(
            f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE, id="preferred"
        ),
        pytest.param(f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE, id="tie"),
        pytest.param(
            f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json", id="json-higher"
        ),
        pytest.param("application/*", "application/json", id="application-wildcard"),
        pytest.param("text/html, */*;q=0.8", "application/json", id="browser"),
        pytest.param("text/html", None, id="html-only-406"),
        pytest.param("application/json;q=0, */*", None, id="json-refused-406"),
        pytest.param("application/xml", None, id="xml-406"),
    ],
)
async def test_accept_negotiates_the_response_media_type(
    harness: Harness, accept: str | None, media_type: str | None
) -> None:
    headers = {"accept": accept} if accept is not None else {}
    response = await harness.query("kari", NAME, headers=headers)
    if media_type is None:
        assert response.status_code == 406
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        return
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    assert response.json()["data"]["viewer"]["person"]["name"] == "Kari Nordmann"


@pytest.mark.parametrize(
    ("query", "status", "has_data"),
    [
        pytest.param("{ viewer { ", 400, False, id="parse-error"),
        pytest.param("{ viewer { nosuchfield } }", 400, False, id="validation-error"),
        pytest.param(
            "query($id: ID!) { person(id: $id) { name } }", 400, False, id="missing-variable"
        ),
        pytest.param('{ person(id: "UGVyc29uOm5vcGU=") { name } }', 200, True, id="field-error"),
        pytest.param(NAME, 200, True, id="success"),
    ],
)
async def test_graphql_response_status_codes(
    harness: Harness, query: str, status: int, has_data: bool
) -> None:
    response = await harness.query("kari", query, headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert ("data" in body) == has_data
    if status != 200 or query != NAME:
        assert body["errors"]


async def test_graphql_response_request_errors_and_401(harness: Harness) -> None:
    unauthenticated = await harness.query(None, NAME, headers={"accept": GRAPHQL_RESPONSE})
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert unauthenticated.headers["www-authenticate"].startswith("Bearer")
    bad = await harness.client.post(
        "/graphql",
        json={"query": 3},
        headers={"accept": GRAPHQL_RESPONSE, "authorization": f"Bearer {harness.token('kari')}"},
    )
    assert bad.status_code == 400
    assert "data" not in bad.json()


async def test_mutations_over_get_are_405(harness: Harness) -> None:
    response = await harness.client.get(
        "/graphql",
        params={"query": "mutation { __typename }"},
        headers={"authorization": f"Bearer {harness.token('kari')}"},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    error = response.json()["errors"][0]
    assert "POST" in error["message"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    # the same mutation over POST is run
    posted = await harness.query("kari", "mutation { __typename }")
    assert posted.status_code == 200
    assert posted.json()["data"] == {"__typename": "Mutation"}


async def test_unknown_operation_name_is_400(harness: Harness) -> None:
    response = await harness.client.post(
        "/graphql",
        json={"query": "query A { viewer { person { id } } }", "operationName": "B"},
        headers={"authorization": f"Bearer {harness.token('kari')}"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def _cors_client(origins: list[str]) -> tuple[httpx.AsyncClient, object]:
    from mocks.app import MockUpstreams
    from tests.conftest import REFERENCE_DAY

    mocks = MockUpstreams(size=0, today=REFERENCE_DAY)
    settings = gateway_settings(mocks, cors_origins=origins)
    app = create_app(settings, transport=httpx.ASGITransport(app=mocks.asgi()), clock=lambda: NOON)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    )
    return client, app


PREFLIGHT = {
    "access-control-request-method": "POST",
    "access-control-request-headers": "authorization, content-type",
}


async def test_cors_allows_listed_origins_only() -> None:
    client, app = await _cors_client(["https://helse.example.no"])
    async with client:
        allowed = await client.options(
            "/graphql", headers={"origin": "https://helse.example.no", **PREFLIGHT}
        )
        refused = await client.options(
            "/graphql", headers={"origin": "https://evil.example.com", **PREFLIGHT}
        )
        simple = await client.post(
            "/graphql", json={"query": NAME}, headers={"origin": "https://helse.example.no"}
        )
    await app.state.services.aclose()  # type: ignore[attr-defined]
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://helse.example.no"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in allowed.headers
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert simple.headers["access-control-allow-origin"] == "https://helse.example.no"
    assert "x-request-id" in simple.headers["access-control-expose-headers"]


async def test_no_cors_headers_without_configured_origins(harness: Harness) -> None:
    response = await harness.client.options(
        "/graphql", headers={"origin": "https://helse.example.no", **PREFLIGHT}
    )
    assert "access-control-allow-origin" not in response.headers
    posted = await harness.query("kari", NAME, headers={"origin": "https://helse.example.no"})
    assert "access-control-allow-origin" not in posted.headers


@pytest.mark.parametrize("origin", ["*", "https://a.no/", "helse.no", "https://a.no/path"])
def test_cors_origins_must_be_origins(origin: str) -> None:
    from mocks.app import MockUpstreams
    from tests.conftest import REFERENCE_DAY

    with pytest.raises(ValueError, match="HELSEGRAF_CORS_ORIGINS"):
        gateway_settings(MockUpstreams(size=0, today=REFERENCE_DAY), cors_origins=[origin])


CHALLENGE = 'Bearer realm="helsegraf"'


@pytest.mark.parametrize("path", ["/graphql", "/documents/RG9jdW1lbnQ6eA"])
async def test_no_credentials_get_the_plain_bearer_challenge(harness: Harness, path: str) -> None:
    # RFC 6750 §3.1: no error code when the request carried no credentials at all.
    for headers in ({}, {"authorization": "Basic a2FyaTpzZWNyZXQ="}, {"authorization": "Bearer "}):
        response = await harness.client.get(path, params={"query": NAME}, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == CHALLENGE


@pytest.mark.parametrize("path", ["/graphql", "/documents/RG9jdW1lbnQ6eA"])
@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"exp": 1_000_000}, id="expired"),
        pytest.param({"aud": "someone-else"}, id="wrong-audience"),
        pytest.param({"sub": None}, id="no-sub"),
        pytest.param(None, id="garbage"),
    ],
)
async def test_a_refused_token_gets_the_invalid_token_challenge_and_nothing_more(
    harness: Harness, path: str, claims: dict[str, object] | None
) -> None:
    token = "garbage" if claims is None else harness.token("kari", **claims)
    response = await harness.client.get(
        path, params={"query": NAME}, headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    # RFC 6750 §3: the error code, and no error_description that could help a prober.
    assert response.headers["www-authenticate"] == f'{CHALLENGE}, error="invalid_token"'
    assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


def _vary(response: httpx.Response) -> set[str]:
    return {part.strip().lower() for part in response.headers.get("vary", "").split(",")}


def _private(response: httpx.Response, vary: set[str], language: str | None) -> None:
    """The headers every answer that may hold personal data carries."""
    assert response.headers["cache-control"] == "no-store", response.status_code
    assert vary <= _vary(response), (response.status_code, response.headers.get("vary"))
    assert response.headers.get("content-language") == language, response.status_code


@pytest.mark.parametrize(
    ("language", "said"), [(None, "nb"), ("en", "en"), ("nn-NO, en;q=0.5", "nn"), ("de", "nb")]
)
async def test_graphql_results_are_not_stored_and_say_their_language(
    harness: Harness, language: str | None, said: str
) -> None:
    headers = {"accept-language": language} if language else {}
    for _ in range(2):  # executed, then answered from the response cache
        response = await harness.query("kari", STATUS, headers=headers)
        assert response.status_code == 200
        _private(response, {"authorization", "accept", "accept-language"}, said)
    failed = await harness.query("kari", '{ person(id: "UGVyc29uOm5vcGU=") { name } }')
    assert failed.status_code == 200
    assert failed.json()["errors"]
    _private(failed, {"authorization", "accept", "accept-language"}, "nb")


async def test_graphql_refusals_are_not_stored_and_are_in_english(harness: Harness) -> None:
    kari = {"authorization": f"Bearer {harness.token('kari')}", "accept-language": "nb"}
    refusals = [
        await harness.query(None, NAME, headers={"accept-language": "nb"}),  # 401
        await harness.query("kari", "{ viewer { nosuchfield } }", headers=kari),  # 400
        await harness.query("kari", NAME, headers={**kari, "accept": "text/html"}),  # 406
        await harness.client.post("/graphql", content=b"{}", headers=kari),  # 415
        await harness.client.get("/graphql", params={"query": "mutation { a }"}, headers=kari),
    ]
    assert [r.status_code for r in refusals] == [401, 400, 406, 415, 405]
    for response in refusals:
        _private(response, {"authorization", "accept"}, "en")


async def test_downloads_are_not_stored_and_vary_by_the_caller(harness: Harness) -> None:
    from tests.e2e.test_documents import nodes

    [document, *_] = await nodes(harness, "kari", "kari")
    kari = {"authorization": f"Bearer {harness.token('kari')}"}
    content = await harness.client.get(document["downloadUrl"], headers=kari)
    assert content.status_code == 200
    _private(content, {"authorization"}, None)  # the document's own language is not known
    for refused in (
        await harness.client.get("/documents/RG9jdW1lbnQ6eA", headers=kari),
        await harness.client.get(document["downloadUrl"]),
    ):
        assert refused.status_code in (401, 404)
        _private(refused, {"authorization"}, "en")


async def test_notification_answers_are_not_stored() -> None:
    from mocks.app import MockUpstreams
    from tests.conftest import REFERENCE_DAY

    mocks = MockUpstreams(size=0, today=REFERENCE_DAY)
    settings = gateway_settings(mocks, notification_secret="n" * 40)
    app = create_app(settings, transport=httpx.ASGITransport(app=mocks.asgi()), clock=lambda: NOON)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        unsigned = await client.post("/notifications", content=b"{}")
        body = b'{"events": [{"source": "ehr", "subjects": []}]}'
        signed = await client.post(
            "/notifications",
            content=body,
            headers={"x-helsegraf-signature": signature(b"n" * 40, body)},
        )
    await app.state.services.aclose()
    assert (unsigned.status_code, signed.status_code) == (401, 202)
    assert unsigned.headers["cache-control"] == signed.headers["cache-control"] == "no-store"
    assert unsigned.headers["content-language"] == "en"


async def test_a_flood_of_readiness_probes_runs_one_round_of_checks(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`/readyz` needs no token: probes arriving together share one round of checks, so
    they take the audit store's lock (and Redis, and the upstreams) once, not per probe."""
    audit = harness.app_services.audit
    ping = audit.ping
    pings = 0

    async def counted() -> None:
        nonlocal pings
        pings += 1
        await asyncio.sleep(0.05)  # a round that takes a moment, as a real store's does
        await ping()

    monkeypatch.setattr(audit, "ping", counted)
    probes = await asyncio.gather(*(harness.client.get("/readyz") for _ in range(20)))
    assert {p.status_code for p in probes} == {200}
    assert pings == 1
