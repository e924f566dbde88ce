"""Operation limits are checked before execution: no upstream call, the limit named."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from gateway.app import create_app
from mocks.app import MockUpstreams
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import NOON, Harness, gateway_settings

ALIASES = "{ viewer { " + " ".join(f"a{n}: person {{ id }}" for n in range(40)) + " } }"
HIDDEN_ALIASES = (
    "query { viewer { ...F } } fragment F on Viewer { "
    + " ".join(f"b{n}: person {{ id }}" for n in range(40))
    + " }"
)
COSTLY = (
    "{ viewer { representations { person { appointments(first: 100) { edges { node { "
    "practitioner { name } location { name } source { name } } } } } } } }"
)
DEEP = "{ viewer " + "{ person " * 1 + "{ appointments { edges { node { source { name } } } } } } }"


@pytest.mark.parametrize(
    ("query", "limit"),
    [
        pytest.param(ALIASES, "aliases", id="aliases"),
        pytest.param(HIDDEN_ALIASES, "aliases", id="aliases-hidden-in-a-fragment"),
        pytest.param(COSTLY, "cost", id="list-sizes-and-page-arguments"),
        pytest.param("{ viewer { person { id } } }" + " " + "# x\n" * 3000, "tokens", id="tokens"),
        pytest.param(
            "{ viewer { person { id } } }" + " " * 50_000, "document_size", id="whitespace"
        ),
        pytest.param(
            "{ viewer { person { id } } }" + "#" * 50_000, "document_size", id="one-long-comment"
        ),
        pytest.param(
            "query A { viewer { person { id } } } " * 6,
            "batch_size",
            id="operations-in-one-document",
        ),
    ],
)
async def test_over_the_limit_is_refused_before_any_upstream_call(
    harness: Harness, query: str, limit: str
) -> None:
    await harness.query("per", "{ viewer { person { id } } }")  # warm the key cache
    harness.mocks.reset_counters()
    response = await harness.query("kari", query)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": limit}
    assert "person" not in error["message"]
    assert sum(harness.mocks.counts().values()) == 0


async def test_budgets_come_from_configuration() -> None:
    mocks = MockUpstreams(size=0, today=REFERENCE_DAY)
    settings = gateway_settings(mocks, operation_limits={"citizen": {"max_depth": 3}})
    app = create_app(settings, transport=httpx.ASGITransport(app=mocks.asgi()), clock=lambda: NOON)
    token = mocks.issuer.token_for(mocks.population.persona("kari"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        shallow = await client.post(
            "/graphql",
            json={"query": "{ viewer { person { id } } }"},
            headers={"authorization": f"Bearer {token}"},
        )
        deep = await client.post(
            "/graphql", json={"query": DEEP}, headers={"authorization": f"Bearer {token}"}
        )
    await app.state.services.aclose()
    assert shallow.status_code == 200
    assert deep.json()["errors"][0]["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "depth"}


def test_unknown_limits_in_configuration_are_refused() -> None:
    from pydantic import ValidationError

    mocks = MockUpstreams(size=0, today=REFERENCE_DAY)
    with pytest.raises(ValidationError, match="max_width is not a limit"):
        gateway_settings(mocks, operation_limits={"citizen": {"max_width": 3}})
    with pytest.raises(ValidationError, match="is not a caller kind"):
        gateway_settings(mocks, operation_limits={"robots": {"max_depth": 3}})


async def test_graphiql_introspection_passes_in_development_only() -> None:
    from graphql import get_introspection_query

    mocks = MockUpstreams(size=0, today=REFERENCE_DAY)
    token = mocks.issuer.token_for(mocks.population.persona("kari"))
    codes = {}
    for env in ("development", "test"):
        app = create_app(
            gateway_settings(mocks, env=env),
            transport=httpx.ASGITransport(app=mocks.asgi()),
            clock=lambda: NOON,
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
        ) as client:
            response = await client.post(
                "/graphql",
                json={"query": get_introspection_query()},
                headers={"authorization": f"Bearer {token}"},
            )
        await app.state.services.aclose()
        codes[env] = response.status_code
    assert codes == {"development": 200, "test": 400}


@pytest.mark.parametrize(
    "query",
    ["{ viewer \U0002a9c9 }", "{ viewer(first: 00) }"],
    ids=["unexpected-character", "invalid-number"],
)
async def test_lexer_errors_are_syntax_errors_not_server_errors(
    harness: Harness, query: str
) -> None:
    response = await harness.query("kari", query)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_an_operation_is_measured_once_per_budget_and_variables(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.limits import check_document as original

    measured: list[str] = []

    def counting(*args: object, **kwargs: object) -> object:
        measured.append("measured")
        return original(*args, **kwargs)  # type: ignore[arg-type]  # passed through unchanged

    monkeypatch.setattr("gateway.admission.check_document", counting)
    query = "query($n: Int) { viewer { person { appointments(first: $n) { totalCount } } } }"
    for _ in range(3):
        ok = await harness.query("per", query, {"n": 7})
        assert ok.status_code == 200
    assert measured == ["measured"]
    for _ in range(2):  # another operation: measured once, refused each time
        refused = await harness.query("per", COSTLY.replace("100", "99"))
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["extensions"]["limit"] == "cost"
    assert measured == ["measured", "measured"]


# --- request bodies are limited while they stream in ------------------------------------


class Trickle:
    """A request body sent as an async iterator (httpx frames it chunked, with no declared
    length), counting the chunks the gateway pulled."""

    def __init__(self, body: bytes, chunk: int = 1024) -> None:
        self.body, self.chunk, self.pulled = body, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.body), self.chunk):
            self.pulled += 1
            yield self.body[start : start + self.chunk]

    @property
    def chunks(self) -> int:
        return -(-len(self.body) // self.chunk)


def padded(size: int, query: str = "{ viewer { person { name } } }") -> bytes:
    """A valid GraphQL request body of `size` bytes, most of them in a variable."""
    head = orjson.dumps({"query": query, "variables": {"pad": ""}})[:-3]
    return head + b"x" * (size - len(head) - 3) + b'"}}'


JSON_POST = {"content-type": "application/json"}


async def test_a_declared_length_over_every_budget_is_refused_unread(harness: Harness) -> None:
    body = Trickle(b"x" * 100 * 1024, chunk=1024)  # the start of a "100 MB" body
    response = await harness.client.post(
        "/graphql", content=body, headers={**JSON_POST, "content-length": str(100 * 2**20)}
    )
    assert response.status_code == 413
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "body_size"}
    assert body.pulled == 0  # refused on the header, before the token and the body


async def test_a_body_without_a_token_is_never_read(harness: Harness) -> None:
    body = Trickle(padded(5 * 2**20))
    response = await harness.client.post("/graphql", content=body, headers=JSON_POST)
    assert response.status_code == 401
    assert body.pulled == 0


@pytest.mark.parametrize(
    ("persona", "claims", "limit"),
    [
        pytest.param("kari", {}, 100_000, id="citizen"),
        pytest.param("anna", {"scope": "openid helsegraf:analytics"}, 10_000, id="analyst"),
    ],
)
async def test_a_chunked_body_is_cut_off_at_the_callers_limit(
    harness: Harness, persona: str, claims: dict[str, str], limit: int
) -> None:
    # Small query, large variables, no declared length: the whole body counts, as it comes.
    body = Trickle(padded(3 * limit), chunk=1000)
    token = harness.token(persona, **claims)
    response = await harness.client.post(
        "/graphql", content=body, headers={**JSON_POST, "authorization": f"Bearer {token}"}
    )
    assert response.status_code == 413
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "body_size"}
    assert body.pulled == limit // 1000 + 1  # stopped at the first byte over, not drained
    assert body.pulled < body.chunks


async def test_a_chunked_body_within_the_limit_runs(harness: Harness) -> None:
    body = Trickle(padded(50_000), chunk=1000)
    response = await harness.client.post(
        "/graphql",
        content=body,
        headers={**JSON_POST, "authorization": f"Bearer {harness.token('kari')}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["viewer"]["person"]["name"] == "Kari Nordmann"


async def test_a_get_query_string_counts_as_the_body(harness: Harness) -> None:
    params = {
        "query": "{ viewer { person { name } } }",  # extra variables are ignored
        "variables": orjson.dumps({"pad": "x" * 20_000}).decode(),
    }
    analyst = harness.token("anna", scope="openid helsegraf:analytics")  # 10,000 bytes
    refused = await harness.client.get(
        "/graphql", params=params, headers={"authorization": f"Bearer {analyst}"}
    )
    assert refused.status_code == 414
    error = refused.json()["errors"][0]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "body_size"}
    citizen = await harness.client.get(  # 100,000 bytes
        "/graphql", params=params, headers={"authorization": f"Bearer {harness.token('kari')}"}
    )
    assert citizen.status_code == 200, citizen.text


async def test_notifications_are_limited_while_they_stream_in() -> None:
    mocks = MockUpstreams(size=0, today=REFERENCE_DAY)
    settings = gateway_settings(mocks, notification_secret="n" * 40)
    app = create_app(settings, transport=httpx.ASGITransport(app=mocks.asgi()), clock=lambda: NOON)
    declared, chunked = Trickle(b"x" * 2**20), Trickle(b"x" * 2**20)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        refused = await client.post(
            "/notifications", content=declared, headers={"content-length": str(2**30)}
        )
        cut_off = await client.post("/notifications", content=chunked)
    await app.state.services.aclose()
    assert (refused.status_code, cut_off.status_code) == (413, 413)
    assert declared.pulled == 0
    assert chunked.pulled == 256 + 1  # 256 KiB allowed, in 1 KiB chunks


# --- the cost reads variables as the executor will ---------------------------------------

PAGED = (
    "query($n: Int!, $f: AppointmentFilter) { viewer { person { appointments(first: $n, "
    "filter: $f) { edges { node { practitioner { name } location { name } } } } } } }"
)


async def test_a_page_size_sent_as_a_float_is_the_size_it_runs_with(harness: Harness) -> None:
    await harness.query("per", "{ viewer { person { id } } }")  # warm the key cache
    harness.mocks.reset_counters()
    response = await harness.query("kari", PAGED, {"n": 1000.0})  # GraphQL runs it as 1000
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "cost"}
    assert sum(harness.mocks.counts().values()) == 0
    assert (await harness.query("kari", PAGED, {"n": 5.0})).status_code == 200


async def test_no_pass_is_remembered_for_variables_that_cannot_be_coerced(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.limits import check_document as original

    measured: list[str] = []

    def counting(*args: object, **kwargs: object) -> object:
        measured.append("measured")
        return original(*args, **kwargs)  # type: ignore[arg-type]  # passed through unchanged

    monkeypatch.setattr("gateway.admission.check_document", counting)
    typo = {"n": 2, "f": {"period": "UPCOMNG"}}
    for _ in range(2):
        response = await harness.query("kari", PAGED, typo)
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert measured == ["measured", "measured"]


# --- what the gateway remembers of documents is bounded by bytes ------------------------


async def test_many_distinct_large_documents_stay_within_the_caches_bound(
    harness: Harness,
) -> None:
    import gc
    import tracemalloc

    from gateway.documents import DEFAULT_MAX_BYTES

    headers = {"authorization": f"Bearer {harness.token('kari')}"}

    async def send(n: int) -> None:
        # Cheap to run, ~1,900 tokens (comments are tokens, kept by the parsed tree)
        query = f"{{ __typename }} # {n}\n" + "# c\n" * 1900
        response = await harness.client.post("/graphql", json={"query": query}, headers=headers)
        assert response.status_code == 200, response.text

    await send(-1)  # warm what one request builds once
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(40):  # kept whole, these would be ~40 x 0.9 MB
            await send(n)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown <= DEFAULT_MAX_BYTES, f"grew {grown} bytes; the bound is {DEFAULT_MAX_BYTES}"
