"""Non-personal reference data (the EHR's practitioners and locations), kept per process
with two lifetimes, so that a directory that is down costs its labels, not their content.

A copy is *fresh* for `fresh_s` after it was fetched: it is used without asking the
upstream again. Past that the upstream is asked; when it answers, the answer replaces the
copy. When it fails (unavailable, timeout, open circuit, saturated, bad answer), a copy
younger than `stale_s` stands in and is served marked stale, with the time it was fetched
(`Copy.as_of`); older, or none, and the error is the caller's, as without this cache.

Only reference data is kept: entries are keyed by the kind of reference (one of
`REFERENCE_KINDS`) and its own id, never by who asked or whom it concerns, and another
kind is refused. A person's data (an appointment, a message, a result) has its own cache
(`sources.subject_cache`) and is never served past its lifetime; this one must never be
given any. Bounded in entries and in bytes (least recently used go first); a copy past
its stale bound is dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
from cachetools import TLRUCache

from sources.errors import UpstreamError, UpstreamNotFound

T = TypeVar("T")
Clock = Callable[[], dt.datetime]

REFERENCE_KINDS = frozenset({"Practitioner", "Location"})
ENTRY_OVERHEAD = 200  # bytes counted per entry besides its encoded value


@dataclass(frozen=True, slots=True)
class Copy(Generic[T]):
    """One reference record as served: when it was fetched from its upstream, and whether
    it stands in for a read that failed (served past its fresh lifetime)."""

    value: T
    as_of: dt.datetime
    stale: bool = False


def stands_in_for(error: BaseException) -> bool:
    """True when an older copy may be served instead of this failure: an upstream that
    failed, not one that answered that the thing does not exist."""
    return isinstance(error, UpstreamError) and not isinstance(error, UpstreamNotFound)


def utc_now() -> dt.datetime:
    """The current time (UTC), for a cache built without the gateway's clock."""
    return dt.datetime.now(dt.UTC)


class ReferenceCache:
    """Copies of reference records by (source, kind, id), shared by every request of the
    process. `max_entries=0` keeps nothing (caching off): copies are only stamped."""

    def __init__(
        self,
        *,
        fresh_s: float,
        stale_s: float,
        max_entries: int,
        max_bytes: int,
        clock: Clock = utc_now,
    ) -> None:
        if not 0 < fresh_s <= stale_s:
            raise ValueError("the stale bound must be at least the fresh lifetime (both > 0)")
        if max_entries < 0 or max_bytes < 0:
            raise ValueError("the bounds must not be negative")
        self.fresh_s = fresh_s
        self.stale_s = stale_s
        self.max_entries = max_entries
        self.clock = clock
        self._copies: TLRUCache[str, tuple[Copy[Any], int]] = TLRUCache(
            maxsize=max(max_bytes, 1),
            ttu=self._expires,
            timer=lambda: clock().timestamp(),
            getsizeof=lambda held: held[1],
        )
        self._max_item = max_bytes // 8  # one huge record may not evict everything
        self.hits = 0
        self.stale_served = 0

    @classmethod
    def off(cls, clock: Clock = utc_now) -> ReferenceCache:
        """A cache that keeps nothing (a request client built without the process's)."""
        return cls(fresh_s=1.0, stale_s=1.0, max_entries=0, max_bytes=0, clock=clock)

    def _expires(self, _key: str, held: tuple[Copy[Any], int], _now: float) -> float:
        return held[0].as_of.timestamp() + self.stale_s

    @staticmethod
    def _key(source: str, kind: str, ident: str) -> str:
        if kind not in REFERENCE_KINDS:
            raise ValueError(f"{kind} is not reference data")
        return f"{source}|{kind}|{ident}"

    def __len__(self) -> int:
        return len(self._copies)

    @property
    def bytes_used(self) -> int:
        """Bytes counted against the bound."""
        return int(self._copies.currsize)

    def fresh(self, source: str, kind: str, ident: str) -> Copy[Any] | None:
        """The copy, when fetched less than the fresh lifetime ago."""
        held = self._copies.get(self._key(source, kind, ident))
        if held is None or self._age(held[0]) >= self.fresh_s:
            return None
        self.hits += 1
        return held[0]

    def stale(self, source: str, kind: str, ident: str) -> Copy[Any] | None:
        """The copy, marked stale, when fetched less than the stale bound ago: to serve in
        place of a failed read."""
        held = self._copies.get(self._key(source, kind, ident))
        if held is None or self._age(held[0]) >= self.stale_s:
            return None
        self.stale_served += 1
        return Copy(held[0].value, held[0].as_of, stale=True)

    def keep(self, source: str, kind: str, ident: str, value: T) -> Copy[T]:
        """A copy of `value` fetched now, replacing any older one."""
        key = self._key(source, kind, ident)
        copy = Copy(value, self.clock())
        if self.max_entries == 0:
            return copy
        size = len(orjson.dumps(value)) + len(key) + ENTRY_OVERHEAD
        self._copies.pop(key, None)
        if size > self._max_item:
            return copy
        while len(self._copies) >= self.max_entries:
            self._copies.popitem()  # the least recently used
        self._copies[key] = (copy, size)
        return copy

    def forget(self, source: str, kind: str, ident: str) -> None:
        """Drop the copy: the upstream answered that the record no longer exists."""
        self._copies.pop(self._key(source, kind, ident), None)

    def _age(self, copy: Copy[Any]) -> float:
        return (self.clock() - copy.as_of).total_seconds()
