"""A bulkhead per upstream: how many calls may be open to it, and how many may wait.

A hung upstream holds every call sent to it until the call's deadline. Without a bound on
the waiting too, the calls queued behind them would pile up without limit, each holding
a request (and its memory) that a healthy neighbour could have used. With one, a call
that finds every slot busy and the queue full is refused at once, so the request gets
that upstream's fields as errors now rather than after the deadline.
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType


class BulkheadFull(Exception):
    """Every slot of the upstream is busy and its queue is full."""


class Bulkhead:
    """At most `limit` calls open and `queue` more waiting, first come first served.

    Used as `async with bulkhead:` around one exchange; entering raises `BulkheadFull`
    at once when the call would have to wait and the queue is full.

    Example:
        bulkhead = Bulkhead(limit=32, queue=32)
        async with bulkhead:  # may wait for a slot, or raise BulkheadFull
            ...
    """

    def __init__(self, limit: int, queue: int) -> None:
        if limit < 1 or queue < 0:
            raise ValueError("a bulkhead needs a slot, and a queue of zero or more")
        self.limit = limit
        self.queue = queue
        self.open = 0  # calls holding a slot
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        """Calls in the queue."""
        return len(self._waiters)

    async def __aenter__(self) -> None:
        if self.open < self.limit and not self._waiters:
            self.open += 1
            return
        if len(self._waiters) >= self.queue:
            raise BulkheadFull
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._leave()  # handed a slot as it was cancelled: pass it on
            elif waiter in self._waiters:  # a leaving holder may have dropped it already
                self._waiters.remove(waiter)
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._leave()

    def _leave(self) -> None:
        """Give the slot to the first waiter, or back."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes on: `open` stays as it is
                return
        self.open -= 1
