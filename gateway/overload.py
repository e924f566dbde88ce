"""Load shedding: a cap on requests in flight, so overload is refused at once, not queued."""

from __future__ import annotations


class InFlightLimit:
    """Counts requests being served; `enter` refuses one more once `limit` are running.

    Refusing early keeps latency bounded for the requests already admitted: a queue would
    make every request wait until all of them time out together.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.current = 0

    def enter(self) -> bool:
        """Take a slot; False (and no slot taken) when all are in use."""
        if self.current >= self.limit:
            return False
        self.current += 1
        return True

    def leave(self) -> None:
        """Give back a slot taken by `enter`."""
        self.current -= 1
