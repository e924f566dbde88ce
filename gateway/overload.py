"""Load shedding: caps on the requests a process serves, so overload is refused at once.

Two caps. `limit` protects the CPU: it counts the admitted requests that are not waiting
on an upstream (a request waits from the first to the last of its upstream calls in
progress, `sources.waiting`), so requests held by a hung upstream do not turn away
citizens whose upstreams are healthy; how long they may wait is each upstream's own
bulkhead's business (`sources.bulkhead`). `open_limit` bounds every admitted request,
waiting or not: what their state costs in memory.

A request whose upstream has answered still counts as waiting until the loop resumes it,
so under a CPU backlog the first cap undercounts. The backlog itself shows as the event
loop running late: `LoopLag` measures it with one timer, and while every one of its last
few ticks ran more than `max_lag_s` late the door refuses too.
"""

from __future__ import annotations

import asyncio
from collections import deque

LAG_SAMPLES = 3  # ticks that must all run late: a backlog, not one slow moment


class LoopLag:
    """How late the running event loop runs a timer due every `tick_s`, over its last
    `LAG_SAMPLES` ticks; started on first use in the loop that uses it."""

    def __init__(self, tick_s: float) -> None:
        self._tick_s = tick_s
        self._samples: deque[float] = deque([0.0], maxlen=LAG_SAMPLES)
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def late_s(self) -> float:
        """The least lateness of the last ticks: sustained lag, seconds."""
        return min(self._samples)

    def watch(self) -> None:
        """Measure in the running loop (once per loop; a new loop starts afresh)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._samples = deque([0.0], maxlen=LAG_SAMPLES)
            loop.call_later(self._tick_s, self._tick, loop, loop.time() + self._tick_s)

    def _tick(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        if loop is not self._loop or loop.is_closed():
            return
        now = loop.time()
        self._samples.append(max(0.0, now - due))
        loop.call_later(self._tick_s, self._tick, loop, now + self._tick_s)


class Seat:
    """One admitted request's place; told when the request waits on upstreams."""

    __slots__ = ("_left", "_limit", "_waits")

    def __init__(self, limit: InFlightLimit) -> None:
        self._limit = limit
        self._waits = 0
        self._left = False

    @property
    def waiting(self) -> bool:
        """True while the request waits on at least one upstream."""
        return self._waits > 0

    def park(self) -> None:
        """A wait on an upstream began (`sources.waiting.Waits`)."""
        if self._left:
            return  # a task the request left behind: it no longer counts
        self._waits += 1
        if self._waits == 1:
            self._limit.current -= 1

    def unpark(self) -> None:
        """A wait on an upstream ended."""
        if self._left:
            return
        self._waits -= 1
        if self._waits == 0:
            self._limit.current += 1


class InFlightLimit:
    """Counts requests being served; `enter` refuses one more once either cap is reached.

    Refusing early keeps latency bounded for the requests already admitted: a queue would
    make every request wait until all of them time out together.
    """

    def __init__(
        self,
        limit: int,
        open_limit: int | None = None,
        *,
        max_lag_s: float | None = None,
        tick_s: float = 0.05,
    ) -> None:
        """`max_lag_s`: refuse while the loop runs this late throughout (None: never)."""
        self.limit = limit
        self.open_limit = open_limit if open_limit is not None else limit
        self.current = 0  # admitted and not waiting on an upstream: using the CPU
        self.open = 0  # admitted, whatever they do
        self.max_lag_s = max_lag_s
        self.lag = LoopLag(tick_s)

    def enter(self) -> Seat | None:
        """A seat for one more request; None (and nothing taken) when either cap is full
        or the loop has been running late throughout its last ticks."""
        if self.current >= self.limit or self.open >= self.open_limit:
            return None
        if self.max_lag_s is not None:
            self.lag.watch()
            if self.lag.late_s > self.max_lag_s:
                return None
        self.current += 1
        self.open += 1
        return Seat(self)

    def leave(self, seat: Seat) -> None:
        """Give back a seat taken by `enter`; what the request left running stops counting."""
        if seat._left:
            return
        if not seat.waiting:
            self.current -= 1
        seat._left = True
        self.open -= 1
