"""One PostgreSQL pool per gateway-owned store, created lazily with its schema.

Both the audit trail and the user-data store keep their tables in a schema of their
own, created on first use with `CREATE ... IF NOT EXISTS` under an advisory lock, so
replicas starting together do not race.
"""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]  # no stubs published

T = TypeVar("T")

IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class SchemaPool:
    """A lazily created pool whose first connection runs `ddl` (with `{s}` the schema)."""

    def __init__(self, dsn: str, *, schema: str, ddl: str, lock: int, timeout_s: float) -> None:
        if not IDENTIFIER.fullmatch(schema):
            raise ValueError(f"schema {schema!r} is not a lowercase SQL identifier")
        self.dsn = dsn
        self.schema = schema
        self._ddl = ddl
        self.lock_key = lock ^ zlib.crc32(schema.encode())  # also for the store's own locks
        self.timeout_s = timeout_s
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()

    async def _get(self) -> asyncpg.Pool:
        async with self._pool_lock:
            if self._pool is None:
                pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=1,
                    max_size=5,
                    timeout=self.timeout_s,
                    command_timeout=self.timeout_s,
                )
                try:
                    async with pool.acquire() as conn, conn.transaction():
                        # replicas starting together must not race on CREATE ... IF NOT EXISTS
                        await conn.execute("SELECT pg_advisory_xact_lock($1)", self.lock_key)
                        await conn.execute(self._ddl.format(s=self.schema))
                except BaseException:
                    await pool.close()
                    raise
                self._pool = pool
            return self._pool

    async def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """`fn(connection, *args)` on a pooled connection (errors propagate as they are)."""
        pool = await self._get()
        async with pool.acquire(timeout=self.timeout_s) as conn:
            return await fn(conn, *args)

    async def aclose(self) -> None:
        """Close the pool, if it was ever opened."""
        async with self._pool_lock:
            if self._pool is not None:
                await self._pool.close()
                self._pool = None
