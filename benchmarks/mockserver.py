"""The mock upstreams for the benchmark: `helsegraf mocks`, with TCP_NODELAY on every
connection.

`helsegraf mocks` (gateway/cli.py) listens on a socket made with protocol 0, so asyncio
never sets TCP_NODELAY on the connections it accepts; an answer written in two parts on a
kept-alive connection then waits for the client's delayed ACK, about 40 ms on Linux. The
benchmark's upstreams must answer in the latency it asks for, so this listener is made
with IPPROTO_TCP. Settings as for `helsegraf mocks` (`HELSEGRAF_PORT`,
`HELSEGRAF_MOCKS__POPULATION`, `HELSEGRAF_MOCKS__LATENCY_MS`).

    python -m benchmarks.mockserver
"""

from __future__ import annotations

import socket

import uvicorn

from gateway.settings import Settings
from mocks.app import MockUpstreams


def listener(host: str, port: int) -> socket.socket:
    """A listening TCP socket whose accepted connections asyncio sets to TCP_NODELAY."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


def main() -> None:
    """Serve the mocks until interrupted."""
    settings = Settings()
    mocks = MockUpstreams(
        size=settings.mocks.population,
        seed=settings.mocks.seed,
        latency_ms=settings.mocks.latency_ms,
    )
    config = uvicorn.Config(
        mocks.asgi(), log_level="warning", access_log=False, lifespan="on", log_config=None
    )
    uvicorn.Server(config).run(sockets=[listener(settings.host, settings.port)])


if __name__ == "__main__":
    main()
