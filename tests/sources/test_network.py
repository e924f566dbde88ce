"""The upstream client over a real socket, with each network stack the gateway can use:
the same answers, errors and limits whichever carries the bytes."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Literal

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from sources.errors import (
    UpstreamBadResponse,
    UpstreamNotFound,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from sources.upstream import Upstream

Network = Literal["aiohttp", "httpx"]


async def _bundle(request: Request) -> Response:
    return JSONResponse({"resourceType": "Bundle", "total": int(request.query_params["n"])})


async def _echo(request: Request) -> Response:
    return JSONResponse(
        {"body": (await request.body()).decode(), "if-match": request.headers.get("if-match")}
    )


async def _slow(request: Request) -> Response:
    await asyncio.sleep(1)
    return JSONResponse({})


async def _huge(request: Request) -> Response:
    return Response(b'{"x": "' + b"a" * 200_000 + b'"}', media_type="application/json")


async def _redirect(request: Request) -> Response:
    return RedirectResponse("http://elsewhere.test/steal", status_code=302)


async def _broken(request: Request) -> Response:
    return Response(status_code=503)


APP = Starlette(
    routes=[
        Route("/bundle", _bundle),
        Route("/echo", _echo, methods=["PUT"]),
        Route("/slow", _slow),
        Route("/huge", _huge),
        Route("/redirect", _redirect),
        Route("/broken", _broken),
    ]
)


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    """The app above served by uvicorn on a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(APP, log_level="error", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110  (uvicorn offers no event to wait on)
            await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    await task


def upstream(base_url: str, network: Network, **options: float) -> Upstream:
    return Upstream(
        "EHR",
        base_url,
        timeout_s=options.get("timeout_s", 1.0),
        max_response_bytes=int(options.get("max_response_bytes", 100_000)),
        network=network,
    )


NETWORKS = pytest.mark.parametrize("network", ["aiohttp", "httpx"])


@NETWORKS
async def test_answers_and_headers_travel_the_same(base_url: str, network: Network) -> None:
    client = upstream(base_url, network)
    try:
        answers = await asyncio.gather(
            *(
                client.call("GET", f"bundle?n={n}", operation="search", idempotent=True)
                for n in range(20)
            )
        )
        assert [a["total"] for a in answers] == list(range(20))
        echoed = await client.call(
            "PUT", "echo", operation="update", json_body={"a": 1}, headers={"if-match": 'W/"3"'}
        )
        assert echoed == {"body": '{"a":1}', "if-match": 'W/"3"'}
    finally:
        await client.aclose()


@NETWORKS
@pytest.mark.parametrize(
    ("path", "error"),
    [
        pytest.param("missing", UpstreamNotFound, id="404"),
        pytest.param("redirect", UpstreamBadResponse, id="redirect-not-followed"),
        pytest.param("huge", UpstreamBadResponse, id="over-the-size-cap"),
        pytest.param("broken", UpstreamUnavailable, id="503"),
        pytest.param("slow", UpstreamTimeout, id="deadline"),
    ],
)
async def test_failures_map_the_same(
    base_url: str, network: Network, path: str, error: type[Exception]
) -> None:
    client = upstream(base_url, network, timeout_s=0.3)
    try:
        with pytest.raises(error):
            await client.call("GET", path, operation="read")
    finally:
        await client.aclose()


@NETWORKS
async def test_a_refused_connection_is_unavailable(network: Network) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = upstream(f"http://127.0.0.1:{port}", network)
    try:
        with pytest.raises(UpstreamUnavailable):
            await client.call("GET", "bundle?n=1", operation="read")
    finally:
        await client.aclose()
