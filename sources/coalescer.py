"""Coalesce the upstream requests of one GraphQL request into as few HTTP calls as possible.

Resolvers at the same depth run as sibling tasks; each asks for what it needs. The
coalescer waits until the event loop has gone a few iterations without a new request
(the siblings have all asked), then hands every distinct key to `dispatch` at once, so
one upstream sees one call per dependency level. Identical keys share one result for
the life of the coalescer (one GraphQL request).

`batching(False)` (setting `HELSEGRAF_BATCHING=false`, the benchmark's baseline) makes
the coalescers and loaders built inside it dispatch every read on its own, at once: no
batch Bundles or `$batch`, no de-duplication within a request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Iterations without a new key before dispatching. aiodataloader needs about four
# iterations from `load()` to its batch function, so loaders feeding a coalescer still
# land in the same batch.
IDLE_ITERATIONS = 6

Dispatch = Callable[[Sequence[K]], Awaitable[Sequence[V | BaseException]]]

_BATCHING: ContextVar[bool] = ContextVar("helsegraf_batching", default=True)


@contextlib.contextmanager
def batching(enabled: bool) -> Iterator[None]:
    """Coalescers and loaders built inside batch and de-duplicate only when `enabled`."""
    token = _BATCHING.set(enabled)
    try:
        yield
    finally:
        _BATCHING.reset(token)


def loader_options() -> dict[str, Any]:
    """Keyword arguments for an aiodataloader `DataLoader` built now: with batching off,
    no batching and no per-request cache."""
    return {} if _BATCHING.get() else {"batch": False, "cache": False}


class Coalescer(Generic[K, V]):
    """Per-request batching and de-duplication of keys for one dispatch function."""

    def __init__(self, dispatch: Dispatch[K, V]) -> None:
        self._dispatch = dispatch
        self.batching = _BATCHING.get()
        self._results: dict[K, asyncio.Future[V]] = {}
        self._queue: list[K] = []
        self._idle = 0
        self._scheduled = False
        self.dispatches = 0

    def load(self, key: K) -> asyncio.Future[V]:
        """A future for `key`'s value; shared with every earlier load of the same key."""
        if not self.batching:
            return self._alone(key)
        future = self._results.get(key)
        if future is not None:
            return future
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._results[key] = future
        self._queue.append(key)
        self._idle = 0
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._tick)
        return future

    def _tick(self) -> None:
        self._idle += 1
        if self._idle < IDLE_ITERATIONS:
            asyncio.get_running_loop().call_soon(self._tick)
            return
        self._scheduled = False
        keys, self._queue = self._queue, []
        self.dispatches += 1
        task = asyncio.ensure_future(self._run(keys))
        task.add_done_callback(_consume)

    def _alone(self, key: K) -> asyncio.Future[V]:
        """Batching off: `key` dispatched by itself, now, sharing nothing."""
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self.dispatches += 1

        async def run() -> None:
            try:
                [value] = await self._dispatch([key])
            except BaseException as exc:
                if not future.done():
                    future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                return
            if future.done():
                return
            if isinstance(value, BaseException):
                future.set_exception(value)
            else:
                future.set_result(value)

        asyncio.ensure_future(run()).add_done_callback(_consume)
        return future

    async def _run(self, keys: list[K]) -> None:
        try:
            values = await self._dispatch(keys)
            if len(values) != len(keys):
                raise RuntimeError("dispatch returned a different number of values than keys")
        except BaseException as exc:  # every waiter must hear about the failure
            for key in keys:
                future = self._results[key]
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for key, value in zip(keys, values, strict=True):
            future = self._results[key]
            if future.done():
                continue
            if isinstance(value, BaseException):
                future.set_exception(value)
            else:
                future.set_result(value)


def _consume(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()
