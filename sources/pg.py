"""One PostgreSQL pool per gateway-owned store, created lazily with its schema.

Both the audit trail and the user-data store keep their tables in a schema of their
own, created on first use with `CREATE ... IF NOT EXISTS` under an advisory lock, so
replicas starting together do not race. A read-only pool (what checks the audit trail)
runs no DDL at all, and its sessions refuse writes (`default_transaction_read_only`).

Every call has a deadline: connecting, waiting for a pooled connection and the call
itself together take no longer, whether the server is slow, paused or gone.
"""

from __future__ import annotations

import asyncio
import re
import time
import zlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]  # no stubs published

T = TypeVar("T")

IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def remaining_ms(deadline: float) -> int:
    """Whole milliseconds left until `deadline` (`time.monotonic()`), at least 1: for
    PostgreSQL's own `lock_timeout`/`statement_timeout`, so the server gives up too."""
    return max(1, int((deadline - time.monotonic()) * 1000))


class SchemaPool:
    """A lazily created pool whose first connection runs `ddl` (with `{s}` the schema),
    unless `read_only`."""

    def __init__(
        self,
        dsn: str,
        *,
        schema: str,
        ddl: str,
        lock: int,
        timeout_s: float,
        read_only: bool = False,
    ) -> None:
        if not IDENTIFIER.fullmatch(schema):
            raise ValueError(f"schema {schema!r} is not a lowercase SQL identifier")
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.dsn = dsn
        self.schema = schema
        self._ddl = ddl
        self.lock_key = lock ^ zlib.crc32(schema.encode())  # also for the store's own locks
        self.timeout_s = timeout_s
        self.read_only = read_only
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()

    async def _get(self) -> asyncpg.Pool:
        async with self._pool_lock:
            if self._pool is None:
                settings = {"default_transaction_read_only": "on"} if self.read_only else {}
                pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=1,
                    max_size=5,
                    timeout=self.timeout_s,
                    command_timeout=self.timeout_s,
                    server_settings=settings,
                )
                try:
                    if not self.read_only:
                        async with pool.acquire() as conn, conn.transaction():
                            # replicas starting together must not race on CREATE ... IF NOT
                            # EXISTS
                            await conn.execute("SELECT pg_advisory_xact_lock($1)", self.lock_key)
                            await conn.execute(self._ddl.format(s=self.schema))
                except BaseException:
                    pool.terminate()
                    raise
                self._pool = pool
            return self._pool

    async def run(
        self, fn: Callable[..., Awaitable[T]], *args: Any, deadline: float | None = None
    ) -> T:
        """`fn(connection, *args)` on a pooled connection, by `deadline` (`time.monotonic()`,
        default `timeout_s` from now): TimeoutError then, whatever the server does. Other
        errors propagate as they are."""
        if deadline is None:
            deadline = time.monotonic() + self.timeout_s
        async with asyncio.timeout(deadline - time.monotonic()):
            pool = await self._get()
            # the acquire timeout also bounds giving the connection back after a cancel
            async with pool.acquire(timeout=max(0.001, deadline - time.monotonic())) as conn:
                return await fn(conn, *args)

    async def aclose(self) -> None:
        """Close the pool, if it was ever opened (at once: a server that does not answer
        must not hold up shutting down)."""
        async with self._pool_lock:
            if self._pool is not None:
                pool, self._pool = self._pool, None
                try:
                    async with asyncio.timeout(self.timeout_s):
                        await pool.close()
                except TimeoutError:
                    pool.terminate()
