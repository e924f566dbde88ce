"""`hang` and `reset` as a client sees them over a real socket (the mocks served by
uvicorn, as `helsegraf serve | mocks` serve them), not only through an in-process
transport."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
import uvicorn
import uvloop
from starlette.types import Message, Receive, Scope, Send

from mocks.app import MockUpstreams
from mocks.control import Faults, UpstreamControl
from tests.conftest import REFERENCE_DAY


async def _reset_seen_by_a_client() -> None:
    """Serve the mocks (Oslo's service resetting) with uvicorn on a free loopback port
    and call them as a client would."""
    mocks = MockUpstreams(size=0, today=REFERENCE_DAY, faults={"0301": Faults(reset=True)})
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(mocks.asgi(), log_level="critical", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110  (uvicorn offers no event to wait on)
                await asyncio.sleep(0.01)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            for _ in range(2):  # also on a fresh connection after the first was dropped
                with pytest.raises(httpx.TransportError):
                    await client.get("/municipalities/0301/api/v1/info")
            # the other upstreams answer on the same server
            assert (await client.get("/municipalities/5037/api/v1/info")).status_code == 200
    finally:
        server.should_exit = True
        await task
    assert mocks.counts()["MUNICIPAL 0301"] == 2


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_reset_drops_the_connection_without_any_response(loop: str) -> None:
    """Not the server's 500 for an exception: no response at all, on asyncio's loop and
    on uvloop, which `helsegraf serve | mocks` run on."""
    factory = uvloop.new_event_loop if loop == "uvloop" else asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(_reset_seen_by_a_client())


async def test_a_hung_call_ends_when_its_client_gives_up() -> None:
    """A hang holds nothing once the caller has gone: the handler returns on the
    client's disconnect rather than waiting for ever (under load, thousands of
    abandoned handlers would otherwise pile up in the mocks' process)."""
    control = UpstreamControl("MUNICIPAL 5037", Faults(hang=True))
    reached: list[str] = []

    async def never_called(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append("app")

    gone = asyncio.Event()
    messages: list[Message] = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        reached.append(message["type"])

    scope: Scope = {"type": "http", "method": "GET", "path": "/info", "headers": []}
    hung = control.wrap(never_called)

    async def call() -> None:
        await hung(scope, receive, send)

    handler = asyncio.create_task(call())
    await asyncio.sleep(0.05)
    assert not handler.done()  # hanging: no answer while the client waits
    gone.set()
    async with asyncio.timeout(5):
        await handler
    assert reached == []  # nothing was answered, the app never ran
