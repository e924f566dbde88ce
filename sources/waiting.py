"""Telling whoever admitted a request when it waits on an upstream, and when it is back.

The gateway caps the requests using its CPU, not the requests waiting on a sick
upstream: a municipality that hangs must not fill the cap and turn away citizens whose
upstreams are healthy. The gateway puts a `Waits` for each request in `WAITS` before
running it; every wait on an upstream (a call, or another request's identical call) is
wrapped in `waiting()`, which tells it. Without one set (tests, tools), nothing is told.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol


class Waits(Protocol):
    """One request's count of waits on upstreams in progress (it may have several)."""

    def park(self) -> None:
        """A wait began."""

    def unpark(self) -> None:
        """A wait ended."""


WAITS: ContextVar[Waits | None] = ContextVar("helsegraf_waits", default=None)


@contextmanager
def waiting() -> Iterator[None]:
    """The current request waits on an upstream while inside."""
    waits = WAITS.get()
    if waits is None:
        yield
        return
    waits.park()
    try:
        yield
    finally:
        waits.unpark()
