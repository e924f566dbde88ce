"""Which Redis server lifetime this process's cache connections reach.

Redis may come back from a restart with its data (a snapshot, an append-only file) or
fail over to a replica: either way it can hold generation tokens from *before* a bump
that never reached it, and those tokens would vouch again for entries the bump ended.
Every server lifetime has its own `run_id` (a restart or another server changes it), and
every connection is made to one lifetime, so each new connection reads it before any
command runs on it. Generation tokens are stamped with it: nothing stamped under one
lifetime is valid under another, in any process, whoever's bump was lost.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from redis.exceptions import ResponseError

if TYPE_CHECKING:
    from redis.asyncio.connection import AbstractConnection

STAMP_CHARS = 12  # of the run id: enough to tell lifetimes apart, short in every entry


def _run_id(info: bytes | str) -> str | None:
    text = info.decode() if isinstance(info, bytes) else info
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name == "run_id" and value.strip():
            return value.strip()[:STAMP_CHARS]
    return None


class ServerIdentity:
    """The lifetime (run id) of the Redis server the newest connection reached.

    A server that will not tell its run id (`INFO` renamed away, a lookalike without it)
    gets a new random identity on every connection: each reconnect then ends everything
    cached, which is slower but never wrong.
    """

    def __init__(self) -> None:
        self.current: str | None = None

    async def on_connect(self, connection: AbstractConnection) -> None:
        """Connect as redis-py would, then learn the server's lifetime (before any
        command of the cache runs on this connection)."""
        await connection.on_connect()
        try:
            await connection.send_command("INFO", "server")
            found = _run_id(await connection.read_response())
        except ResponseError:
            found = None
        self.current = found or f"x{secrets.token_hex(STAMP_CHARS // 2)}"
