"""Operation limits are checked before execution: no upstream call, the limit named."""

from __future__ import annotations

import httpx
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

    def counting(*args: object, **kwargs: object) -> None:
        measured.append("measured")
        original(*args, **kwargs)  # type: ignore[arg-type]  # passed through unchanged

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
