"""A closed-model load generator: `concurrency` workers, each sending its next request
when the previous one has answered, until the time is up or the requests run out.

It shares two cores with the gateway and the mocks, so it must cost far less per request
than the gateway: aiohttp's client on uvloop (httpx's pool cost several milliseconds of
CPU per request at concurrency 32 and capped every warm run near 200 requests per second,
whatever the gateway did).

Timestamps are taken on the system-wide monotonic clock, the same clock the mocks use
to record their calls (`/_mock/calls`), so upstream calls can be matched to requests.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

Request = tuple[str, dict[str, Any]]  # (bearer token, JSON body for POST /graphql)


@dataclass
class Outcome:
    """What one closed-model run saw."""

    completed: int = 0
    wall_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    spans: list[tuple[float, float]] = field(default_factory=list)  # (sent, answered)
    errors: Counter[str] = field(default_factory=Counter)  # error class -> count
    exhausted: bool = False  # the requests ran out before the time did

    @property
    def rps(self) -> float:
        """Completed requests per second of wall time."""
        return self.completed / self.wall_s if self.wall_s > 0 else 0.0


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile of `values` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))
    return ordered[rank]


def classify(status: int | None, body: bytes, error: BaseException | None) -> str | None:
    """None for a clean answer, else a short error class (`http:503`, `graphql:CODE`, ...)."""
    if error is not None or status is None:
        return f"transport:{type(error).__name__}"
    if status >= 400:
        return f"http:{status}"
    if b'"errors"' not in body:  # the common case, without decoding the answer
        return None
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "body:not-json"
    codes = sorted({e.get("extensions", {}).get("code", "?") for e in payload.get("errors") or []})
    return f"graphql:{','.join(codes)}" if codes else None


async def closed_run(
    url: str, requests: Iterator[Request], *, concurrency: int, seconds: float
) -> Outcome:
    """Run `concurrency` workers, one kept-alive connection each, over `requests` for
    `seconds` against the gateway at `url` (stragglers are awaited)."""
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as session:
        return await _run(session, requests, concurrency=concurrency, seconds=seconds)


async def _run(
    session: aiohttp.ClientSession,
    requests: Iterator[Request],
    *,
    concurrency: int,
    seconds: float,
) -> Outcome:
    outcome = Outcome()
    start = time.monotonic()
    deadline = start + seconds

    async def worker() -> None:
        while time.monotonic() < deadline:
            try:
                token, body = next(requests)
            except StopIteration:
                outcome.exhausted = True
                return
            headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
            data = orjson.dumps(body)
            sent = time.monotonic()
            status: int | None = None
            answer = b""
            error: BaseException | None = None
            try:
                async with session.post("/graphql", data=data, headers=headers) as response:
                    status = response.status
                    answer = await response.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = exc
            answered = time.monotonic()
            outcome.completed += 1
            outcome.latencies_ms.append((answered - sent) * 1000)
            outcome.spans.append((sent, answered))
            kind = classify(status, answer, error)
            if kind:
                outcome.errors[kind] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    outcome.wall_s = time.monotonic() - start
    return outcome


def busy_ms(intervals: list[tuple[float, float]]) -> float:
    """The length of the union of `intervals` (seconds in, milliseconds out)."""
    total = 0.0
    end = -math.inf
    for lo, hi in sorted(intervals):
        if hi <= end:
            continue
        total += hi - max(lo, end)
        end = hi
    return total * 1000


def critical_paths_ms(
    spans: list[tuple[float, float]], calls: list[tuple[float, float]]
) -> list[float]:
    """Per request span (concurrency 1: spans do not overlap), the time some upstream was
    busy with a call that started and ended within it."""
    ordered = sorted(calls)
    out: list[float] = []
    for sent, answered in sorted(spans):
        inside = [(lo, hi) for lo, hi in ordered if lo >= sent and hi <= answered]
        out.append(busy_ms(inside))
    return out
