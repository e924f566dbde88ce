"""Idempotency keys: a retried mutation returns the first answer instead of acting twice."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from cachetools import TTLCache

T = TypeVar("T")


class KeyReused(Exception):
    """The key was used before with different input."""


class IdempotencyStore:
    """Remembers, per caller and key, the input's fingerprint and the (future) result.

    In-process and bounded; the EHR also receives the key as a conditional-create
    identifier, so replicas do not write twice either.
    """

    def __init__(self, maxsize: int = 50_000, ttl_s: float = 24 * 3600) -> None:
        self._entries: TTLCache[str, tuple[str, asyncio.Future[Any]]] = TTLCache(
            maxsize=maxsize, ttl=ttl_s
        )

    @staticmethod
    def scoped_key(caller: str, key: str) -> str:
        """A key that cannot collide across callers and reveals neither."""
        return hashlib.sha256(f"{caller}\x00{key}".encode()).hexdigest()

    async def run(
        self, caller: str, key: str, fingerprint: str, action: Callable[[], Awaitable[T]]
    ) -> T:
        """The result of `action`, run at most once per (caller, key) while remembered."""
        scoped = self.scoped_key(caller, key)
        found = self._entries.get(scoped)
        if found is not None:
            if found[0] != fingerprint:
                raise KeyReused()
            result: T = await asyncio.shield(found[1])
            return result
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._entries[scoped] = (fingerprint, future)
        try:
            value = await action()
        except BaseException as exc:
            self._entries.pop(scoped, None)  # a failed attempt may be retried
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it themselves
            raise
        future.set_result(value)
        return value
