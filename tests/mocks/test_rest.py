"""The shared REST plumbing: problems, body checks, paging tokens and `$batch`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from mocks.population import Population
from mocks.rest import PAGE_FIELDS, JsonResponse, create_json_api, read_body

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def json_bodies(fields: tuple[str, ...], nins: list[str]) -> st.SearchStrategy[bytes]:
    """JSON (mostly objects with the endpoint's fields, some real numbers) or raw bytes."""
    value = JSON | st.sampled_from(nins) | st.lists(st.sampled_from(nins), max_size=3)
    shaped = st.dictionaries(st.sampled_from(fields), value, max_size=len(fields))
    as_json = (JSON | shaped).map(lambda v: json.dumps(v).encode())
    return as_json | st.binary(max_size=40)


ITEMS = [f"item-{n}" for n in range(7)]


async def _items(request: Request) -> Response:
    body = await read_body(request, "nin", *PAGE_FIELDS)
    nin = body.nin("nin")
    page, token = body.page(f"items:{nin}").take(ITEMS)
    return JsonResponse({"items": page, "nextPageToken": token})


async def _boom(request: Request) -> Response:
    raise RuntimeError("bug in a handler")


async def _ping(request: Request) -> Response:
    return JsonResponse({"pong": True, "path": request.url.path})


def _app() -> Starlette:
    return create_json_api(
        [
            Route("/items/_search", _items, methods=["POST"]),
            Route("/boom", _boom, methods=["POST"]),
            Route("/ping", _ping, methods=["GET"]),
        ]
    )


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://rest.test") as c:
        yield c


def _assert_problem(response: httpx.Response, status: int, *phrases: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"type", "title", "status", "detail"}
    assert body["status"] == status
    assert body["type"].startswith("https://")
    for phrase in phrases:
        assert phrase in body["detail"]
    return body


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        pytest.param(b"", "empty", id="empty-body"),
        pytest.param(b"{nin:", "not valid JSON", id="malformed-json"),
        pytest.param(b"[1, 2]", "JSON object", id="array-not-object"),
        pytest.param(b'{"nin": 5}', "nin must be a string", id="nin-wrong-type"),
        pytest.param(b"{}", "nin is required", id="nin-missing"),
        pytest.param(b'{"nin": "abc"}', "nin is not a valid", id="nin-malformed"),
        pytest.param(b'{"nin": "x", "other": 1}', "unexpected field", id="unknown-field"),
    ],
)
async def test_bad_bodies_are_400_problems_naming_the_field(
    client: httpx.AsyncClient, content: bytes, phrase: str
) -> None:
    response = await client.post("/items/_search", content=content)
    _assert_problem(response, 400, phrase)


async def test_an_unexpected_field_name_is_not_echoed(
    client: httpx.AsyncClient, population: Population
) -> None:
    nin = population.persona("kari").nin
    response = await client.post("/items/_search", json={"nin": nin, nin: 1})
    body = _assert_problem(response, 400, "accepts only: nin, pageSize, pageToken")
    assert nin not in response.text, body


async def test_unknown_route_and_wrong_method_are_problems(client: httpx.AsyncClient) -> None:
    _assert_problem(await client.post("/nowhere/26878118862"), 404, "No endpoint")
    response = await client.get("/items/_search")
    _assert_problem(response, 405, "allowed: POST")
    assert response.headers["allow"] == "POST"
    assert "26878118862" not in (await client.post("/nowhere/26878118862")).text


async def test_an_unhandled_error_is_a_500_problem_without_details(
    population: Population,
) -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://rest.test") as client:
        response = await client.post("/boom", json={})
    body = _assert_problem(response, 500)
    assert "bug" not in body["detail"]


async def test_paging_walks_every_item_once(
    client: httpx.AsyncClient, population: Population
) -> None:
    nin = population.persona("kari").nin
    seen: list[str] = []
    request: dict[str, Any] = {"nin": nin, "pageSize": 3}
    for _ in range(10):
        page = (await client.post("/items/_search", json=request)).json()
        seen += page["items"]
        if page["nextPageToken"] is None:
            break
        request["pageToken"] = page["nextPageToken"]
    assert seen == ITEMS
    default = (await client.post("/items/_search", json={"nin": nin})).json()
    assert default == {"items": ITEMS, "nextPageToken": None}


@pytest.mark.parametrize(
    ("extra", "phrase"),
    [
        pytest.param({"pageSize": 0}, "pageSize must be an integer from 1 to 100", id="size-0"),
        pytest.param({"pageSize": 101}, "pageSize", id="size-101"),
        pytest.param({"pageSize": True}, "pageSize", id="size-bool"),
        pytest.param({"pageSize": 2.0}, "pageSize", id="size-float"),
        pytest.param({"pageToken": 3}, "pageToken must be a string", id="token-int"),
        pytest.param({"pageToken": "garbage=="}, "pageToken is not", id="token-garbage"),
        pytest.param({"pageToken": "å" * 30}, "pageToken is not", id="token-non-ascii"),
    ],
)
async def test_bad_paging_fields_are_400s(
    client: httpx.AsyncClient, population: Population, extra: dict[str, Any], phrase: str
) -> None:
    body = {"nin": population.persona("kari").nin, **extra}
    _assert_problem(await client.post("/items/_search", json=body), 400, phrase)


