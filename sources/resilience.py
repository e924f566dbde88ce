"""Circuit breaker, retry budget and retry policy: how hard the gateway leans on an upstream.

Each `Upstream` owns one breaker and one budget, so one upstream's trouble never changes
how another is called. Clocks are injectable (monotonic seconds) so tests need no sleeps.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum

from sources.errors import UpstreamCircuitOpen

log = logging.getLogger("helsegraf.sources")

Clock = Callable[[], float]


class _Window:
    """Two counters over the last `window_s` seconds, kept in one-second buckets."""

    def __init__(self, window_s: float, clock: Clock) -> None:
        self._window_s = window_s
        self._clock = clock
        self._buckets: deque[list[int]] = deque()  # [second, first, second counter]

    def add(self, first: int = 0, second: int = 0) -> None:
        now = int(self._clock())
        self._expire(now)
        if not self._buckets or self._buckets[-1][0] != now:
            self._buckets.append([now, 0, 0])
        bucket = self._buckets[-1]
        bucket[1] += first
        bucket[2] += second

    def totals(self) -> tuple[int, int]:
        self._expire(int(self._clock()))
        return sum(b[1] for b in self._buckets), sum(b[2] for b in self._buckets)

    def clear(self) -> None:
        self._buckets.clear()

    def _expire(self, now: int) -> None:
        while self._buckets and self._buckets[0][0] <= now - self._window_s:
            self._buckets.popleft()


class BreakerState(StrEnum):
    """Where a circuit breaker stands."""

    CLOSED = "closed"  # calls flow; outcomes are counted
    OPEN = "open"  # calls fail at once until the cool-down has passed
    HALF_OPEN = "half-open"  # one probe call is let through; its outcome decides


class CircuitBreaker:
    """Opens when too many recent calls to one upstream failed, so callers fail fast.

    Closed, it counts outcomes over a rolling window; once at least `min_requests` calls
    ended there and `failure_ratio` of them failed, it opens. Open, every call raises
    `UpstreamCircuitOpen` until `cooldown_s` has passed; then one probe goes through
    (half-open). The probe's success closes the breaker, its failure opens it again.

    Example:
        breaker = CircuitBreaker("EHR", min_requests=10, cooldown_s=5)
        ticket = breaker.admit("search Observation")  # raises while open
        breaker.success(ticket)  # or breaker.failure(ticket) / breaker.release(ticket)
    """

    def __init__(
        self,
        name: str,
        *,
        failure_ratio: float = 0.5,
        min_requests: int = 20,
        window_s: float = 10.0,
        cooldown_s: float = 5.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if not 0 < failure_ratio <= 1:
            raise ValueError("failure_ratio must be in (0, 1]")
        self.name = name
        self._failure_ratio = failure_ratio
        self._min_requests = max(1, min_requests)
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._window = _Window(window_s, clock)  # (calls, failures)
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._probing = False
        # Outcomes of calls admitted under an earlier state are ignored: a slow call from
        # before the breaker opened must not pass for the half-open probe.
        self._generation = 0

    @property
    def state(self) -> BreakerState:
        """The current state (an open breaker whose cool-down has passed is half-open)."""
        if self._state is BreakerState.OPEN and self._cooled_down():
            return BreakerState.HALF_OPEN
        return self._state

    def admit(self, operation: str) -> int:
        """A ticket for one call, or `UpstreamCircuitOpen` when the call may not go out."""
        if self._state is BreakerState.OPEN:
            if not self._cooled_down():
                raise UpstreamCircuitOpen(self.name, operation, "circuit open")
            self._move(BreakerState.HALF_OPEN)
        if self._state is BreakerState.HALF_OPEN:
            if self._probing:
                raise UpstreamCircuitOpen(self.name, operation, "circuit half-open, probing")
            self._probing = True
        return self._generation

    def success(self, ticket: int) -> None:
        """The admitted call got an answer from the upstream."""
        if ticket != self._generation:
            return
        if self._state is BreakerState.HALF_OPEN:
            self._move(BreakerState.CLOSED)
            log.info("%s circuit closed: the probe succeeded", self.name)
        elif self._state is BreakerState.CLOSED:
            self._window.add(1, 0)

    def failure(self, ticket: int) -> None:
        """The admitted call failed in a way that says the upstream is unwell."""
        if ticket != self._generation:
            return
        if self._state is BreakerState.HALF_OPEN:
            self._open("the probe failed")
        elif self._state is BreakerState.CLOSED:
            self._window.add(1, 1)
            calls, failures = self._window.totals()
            if calls >= self._min_requests and failures >= self._failure_ratio * calls:
                self._open(f"{failures} of {calls} recent calls failed")

    def release(self, ticket: int) -> None:
        """The admitted call ended without a verdict (cancelled, or never sent)."""
        if ticket == self._generation and self._state is BreakerState.HALF_OPEN:
            self._probing = False

    def _open(self, why: str) -> None:
        self._move(BreakerState.OPEN)
        self._opened_at = self._clock()
        log.warning("%s circuit opened: %s", self.name, why)

    def _move(self, state: BreakerState) -> None:
        self._state = state
        self._generation += 1
        self._probing = False
        self._window.clear()

    def _cooled_down(self) -> bool:
        return self._clock() - self._opened_at >= self._cooldown_s


class RetryBudget:
    """Retries allowed to one upstream: at most `ratio` of its first attempts, over a window.

    Keeps retries from multiplying the load on an upstream that is already failing: a
    retry is admitted only while the retries in the window, this one included, stay within
    `ratio` times the first attempts in the same window, so the upstream sees at most
    `1 + ratio` calls per first attempt (1.2 at the default), at low traffic as at high.
    There is no fixed allowance on top: a quiet gateway retries only once it has made
    enough first attempts to pay for it (at the default, one retry per five calls).
    """

    def __init__(
        self,
        *,
        ratio: float = 0.2,
        window_s: float = 10.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if ratio < 0:
            raise ValueError("a retry budget's ratio must be >= 0")
        self._ratio = ratio
        self._window = _Window(window_s, clock)  # (calls, retries)

    def record_call(self) -> None:
        """A first attempt went out (retries are not counted here)."""
        self._window.add(1, 0)

    def try_retry(self) -> bool:
        """True, and the retry is spent, when the budget allows one more retry now."""
        calls, retries = self._window.totals()
        # the tolerance keeps a product such as 0.29 * 100 from falling just short of 29
        if retries + 1 > self._ratio * calls + 1e-9:
            return False
        self._window.add(0, 1)
        return True


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many attempts an idempotent read gets, and how long to wait between them."""

    attempts: int = 3  # in all, the first one included
    base_delay_s: float = 0.05
    max_delay_s: float = 1.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a retry policy needs at least one attempt")

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Exponential backoff with jitter before retry number `retry` (0-based)."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0**retry)
        return ceiling / 2 + rng.uniform(0, ceiling / 2)

    def delay(
        self,
        retry: int,
        *,
        retry_after_s: float | None,
        remaining_s: float,
        rng: random.Random,
    ) -> float | None:
        """The wait before retry number `retry`, or None when there should be none.

        None when the attempts are used up, or when the wait (`Retry-After` when the
        upstream sent one, else the backoff) would not end before the call's deadline.
        """
        if retry + 1 >= self.attempts:
            return None
        wait = retry_after_s if retry_after_s is not None else self.backoff(retry, rng)
        return wait if wait < remaining_s else None


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP-date)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())
