"""Load shedding: caps on the requests a process serves, so overload is refused at once.

Two caps. `limit` protects the CPU: it counts the admitted requests that are not waiting
on an upstream (a request waits from the first to the last of its upstream calls in
progress, `sources.waiting`), so requests held by a hung upstream do not turn away
citizens whose upstreams are healthy; how long they may wait is each upstream's own
bulkhead's business (`sources.bulkhead`). `open_limit` bounds every admitted request,
waiting or not: what their state costs in memory.
"""

from __future__ import annotations


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

    def __init__(self, limit: int, open_limit: int | None = None) -> None:
        self.limit = limit
        self.open_limit = open_limit if open_limit is not None else limit
        self.current = 0  # admitted and not waiting on an upstream: using the CPU
        self.open = 0  # admitted, whatever they do

    def enter(self) -> Seat | None:
        """A seat for one more request; None (and nothing taken) when either cap is full."""
        if self.current >= self.limit or self.open >= self.open_limit:
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