async def test_a_page_token_only_works_for_its_own_query(
    client: httpx.AsyncClient, population: Population
) -> None:
    kari, ola = population.persona("kari").nin, population.persona("ola").nin
    first = await client.post("/items/_search", json={"nin": kari, "pageSize": 2})
    token = first.json()["nextPageToken"]
    replay = await client.post("/items/_search", json={"nin": ola, "pageToken": token})
    _assert_problem(replay, 400, "pageToken")


async def test_batch_mixes_successes_and_failures(
    client: httpx.AsyncClient, population: Population
) -> None:
    nin = population.persona("kari").nin
    requests = [
        {"id": "a", "method": "POST", "url": "/items/_search", "body": {"nin": nin}},
        {"id": "b", "method": "POST", "url": "/items/_search", "body": {"nin": "1"}},
        {"id": "c", "method": "get", "url": "/ping?x=1"},
        {"id": "d", "method": "POST", "url": "/missing"},
        {"id": "e", "method": "DELETE", "url": "/ping"},
        {"id": "f", "method": "POST", "url": "/items/_search"},
    ]
    response = await client.post("/$batch", json={"requests": requests})
    assert response.status_code == 200
    entries = {e["id"]: e for e in response.json()["responses"]}
    assert [e["id"] for e in response.json()["responses"]] == list("abcdef")
    assert entries["a"]["status"] == 200
    assert entries["a"]["body"]["items"] == ITEMS
    assert entries["b"]["status"] == 400
    assert "nin is not a valid" in entries["b"]["body"]["detail"]
    assert entries["c"] == {"id": "c", "status": 200, "body": {"pong": True, "path": "/ping"}}
    assert entries["d"]["status"] == 404
    assert entries["e"]["status"] == 405
    assert entries["f"]["status"] == 400
    assert nin not in str(entries["b"]) + str(entries["f"])


async def test_a_sub_request_that_crashes_is_a_500_entry(client: httpx.AsyncClient) -> None:
    requests = [
        {"id": "1", "method": "POST", "url": "/boom", "body": {}},
        {"id": "2", "method": "GET", "url": "/ping"},
    ]
    response = await client.post("/$batch", json={"requests": requests})
    statuses = [(e["id"], e["status"]) for e in response.json()["responses"]]
    assert statuses == [("1", 500), ("2", 200)]
    assert response.json()["responses"][0]["body"]["type"].endswith("internal-error")


def _ping_requests(count: int) -> list[dict[str, Any]]:
    return [{"id": str(n), "method": "GET", "url": "/ping"} for n in range(count)]


@pytest.mark.parametrize(
    ("envelope", "phrase"),
    [
        pytest.param({"requests": _ping_requests(21)}, "more than 20", id="21-requests"),
        pytest.param({"requests": []}, "non-empty list", id="no-requests"),
        pytest.param({"requests": {"id": "1"}}, "non-empty list", id="requests-not-a-list"),
        pytest.param({}, "requests must be", id="requests-missing"),
        pytest.param({"requests": [1]}, "requests[0] must be an object", id="entry-not-object"),
        pytest.param(
            {"requests": [{"id": "1", "method": "POST", "url": "/$batch", "body": {}}]},
            "a batch cannot contain another batch",
            id="nested-batch",
        ),
        pytest.param(
            {"requests": [{"id": "1", "method": "POST", "url": "/%24batch/"}]},
            "another batch",
            id="nested-batch-encoded",
        ),
        pytest.param(
            {"requests": [*_ping_requests(2), {"id": "1", "method": "GET", "url": "/ping"}]},
            "requests[2].id repeats",
            id="duplicate-ids",
        ),
        pytest.param(
            {"requests": [{"id": 1, "method": "GET", "url": "/ping"}]},
            "requests[0].id must be a string",
            id="numeric-id",
        ),
        pytest.param(
            {"requests": [{"id": "1", "method": "FETCH", "url": "/ping"}]},
            "requests[0].method",
            id="unknown-method",
        ),
        pytest.param(
            {"requests": [{"id": "1", "method": "GET", "url": "http://evil.test/ping"}]},
            "requests[0].url",
            id="absolute-url",
        ),
        pytest.param(
            {"requests": [{"id": "1", "method": "GET", "url": "/ping", "headers": {"x": 1}}]},
            "requests[0].headers",
            id="header-not-string",
        ),
        pytest.param(
            {"requests": [{"id": "1", "method": "GET", "url": "/ping", "dependsOn": ["0"]}]},
            "requests[0] has unexpected fields",
            id="unknown-entry-field",
        ),
    ],
)
async def test_malformed_batches_are_refused_whole(
    client: httpx.AsyncClient, envelope: dict[str, Any], phrase: str
) -> None:
    _assert_problem(await client.post("/$batch", json=envelope), 400, phrase)


async def test_batch_of_twenty_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/$batch", json={"requests": _ping_requests(20)})
    assert [e["status"] for e in response.json()["responses"]] == [200] * 20


async def test_batch_dispatches_within_a_mounted_prefix() -> None:
    outer = Starlette(routes=[Mount("/national/api/v1", app=_app())])
    transport = httpx.ASGITransport(app=outer)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as client:
        requests = [{"id": "1", "method": "GET", "url": "/ping", "headers": {"X-Trace": "t1"}}]
        response = await client.post("/national/api/v1/$batch", json={"requests": requests})
    assert response.json()["responses"] == [
        {"id": "1", "status": 200, "body": {"pong": True, "path": "/national/api/v1/ping"}}
    ]
