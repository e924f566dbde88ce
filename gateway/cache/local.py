"""This process's cache memory: the bounded tier and the generation tokens kept here when
no Redis shares them. Lifetimes are jittered so that what was kept together does not
expire, and miss, together."""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable

from cachetools import TLRUCache

JITTER = 0.1  # entries live between 90 and 100 % of their lifetime
ENTRY_OVERHEAD = 200  # bytes counted per local entry besides its value
MAX_LOCAL_GENERATIONS = 500_000


def token() -> str:
    """A new random generation token."""
    return secrets.token_hex(8)


def jittered(ttl_s: float) -> float:
    """`ttl_s` shortened by a random share of at most `JITTER`: entries made together (a
    screen's reads, a burst after a deploy) do not all expire, and miss, together."""
    return ttl_s * (1.0 - JITTER * random.random())  # noqa: S311  # spread, not secrecy


class LocalTier:
    """Values in this process's memory: at most `max_bytes`, each for at most `ttl_s`
    (jittered)."""

    def __init__(
        self, max_bytes: int, ttl_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._entries: TLRUCache[str, bytes] = TLRUCache(
            maxsize=max_bytes,
            ttu=lambda _key, _value, now: now + jittered(ttl_s),
            timer=clock,
            getsizeof=lambda value: len(value) + ENTRY_OVERHEAD,
        )
        self._max_item = max_bytes // 8  # one huge value may not evict everything
        self.ttl_s = ttl_s
        self.clock = clock

    def get(self, key: str) -> bytes | None:
        """The value, when present and fresh."""
        return self._entries.get(key)

    def put(self, key: str, value: bytes) -> None:
        """Keep an exact-size copy of `value` (silently skipped when it alone is too large).

        The copy is what makes the bound hold: an encoder's output may sit in a larger
        allocation than its length (orjson's held 2.6 times the bytes counted, on average,
        in the 100,000-person memory run of `make bench`).
        """
        if len(value) + ENTRY_OVERHEAD <= self._max_item:
            self._entries[key] = bytes(memoryview(value))

    @property
    def bytes_used(self) -> int:
        """Bytes counted against the bound."""
        return int(self._entries.currsize)


class LocalTokens:
    """Generation tokens kept in this process (when no Redis shares them).

    A token nobody asked for during two cache lifetimes is forgotten: every entry stamped
    with it has expired by then, and forgetting can only invalidate (a new random token
    is drawn), never revive. So memory follows the people seen lately, not everyone ever
    seen; MAX_LOCAL_GENERATIONS caps it even so (by starting afresh, as safe).
    """

    def __init__(self, period_s: float, clock: Callable[[], float]) -> None:
        self._period_s = period_s
        self._clock = clock
        self._current: dict[str, str] = {}
        self._previous: dict[str, str] = {}
        self._rotate_at = clock() + period_s

    def __len__(self) -> int:
        return len(self._current) + len(self._previous)

    def _rotate(self) -> None:
        now = self._clock()
        if now >= self._rotate_at:
            idle = now >= self._rotate_at + self._period_s  # a whole lifetime went unseen
            self._previous, self._current = ({} if idle else self._current), {}
            self._rotate_at = now + self._period_s
        if len(self._current) >= MAX_LOCAL_GENERATIONS:
            self._previous, self._current = {}, {}

    def get(self, key: str) -> str:
        """The key's token (a new one when it has none)."""
        self._rotate()
        found = self._current.get(key)
        if found is None:
            found = self._current[key] = self._previous.pop(key, "") or token()
        return found

    def replace(self, key: str) -> None:
        """A new token for the key."""
        self._rotate()
        self._previous.pop(key, None)
        self._current[key] = token()
