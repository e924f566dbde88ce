"""One budget of bytes for every upstream answer a gateway holds in memory at once.

Each upstream caps one answer (`max_response_bytes`), but without a cap across calls nine
concurrent 100 MB answers took the process from 107 to 330 MB, where it stayed. All the
upstreams of one gateway share one `BufferBudget`: an answer's bytes are reserved before
they are kept, a call that cannot reserve them fails at once (the gateway is full, the
upstream did nothing wrong), and a call gives its bytes back when it ends, however it ends.

Reservations are plain counters, changed only from the event loop's thread (no awaits
inside), so no lock is needed.
"""

from __future__ import annotations

from types import TracebackType

DEFAULT_BUFFER_BYTES = 64 * 1024 * 1024


class BufferBudget:
    """Bytes the upstream answers of one gateway may hold together.

    Example:
        budget = BufferBudget(64 * 1024 * 1024)
        with budget.hold() as held:
            if not held.grow(len(chunk)):
                ...  # full: refuse the call
        assert budget.used == 0
    """

    def __init__(self, capacity: int = DEFAULT_BUFFER_BYTES) -> None:
        if capacity < 1:
            raise ValueError("a buffer budget needs a capacity of at least one byte")
        self.capacity = capacity
        self._used = 0

    @property
    def used(self) -> int:
        """Bytes reserved now, by every call together."""
        return self._used

    def hold(self) -> Reservation:
        """An empty reservation for one call; give it back with `release` (or `with`)."""
        return Reservation(self)

    def _take(self, size: int) -> bool:
        if size < 0:
            raise ValueError("a reservation grows by a size >= 0")
        if self._used + size > self.capacity:
            return False
        self._used += size
        return True

    def _give_back(self, size: int) -> None:
        if not 0 <= size <= self._used:
            raise ValueError("given back more bytes than were reserved")
        self._used -= size


class Reservation:
    """The bytes one call holds in a `BufferBudget`; all given back on `release`."""

    def __init__(self, budget: BufferBudget) -> None:
        self.budget = budget
        self.size = 0

    def grow(self, size: int) -> bool:
        """Reserve `size` more bytes; False, and nothing reserved, when the budget is full."""
        if not self.budget._take(size):
            return False
        self.size += size
        return True

    def shrink(self, size: int) -> None:
        """Give back `size` of the bytes held (a copy that no longer exists)."""
        if size > self.size:
            raise ValueError("a reservation cannot shrink below zero")
        self.budget._give_back(size)
        self.size -= size

    def release(self) -> None:
        """Give back every byte held; safe to call again."""
        self.budget._give_back(self.size)
        self.size = 0

    def __enter__(self) -> Reservation:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
